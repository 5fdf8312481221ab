/**
 * The RouteGuide service's behaviour as plain async functions and async
 * iterables. Nothing here knows about gRPC libraries: the adapter in
 * `lib/grpc/adapter.ts` connects these handlers to the network.
 *
 * @module
 */

import type { Feature, FeatureDb } from "./feature_index.ts";
import {
  type E7Point,
  haversineMeters,
  normalizeRectangle,
  pointProblem,
  saturateInt32,
} from "./geo.ts";
import type { RouteNote, RouteNotesStore } from "./notes_store.ts";
import { Code, RpcError } from "./rpc_error.ts";

/** What every handler receives besides its request. */
export interface CallContext {
  /** Aborted when the client cancels, the deadline passes or the server gives up on the call. */
  signal: AbortSignal;
}

/** A `Point` as it arrives: fields may be missing, and a missing point reads as (0, 0). */
export type PointInput = Partial<E7Point> | null | undefined;

/** A `Rectangle` as it arrives. */
export interface RectangleInput {
  /** One corner. */
  lo?: PointInput;
  /** The opposite corner. */
  hi?: PointInput;
}

/** A `RouteNote` as it arrives. */
export interface RouteNoteInput {
  /** Where the note is left. */
  location?: PointInput;
  /** Its text. */
  message?: string | null;
}

/** The answer to RecordRoute, with the protobuf field names. */
export interface RouteSummary {
  /** Points received. */
  point_count: number;
  /** Points that fell on a named feature. */
  feature_count: number;
  /** Great-circle length of the route in whole metres. */
  distance: number;
  /** Whole seconds from the start of the call to the client's half-close. */
  elapsed_time: number;
}

/** The four RouteGuide methods, one plain function each. */
export interface RouteGuideHandlers {
  /** Unary: the feature at a point, or an unnamed feature echoing it. */
  getFeature(point: PointInput, ctx: CallContext): Promise<Feature>;
  /** Server streaming: every feature in a rectangle. */
  listFeatures(rectangle: RectangleInput, ctx: CallContext): AsyncIterable<Feature>;
  /** Client streaming: a summary of the route the points trace. */
  recordRoute(points: AsyncIterable<PointInput>, ctx: CallContext): Promise<RouteSummary>;
  /** Bidirectional: for each note, the earlier notes at its location. */
  routeChat(notes: AsyncIterable<RouteNoteInput>, ctx: CallContext): AsyncIterable<RouteNote>;
}

/** Options for {@linkcode createRouteGuideHandlers}. */
export interface RouteGuideHandlersOptions {
  /** The features to serve. */
  db: FeatureDb;
  /** Where RouteChat notes are kept. */
  notes: RouteNotesStore;
  /**
   * Longest RouteNote message accepted, in UTF-8 bytes; longer ones end the
   * call with `INVALID_ARGUMENT`.
   * @default {4096}
   */
  maxNoteBytes?: number;
  /**
   * Clock in milliseconds, for RecordRoute's elapsed time.
   * @default {performance.now}
   */
  now?: () => number;
}

/** Default for {@linkcode RouteGuideHandlersOptions.maxNoteBytes}. */
export const DEFAULT_MAX_NOTE_BYTES = 4096;

/**
 * Reads an incoming point, treating an unset point or field as 0 and
 * rejecting out-of-range values. `field` names the point in the error; a
 * function giving it is called only then, so a stream builds no name per
 * message.
 */
export function readPoint(point: PointInput, field: string | (() => string)): E7Point {
  const latitude = point?.latitude ?? 0;
  const longitude = point?.longitude ?? 0;
  const location = { latitude, longitude };
  if (pointProblem(location) !== undefined) {
    const name = typeof field === "string" ? field : field();
    throw new RpcError(Code.INVALID_ARGUMENT, pointProblem(location, name)!);
  }
  return location;
}

/**
 * Creates the RouteGuide handlers over a feature database and a notes store.
 *
 * @example
 * ```ts
 * import { createFeatureDb } from "./feature_index.ts";
 * import { createMemoryNotesStore } from "../notes/memory.ts";
 * import { createRouteGuideHandlers } from "./handlers.ts";
 * import assert from "node:assert/strict";
 * const { db } = createFeatureDb([
 *   { name: "Brooklyn Bridge", location: { latitude: 407061000, longitude: -739969000 } },
 * ]);
 * const handlers = createRouteGuideHandlers({ db, notes: createMemoryNotesStore() });
 * const ctx = { signal: new AbortController().signal };
 * const feature = await handlers.getFeature({ latitude: 407061000, longitude: -739969000 }, ctx);
 * assert.equal(feature.name, "Brooklyn Bridge");
 * ```
 */
export function createRouteGuideHandlers(options: RouteGuideHandlersOptions): RouteGuideHandlers {
  const { db, notes } = options;
  const maxNoteBytes = options.maxNoteBytes ?? DEFAULT_MAX_NOTE_BYTES;
  const now = options.now ?? (() => performance.now());
  const encoder = new TextEncoder();

  function isNamedFeature(point: E7Point): boolean {
    const i = db.indexOf(point.latitude, point.longitude);
    return i >= 0 && db.nameAt(i) !== "";
  }

  return {
    getFeature(request) {
      try {
        const point = readPoint(request, "");
        return Promise.resolve(db.get(point) ?? { name: "", location: point });
      } catch (error) {
        return Promise.reject(error);
      }
    },

    async *listFeatures(request, ctx) {
      const lo = readPoint(request.lo, "lo");
      const hi = readPoint(request.hi, "hi");
      for (const feature of db.within(normalizeRectangle(lo, hi))) {
        if (ctx.signal.aborted) return;
        yield feature;
      }
    },

    async recordRoute(points) {
      const started = now();
      let pointCount = 0;
      let featureCount = 0;
      let distance = 0;
      let previous: E7Point | undefined;
      const field = () => `point[${pointCount}]`;
      for await (const input of points) {
        const point = readPoint(input, field);
        pointCount++;
        if (isNamedFeature(point)) featureCount++;
        if (previous !== undefined) distance += haversineMeters(previous, point);
        previous = point;
      }
      return {
        point_count: saturateInt32(pointCount),
        feature_count: saturateInt32(featureCount),
        distance: saturateInt32(distance),
        elapsed_time: saturateInt32((now() - started) / 1000),
      };
    },

    async *routeChat(incoming, ctx) {
      const { signal } = ctx;
      // Pulled by hand so that a cancelled call neither reads nor stores
      // another note.
      const notesIn = incoming[Symbol.asyncIterator]();
      let index = 0;
      const field = () => `note[${index}].location`;
      try {
        for (; !signal.aborted; index++) {
          const next = await notesIn.next();
          if (next.done || signal.aborted) return;
          const input = next.value;
          const location = readPoint(input.location, field);
          const message = input.message ?? "";
          // UTF-8 needs at least one byte per UTF-16 unit and at most three.
          if (message.length * 3 > maxNoteBytes) {
            const bytes = encoder.encode(message).length;
            if (bytes > maxNoteBytes) {
              throw new RpcError(
                Code.INVALID_ARGUMENT,
                `note[${index}].message is too long: ${bytes} bytes, the limit is ${maxNoteBytes}`,
              );
            }
          }
          let earlier;
          try {
            earlier = await notes.exchange({ location, message });
          } catch (error) {
            // The store's own trouble (a database gone away, a lock held too
            // long): worth retrying later, so UNAVAILABLE rather than INTERNAL.
            throw new RpcError(
              Code.UNAVAILABLE,
              `note[${index}] was not exchanged: the notes store failed: ${
                (error as Error)?.message ?? error
              }`,
            );
          }
          for (const note of earlier) {
            if (signal.aborted) return;
            yield note;
          }
        }
      } finally {
        await notesIn.return?.();
      }
    },
  };
}
