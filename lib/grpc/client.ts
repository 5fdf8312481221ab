/**
 * A promise and async-iterator client for RouteGuide: with
 * `target_list_resolver.ts` (lists of servers), the only code that knows
 * grpc-js on the client side.
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { Feature__Output as Feature } from "./generated/routeguide/Feature.ts";
import type { Point } from "./generated/routeguide/Point.ts";
import type { Rectangle } from "./generated/routeguide/Rectangle.ts";
import type { RouteGuideClient as GeneratedClient } from "./generated/routeguide/RouteGuide.ts";
import type { RouteNote, RouteNote__Output } from "./generated/routeguide/RouteNote.ts";
import type { RouteSummary__Output as RouteSummary } from "./generated/routeguide/RouteSummary.ts";
import type { ProtoGrpcType } from "./generated/route_guide.ts";
import { loadRouteGuidePackage, SERVICE_NAME } from "./proto.ts";
import { Code, RpcError } from "../core/rpc_error.ts";
import { isTargetList } from "./target_list.ts";
import { TARGET_LIST_POLICY, targetListUri } from "./target_list_resolver.ts";

export type { Feature, Point, Rectangle, RouteNote, RouteNote__Output, RouteSummary };

/** Options for one call. */
export interface RouteGuideCallOptions {
  /** Cancels the call when aborted; the call then fails with `CANCELLED`. */
  signal?: AbortSignal;
  /** When the call must be done: a `Date` or milliseconds since the epoch. */
  deadline?: Date | number;
}

/**
 * How a channel connects: made by {@linkcode tlsChannelCredentials}, or
 * any `ChannelCredentials` of grpc-js (`credentials.createInsecure()`).
 */
export type ChannelCredentials = object & {
  /** Marks the type; grpc-js's credentials objects fit it. */
  readonly __channelCredentials?: never;
};

/** grpc-js channel options, e.g. `{ "grpc.keepalive_time_ms": 10000 }`. */
export type ChannelOptions = Record<string, string | number>;

/** Options for {@linkcode createRouteGuideClient}. */
export interface RouteGuideClientOptions {
  /**
   * Channel credentials, e.g. `grpc.credentials.createSsl(ca)`.
   * @default {grpc.credentials.createInsecure()}
   */
  credentials?: ChannelCredentials;
  /**
   * Retry idempotent calls (GetFeature, and ListFeatures before its first
   * message) that fail with `UNAVAILABLE` or because their connection died,
   * with exponential backoff; never a status the server chose otherwise.
   * @default {true}
   */
  retry?: boolean;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

/** A RouteGuide client with promise and async-iterator methods. */
export interface RouteGuideClient {
  /** The feature at a point, or an unnamed feature echoing the point. */
  getFeature(point: Point, options?: RouteGuideCallOptions): Promise<Feature>;
  /** Every feature inside a rectangle; breaking out of the loop cancels the call. */
  listFeatures(rectangle: Rectangle, options?: RouteGuideCallOptions): AsyncIterable<Feature>;
  /** Sends the points of a route, then resolves to the server's summary. */
  recordRoute(
    points: Iterable<Point> | AsyncIterable<Point>,
    options?: RouteGuideCallOptions,
  ): Promise<RouteSummary>;
  /**
   * Sends notes and yields, for each, the earlier notes at its location;
   * replies arrive while notes are still being sent.
   */
  routeChat(
    notes: Iterable<RouteNote> | AsyncIterable<RouteNote>,
    options?: RouteGuideCallOptions,
  ): AsyncIterable<RouteNote__Output>;
  /** Resolves once connected; rejects with `UNAVAILABLE` when not connected by the deadline. */
  waitForReady(deadline: Date | number): Promise<void>;
  /** Closes the channel. */
  close(): void;
}

/**
 * The retry policy: bounded so that an unreachable server is reported in a
 * few seconds (5 attempts, 0.1 s doubling to at most 1 s apart). Only
 * `UNAVAILABLE`: a status a server chose (`INTERNAL` from a bug, say) is
 * final. A connection that died under a call is retried by the client
 * itself (see {@linkcode isTransportFailure}), since grpc-js sees only the
 * status code here.
 */
export const RETRY_SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [{
    name: [
      { service: SERVICE_NAME, method: "GetFeature" },
      { service: SERVICE_NAME, method: "ListFeatures" },
    ],
    retryPolicy: {
      maxAttempts: 5,
      initialBackoff: "0.1s",
      maxBackoff: "1s",
      backoffMultiplier: 2,
      retryableStatusCodes: ["UNAVAILABLE"],
    },
  }],
};

/** Converts a grpc-js error into an {@linkcode RpcError} carrying its code and details. */
export function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  const e = error as Partial<grpc.ServiceError>;
  if (typeof e?.code === "number") {
    return new RpcError(e.code as Code, e.details ?? e.message ?? "");
  }
  return new RpcError(Code.UNKNOWN, String((error as Error)?.message ?? error));
}

/** PEM bytes for a TLS connection; every field is optional. */
export interface TlsMaterial {
  /** CA bundle to trust instead of the system's. */
  ca?: Uint8Array;
  /** Client certificate chain, for servers that require one. */
  cert?: Uint8Array;
  /** The client certificate's private key. */
  key?: Uint8Array;
}

/** Channel credentials for TLS (and mutual TLS when `cert` and `key` are given). */
export function tlsChannelCredentials(tls: TlsMaterial = {}): ChannelCredentials {
  const buffer = (bytes: Uint8Array | undefined) =>
    bytes === undefined ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return grpc.credentials.createSsl(
    buffer(tls.ca),
    buffer(tls.key),
    buffer(tls.cert),
  ) as ChannelCredentials;
}

/** Retries after grpc-js's own: how many, and the first pause. */
const TRANSPORT_RETRIES = 3;
const TRANSPORT_BACKOFF_MS = 100;

/**
 * How grpc-js words a connection that failed under a call (`UNAVAILABLE`:
 * any such retry is safe for a read-only call, the code says so).
 */
const TRANSPORT_UNAVAILABLE = /Connection dropped|ECONNRESET|ETIMEDOUT|EPIPE/;
/**
 * The prefix grpc-js gives, as `INTERNAL`, a local HTTP/2 stream error it
 * got instead of a status from the server (Deno's node:http2 reports a dead
 * peer as `write EPIPE` this way). A server cannot send a status through
 * this path: its `INTERNAL` carries the server's own message.
 */
const TRANSPORT_INTERNAL =
  /^Received RST_STREAM with code \d+ triggered by internal client error: /;

/**
 * Whether a call failed because its connection died rather than because the
 * server answered with an error status. A server's own `INTERNAL` (or any
 * status it sent) is not a transport failure, whatever its message says.
 */
export function isTransportFailure(error: unknown): boolean {
  if (!(error instanceof RpcError)) return false;
  if (error.code === Code.UNAVAILABLE) return TRANSPORT_UNAVAILABLE.test(error.message);
  if (error.code === Code.INTERNAL) return TRANSPORT_INTERNAL.test(error.message);
  return false;
}

/** Whether a read-only call that failed this way may be tried again now. */
function mayRetry(
  error: unknown,
  attempt: number,
  opts: RouteGuideCallOptions | undefined,
): boolean {
  if (attempt >= TRANSPORT_RETRIES || opts?.signal?.aborted) return false;
  if (opts?.deadline !== undefined && new Date(opts.deadline).getTime() <= Date.now()) return false;
  return isTransportFailure(error);
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, TRANSPORT_BACKOFF_MS * 2 ** attempt));
}

/** Runs a read-only call, again after a transport failure (see {@linkcode mayRetry}). */
async function retryOnTransportError<T>(
  run: () => Promise<T>,
  opts: RouteGuideCallOptions | undefined,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!mayRetry(error, attempt, opts)) throw error;
    }
    await backoff(attempt);
  }
}

function callOptions(options: RouteGuideCallOptions | undefined): grpc.CallOptions {
  return options?.deadline === undefined ? {} : { deadline: options.deadline };
}

/** Cancels `call` when `signal` aborts; returns the function that stops listening. */
function linkSignal(call: { cancel(): void }, signal: AbortSignal | undefined): () => void {
  if (signal === undefined) return () => {};
  const cancel = () => call.cancel();
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
  return () => signal.removeEventListener("abort", cancel);
}

/** Writes every item to a grpc-js stream with flow control, then half-closes it. */
async function sendAll<T>(
  call: grpc.ClientWritableStream<T>,
  items: Iterable<T> | AsyncIterable<T>,
  stopped: () => boolean,
): Promise<void> {
  for await (const item of items) {
    if (stopped()) return;
    if (!call.write(item)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          call.off("drain", done);
          call.off("close", done);
          call.off("error", done);
          resolve();
        };
        call.on("drain", done);
        call.on("close", done);
        call.on("error", done);
      });
    }
  }
  if (!stopped()) call.end();
}

/** Reads a grpc-js response stream as an async iterable; stopping early cancels the call. */
async function* receiveAll<T>(
  call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>,
): AsyncGenerator<T> {
  try {
    for await (const message of call) yield message as T;
  } catch (error) {
    throw toRpcError(error);
  } finally {
    call.cancel();
  }
}

/**
 * Creates a client for the RouteGuide server at `target`: `host:port`,
 * `[::1]:port`, `dns:///name:port` (every address of one name), or a list of
 * servers `host1:port,host2:port` whose names are each resolved (and
 * resolved again when a connection fails). Calls go round robin over every
 * address; with TLS, each server's certificate is checked against the host
 * name it was listed under. Throws a `TypeError` naming a bad list entry.
 *
 * @example
 * ```ts
 * import { createRouteGuideClient } from "./client.ts";
 * import { createFeatureDb } from "../core/feature_index.ts";
 * import { serve } from "../server/serve.ts";
 * import assert from "node:assert/strict";
 * const server = await serve({
 *   db: createFeatureDb([{ name: "Here", location: { latitude: 1, longitude: 2 } }]).db,
 *   host: "127.0.0.1",
 *   port: 0,
 * });
 * const client = createRouteGuideClient(`127.0.0.1:${server.port}`);
 * const feature = await client.getFeature({ latitude: 1, longitude: 2 });
 * assert.equal(feature.name, "Here");
 * client.close();
 * await server.shutdown(1000);
 * ```
 */
export function createRouteGuideClient(
  target: string,
  options: RouteGuideClientOptions = {},
): RouteGuideClient {
  const proto = grpc.loadPackageDefinition(loadRouteGuidePackage()) as unknown as ProtoGrpcType;
  const channelOptions: grpc.ChannelOptions = {
    // Reconnect to a restarted server within the retry window (grpc-js
    // waits 1 s by default before the first reconnection attempt).
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 2000,
    ...options.channelOptions,
  };
  const retry = options.retry !== false;
  const list = isTargetList(target);
  // Round robin over every address, even without retries (grpc-js would
  // pick the first address only); a caller's own config wins then.
  const ownConfig = !retry && options.channelOptions?.["grpc.service_config"] !== undefined;
  if (!ownConfig) {
    channelOptions["grpc.service_config"] = JSON.stringify({
      loadBalancingConfig: [list ? { [TARGET_LIST_POLICY]: {} } : { round_robin: {} }],
      ...(retry ? { methodConfig: RETRY_SERVICE_CONFIG.methodConfig } : {}),
    });
  }
  const address = list ? targetListUri(target) : target;
  const client: GeneratedClient = new proto.routeguide.RouteGuide(
    address,
    (options.credentials as grpc.ChannelCredentials | undefined) ??
      grpc.credentials.createInsecure(),
    channelOptions,
  );

  const getFeatureOnce = (point: Point, opts: RouteGuideCallOptions | undefined) =>
    new Promise<Feature>((resolve, reject) => {
      const call = client.getFeature(point, callOptions(opts), (error, feature) => {
        unlink();
        if (error) reject(toRpcError(error));
        else resolve(feature!);
      });
      const unlink = linkSignal(call, opts?.signal);
    });

  return {
    getFeature(point, opts) {
      // A call whose connection died after its reply started is never
      // retried by grpc-js (it has committed); GetFeature only reads, so we
      // try it again while the deadline allows.
      if (!retry) return getFeatureOnce(point, opts);
      return retryOnTransportError(() => getFeatureOnce(point, opts), opts);
    },

    listFeatures(rectangle, opts) {
      return {
        async *[Symbol.asyncIterator]() {
          for (let attempt = 0;; attempt++) {
            const call = client.listFeatures(rectangle, callOptions(opts));
            const unlink = linkSignal(call, opts?.signal);
            let received = 0;
            try {
              for await (const feature of receiveAll(call)) {
                received++;
                yield feature;
              }
              return;
            } catch (error) {
              // Only before the first feature: after it, a retry would repeat features.
              if (!retry || received > 0 || !mayRetry(error, attempt, opts)) throw error;
            } finally {
              unlink();
            }
            await backoff(attempt);
          }
        },
      };
    },

    recordRoute(points, opts) {
      let finished = false;
      let unlink = () => {};
      let call: grpc.ClientWritableStream<Point>;
      const summary = new Promise<RouteSummary>((resolve, reject) => {
        call = client.recordRoute(callOptions(opts), (error, value) => {
          finished = true;
          unlink();
          if (error) reject(toRpcError(error));
          else resolve(value!);
        });
        unlink = linkSignal(call, opts?.signal);
      });
      const sending = sendAll(call!, points, () => finished).catch((error) => {
        call.cancel();
        throw error;
      });
      return Promise.all([summary, sending]).then(([value]) => value);
    },

    routeChat(notes, opts) {
      return {
        async *[Symbol.asyncIterator]() {
          const call = client.routeChat(callOptions(opts));
          const unlink = linkSignal(call, opts?.signal);
          let done = false;
          let sendError: unknown;
          const sending = sendAll(call, notes, () => done).catch((error) => {
            sendError = error;
            call.cancel();
          });
          try {
            yield* receiveAll(call);
            await sending;
          } catch (error) {
            throw sendError ?? error;
          } finally {
            done = true;
            unlink();
          }
        },
      };
    },

    waitForReady(deadline) {
      return new Promise((resolve, reject) => {
        client.waitForReady(deadline, (error) => {
          if (error) reject(new RpcError(Code.UNAVAILABLE, error.message));
          else resolve();
        });
      });
    },

    close() {
      client.close();
    },
  };
}
