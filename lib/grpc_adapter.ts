/**
 * The one module that connects the RouteGuide handlers to grpc-js on the
 * server side: it turns grpc-js calls into async functions and async
 * iterables, honours flow control (`'drain'`), turns cancellation and
 * deadlines into an `AbortSignal`, and maps errors to status codes.
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import type { Readable } from "node:stream";
import type { Feature } from "./feature_db.ts";
import { type BacklogTracker, createBacklogTracker, type Http2StreamLike } from "./deno_h2.ts";
import { loadRouteGuidePackage } from "./proto.ts";
import type {
  PointInput,
  RectangleInput,
  RouteGuideHandlers,
  RouteNoteInput,
  RouteSummary,
} from "./route_guide_service.ts";
import type { RouteNote } from "./route_notes.ts";
import { Code, RpcError } from "./rpc_error.ts";
import type { CallObserver } from "./telemetry.ts";

/** A gRPC status as grpc-js takes it from a handler. */
interface StatusError {
  code: number;
  details: string;
}

/** Options for {@linkcode bindRouteGuide}. */
export interface BindRouteGuideOptions {
  /**
   * Called with every error a handler throws that is not an `RpcError`;
   * such a call ends with `INTERNAL` and no details of the error.
   */
  onUnexpectedError?: (error: unknown, method: string) => void;
  /**
   * Most response bytes one stream may have waiting for a client that is
   * not reading; the handler pauses above this and resumes at half of it.
   * @default {262144}
   */
  maxQueuedBytesPerStream?: number;
  /**
   * Concurrent ListFeatures calls; more end at once with `RESOURCE_EXHAUSTED`.
   * @default {64}
   */
  maxConcurrentLists?: number;
  /**
   * Largest request metadata (keys and values, in bytes); more ends the
   * call with `RESOURCE_EXHAUSTED`.
   * @default {8192}
   */
  maxMetadataBytes?: number;
}

/** Default for {@linkcode BindRouteGuideOptions.maxQueuedBytesPerStream}. */
export const DEFAULT_MAX_QUEUED_BYTES_PER_STREAM = 256 * 1024;

/** The RouteGuide service bound to grpc-js, with control over its calls. */
export interface RouteGuideBinding {
  /** The service definition to pass to `grpc.Server.addService`. */
  readonly definition: grpc.ServiceDefinition;
  /** The implementation to pass to `grpc.Server.addService`. */
  readonly implementation: grpc.UntypedServiceImplementation;
  /** Calls that started and have not ended. */
  readonly inFlight: number;
  /** From now on, new calls end at once with `UNAVAILABLE`. */
  drain(): void;
  /** Resolves once no call is in flight, or when `signal` aborts. */
  idle(signal?: AbortSignal): Promise<void>;
  /** Ends every call in flight with `UNAVAILABLE` and aborts its handler; returns how many. */
  cancelAll(details: string): number;
}

/** One call in flight. */
interface ActiveCall {
  readonly controller: AbortController;
  /** Sends a status to the client (once), unless the client is gone. */
  fail(status: StatusError): void;
}

/** The abort reason of a call whose client went away (shared: no stack trace per call). */
const CANCELLED_BY_CLIENT = new RpcError(Code.CANCELLED, "cancelled by the client");

const SHUTTING_DOWN: StatusError = {
  code: Code.UNAVAILABLE,
  details: "the server is shutting down; retry on another server or later",
};

/** Turns what a handler threw into the status the client sees. */
function toStatus(
  error: unknown,
  method: string,
  onUnexpected?: (error: unknown, method: string) => void,
): StatusError {
  if (error instanceof RpcError) return { code: error.code, details: error.message };
  onUnexpected?.(error, method);
  return { code: Code.INTERNAL, details: "internal error" };
}

/** The size of metadata as sent: keys and values, in bytes. */
function sizeOf(metadata: grpc.Metadata): number {
  let bytes = 0;
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) bytes += key.length + value.length;
  }
  return bytes;
}

/** Resolves on the stream's next `'drain'`, or when the signal aborts. */
function drained(stream: NodeJS.EventEmitter, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    stream.on("drain", done);
    signal.addEventListener("abort", done);
  });
}

/** The innermost grpc-js call object, which owns the HTTP/2 stream and the message decoder. */
interface BaseCall {
  stream?: Http2StreamLike;
  decoder?: { readState?: number };
  nextCall?: unknown;
}

/**
 * The innermost link of a grpc-js server call. grpc-js keeps it private:
 * the call's interceptor chain (`call.call`, then `nextCall`) ends in the
 * object holding `stream` and `decoder`. `undefined` if grpc-js changes
 * shape.
 */
function baseCallOf(call: object): BaseCall | undefined {
  return baseCallFrom((call as { call?: unknown }).call as BaseCall | undefined);
}

/** The innermost link, starting the walk at an interceptor chain link. */
function baseCallFrom(start: BaseCall | undefined): BaseCall | undefined {
  let link = start;
  for (let depth = 0; link != null && depth < 16; depth++) {
    if (link.stream?.session != null) return link;
    link = link.nextCall as BaseCall | undefined;
  }
  return undefined;
}

/** The HTTP/2 stream under a grpc-js server call. */
function http2StreamOf(call: object): Http2StreamLike | undefined {
  return baseCallOf(call)?.stream;
}

/**
 * Whether the client's request stream ended in the middle of a message.
 * grpc-js drops such a partial message without a word (a RecordRoute would
 * report success on what arrived); gRPC servers in other languages answer
 * `INTERNAL`, and so do we.
 */
function endedMidMessage(call: object): boolean {
  const state = baseCallOf(call)?.decoder?.readState;
  return state !== undefined && state !== 0;
}

const TRUNCATED = "the request stream ended in the middle of a message";

/** The RST_STREAM code a client's cancel sends. */
const NGHTTP2_CANCEL = 8;

/**
 * Writes every message to a grpc-js stream with flow control: it waits for
 * `'drain'` whenever `write()` asks to and, where the runtime lets us see
 * it, while more than `maxQueued` bytes wait for a client that is not
 * reading (see `deno_h2.ts`).
 */
async function writeAll<T>(
  stream: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>,
  messages: AsyncIterable<T>,
  signal: AbortSignal,
  pacing: { tracker: BacklogTracker; maxQueued: number },
): Promise<void> {
  const backlog = (() => {
    const h2 = http2StreamOf(stream);
    return h2 === undefined ? undefined : pacing.tracker.track(h2);
  })();
  const { maxQueued } = pacing;
  try {
    for await (const message of messages) {
      if (signal.aborted) return;
      if (!stream.write(message)) {
        await drained(stream, signal);
        if (signal.aborted) return;
      }
      if (backlog !== undefined && backlog.queued > maxQueued) {
        await backlog.waitUntilAtMost(maxQueued / 2, signal);
        if (signal.aborted) return;
      }
    }
  } finally {
    backlog?.release();
  }
}

/**
 * Reads the messages of a grpc-js request stream as an async iterable.
 *
 * Unlike the stream's own iterator, stopping early does not destroy the
 * stream, so the call can still send its status. Throws `CANCELLED` when the
 * stream closes without the client's half-close.
 */
async function* readAll<T>(stream: Readable, signal: AbortSignal): AsyncGenerator<T> {
  // One set of listeners for the whole stream (not one per wait): each wakes the current wait.
  let wake: (() => void) | undefined;
  const done = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  stream.on("readable", done);
  stream.on("end", done);
  stream.on("close", done);
  signal.addEventListener("abort", done);
  try {
    while (true) {
      let message: T | null;
      while ((message = stream.read()) !== null) yield message;
      if (stream.readableEnded) {
        // A client's RST_STREAM also ends the stream on this runtime ('aborted',
        // then 'end', then 'close'); grpc-js takes that end for a half-close.
        const h2 = http2StreamOf(stream);
        if (h2?.aborted || (h2?.rstCode ?? 0) !== 0) {
          throw new RpcError(Code.CANCELLED, "the call was cancelled");
        }
        if (endedMidMessage(stream)) throw new RpcError(Code.INTERNAL, TRUNCATED);
        return;
      }
      if (stream.destroyed || signal.aborted) {
        throw new RpcError(Code.CANCELLED, "the call was cancelled");
      }
      await new Promise<void>((resolve) => wake = resolve);
    }
  } finally {
    stream.off("readable", done);
    stream.off("end", done);
    stream.off("close", done);
    signal.removeEventListener("abort", done);
  }
}

/**
 * Binds RouteGuide handlers to grpc-js.
 *
 * @example
 * ```ts
 * import * as grpc from "@grpc/grpc-js";
 * import { createFeatureDb } from "./feature_db.ts";
 * import { bindRouteGuide } from "./grpc_adapter.ts";
 * import { createMemoryNotesStore } from "./route_notes.ts";
 * import { createRouteGuideHandlers } from "./route_guide_service.ts";
 * const handlers = createRouteGuideHandlers({
 *   db: createFeatureDb([]).db,
 *   notes: createMemoryNotesStore(),
 * });
 * const binding = bindRouteGuide(handlers);
 * const server = new grpc.Server();
 * server.addService(binding.definition, binding.implementation);
 * ```
 */
export function bindRouteGuide(
  handlers: RouteGuideHandlers,
  options: BindRouteGuideOptions = {},
): RouteGuideBinding {
  const active = new Set<ActiveCall>();
  const maxMetadataBytes = options.maxMetadataBytes ?? 8192;
  const maxConcurrentLists = options.maxConcurrentLists ?? 64;
  let lists = 0;
  const pacing = {
    tracker: createBacklogTracker(),
    maxQueued: options.maxQueuedBytesPerStream ?? DEFAULT_MAX_QUEUED_BYTES_PER_STREAM,
  };
  const idleWaiters = new Set<() => void>();
  let draining = false;

  /**
   * Registers a call. Returns its context and `settle`, which runs the
   * completion (reply, end or error) once, unless the client has gone or
   * the call was already ended by {@linkcode RouteGuideBinding.cancelAll}.
   */
  function begin(
    call: NodeJS.EventEmitter & { cancelled: boolean; metadata: grpc.Metadata },
    send: (status: StatusError) => void,
    requestComplete = false,
  ) {
    const controller = new AbortController();
    let finished = false;
    let clientGone = false;
    const entry: ActiveCall = {
      controller,
      fail(status) {
        if (finished) return;
        finished = true;
        if (!clientGone) send(status);
      },
    };
    const settle = (complete: () => void) => {
      active.delete(entry);
      if (active.size === 0) { for (const wake of idleWaiters) wake(); }
      if (finished) return;
      finished = true;
      if (!clientGone && !controller.signal.aborted) complete();
    };
    call.on("cancelled", () => {
      clientGone = true;
      // grpc-js also reports a cancel when the stream closes after a call
      // ended normally; only a call still running needs its handler stopped.
      if (active.has(entry)) controller.abort(CANCELLED_BY_CLIENT);
    });
    if (draining) {
      finished = true;
      send(SHUTTING_DOWN);
      return undefined;
    }
    // Unary and server-streaming handlers start at the half-close, when a
    // cut-off last message is already known.
    if (requestComplete && endedMidMessage(call)) {
      finished = true;
      send({ code: Code.INTERNAL, details: TRUNCATED });
      return undefined;
    }
    const metadataBytes = sizeOf(call.metadata);
    if (metadataBytes > maxMetadataBytes) {
      finished = true;
      send({
        code: Code.RESOURCE_EXHAUSTED,
        details: `request metadata is ${metadataBytes} bytes, the limit is ${maxMetadataBytes}`,
      });
      return undefined;
    }
    active.add(entry);
    return { ctx: { signal: controller.signal }, settle };
  }

  const fail = (method: string, error: unknown) =>
    toStatus(error, method, options.onUnexpectedError);

  const implementation: grpc.UntypedServiceImplementation = {
    GetFeature(
      call: grpc.ServerUnaryCall<PointInput, Feature>,
      callback: grpc.sendUnaryData<Feature>,
    ) {
      const started = begin(call, (status) => callback(status), true);
      if (started === undefined) return;
      handlers.getFeature(call.request, started.ctx).then(
        (feature) => started.settle(() => callback(null, feature)),
        (error) => started.settle(() => callback(fail("GetFeature", error))),
      );
    },

    ListFeatures(call: grpc.ServerWritableStream<RectangleInput, Feature>) {
      const reply = (status: StatusError) => call.emit("error", status);
      if (lists >= maxConcurrentLists) {
        reply({
          code: Code.RESOURCE_EXHAUSTED,
          details: `too many ListFeatures calls at once (limit ${maxConcurrentLists}); retry later`,
        });
        return;
      }
      const started = begin(call, reply, true);
      if (started === undefined) return;
      lists++;
      const { signal } = started.ctx;
      writeAll(call, handlers.listFeatures(call.request, started.ctx), signal, pacing)
        .finally(() => lists--)
        .then(
          () => started.settle(() => call.end()),
          (error) => started.settle(() => call.emit("error", fail("ListFeatures", error))),
        );
    },

    RecordRoute(
      call: grpc.ServerReadableStream<PointInput, RouteSummary>,
      callback: grpc.sendUnaryData<RouteSummary>,
    ) {
      const started = begin(call, (status) => callback(status));
      if (started === undefined) return;
      const { signal } = started.ctx;
      handlers.recordRoute(readAll<PointInput>(call, signal), started.ctx).then(
        (summary) => started.settle(() => callback(null, summary)),
        (error) => started.settle(() => callback(fail("RecordRoute", error))),
      );
    },

    RouteChat(call: grpc.ServerDuplexStream<RouteNoteInput, RouteNote>) {
      const started = begin(call, (status) => call.emit("error", status));
      if (started === undefined) return;
      const { signal } = started.ctx;
      const replies = handlers.routeChat(readAll<RouteNoteInput>(call, signal), started.ctx);
      writeAll(call, replies, signal, pacing).then(
        () => started.settle(() => call.end()),
        (error) => started.settle(() => call.emit("error", fail("RouteChat", error))),
      );
    },
  };

  const pkg = grpc.loadPackageDefinition(loadRouteGuidePackage());
  const definition = (pkg.routeguide as grpc.GrpcObject)
    .RouteGuide as grpc.ServiceClientConstructor;

  return {
    definition: definition.service,
    implementation,
    get inFlight() {
      return active.size;
    },
    drain() {
      draining = true;
    },
    idle(signal) {
      if (active.size === 0 || signal?.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const wake = () => {
          idleWaiters.delete(wake);
          signal?.removeEventListener("abort", wake);
          resolve();
        };
        idleWaiters.add(wake);
        signal?.addEventListener("abort", wake);
      });
    },
    cancelAll(details) {
      const calls = [...active];
      for (const call of calls) {
        call.fail({ code: Code.UNAVAILABLE, details });
        call.controller.abort(new RpcError(Code.UNAVAILABLE, details));
      }
      return calls.length;
    },
  };
}

/**
 * A grpc-js server interceptor that reports every call (any service) to an
 * observer when its status is sent, or when the client goes away first.
 *
 * @example
 * ```ts
 * import * as grpc from "@grpc/grpc-js";
 * import { observeCalls } from "./grpc_adapter.ts";
 * import { createCallObserver, createLogger } from "./telemetry.ts";
 * const server = new grpc.Server({
 *   interceptors: [observeCalls(createCallObserver(createLogger({ level: "info" })))],
 * });
 * server.forceShutdown();
 * ```
 */
export function observeCalls(observer: CallObserver): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const observation = observer.start(descriptor.path, call.getPeer());
    // grpc-js also reports a cancel when the stream closes after the status
    // went out; from then on the stream's close decides (below).
    let statusSent = false;
    const listener = new grpc.ServerListenerBuilder()
      .withOnCancel(() => {
        if (statusSent) return;
        // grpc-js ends an expired call below the interceptors, so the status
        // is never seen here; the deadline tells which it was.
        const deadline = call.getDeadline();
        const expired = deadline instanceof Date
          ? deadline.getTime() <= Date.now()
          : deadline !== Infinity && deadline <= Date.now();
        observation.end(
          expired ? Code.DEADLINE_EXCEEDED : Code.CANCELLED,
          expired ? "deadline exceeded" : "cancelled by the client",
        );
      })
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        statusSent = true;
        next(status);
        // A client that cancels while a reply is on its way resets the
        // stream; the status that counts is the one the stream closed with.
        const h2 = baseCallFrom(call as BaseCall)?.stream;
        if (h2 === undefined || h2.closed) {
          observation.end(status.code, status.details);
          return;
        }
        h2.once("close", () => {
          if (h2.rstCode === NGHTTP2_CANCEL) {
            observation.end(Code.CANCELLED, "cancelled by the client");
          } else {
            observation.end(status.code, status.details);
          }
        });
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
