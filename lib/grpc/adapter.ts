/**
 * The one module that connects the RouteGuide handlers to grpc-js on the
 * server side: one small wrapper per call kind (unary, server-streaming,
 * client-streaming, bidi) turns a grpc-js call into an async function over
 * async iterables (`lib/grpc/streams.ts`), with an `AbortSignal` for
 * cancellation and deadlines, and maps errors to status codes. Admission
 * (shutdown, limits) happens here; each admitted call's lifecycle is kept
 * by a {@linkcode CallRegistry} (`call_registry.ts`).
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import { type CallLifecycle, CallRegistry, type CallStatus } from "./call_registry.ts";
import type { Feature, FeatureDb } from "../core/feature_index.ts";
import { createFeatureBytes } from "./feature_bytes.ts";
import {
  type DecodedPoint,
  type DecodedRouteNote,
  pointDeserializer,
  routeNoteDeserializer,
} from "./request_decoders.ts";
import { endedMidMessage, TRUNCATED } from "./call_internals.ts";
import { readAll, writeAll } from "./streams.ts";
import { loadRouteGuidePackage } from "./proto.ts";
import type {
  CallContext,
  PointInput,
  RectangleInput,
  RouteGuideHandlers,
  RouteNoteInput,
  RouteSummary,
} from "../core/handlers.ts";
import type { RouteNote } from "../core/notes_store.ts";
import { Code, RpcError } from "../core/rpc_error.ts";

/** Options for {@linkcode bindRouteGuide}. */
export interface BindRouteGuideOptions {
  /**
   * Called with every error a handler throws that is not an `RpcError`;
   * such a call ends with `INTERNAL` and no details of the error.
   */
  onUnexpectedError?: (error: unknown, method: string) => void;
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
  /**
   * The handlers' feature database: when given, each of its features is
   * encoded once and its bytes reused by GetFeature and ListFeatures.
   */
  features?: FeatureDb;
}

/** The RouteGuide service bound to grpc-js, with control over its calls. */
export interface RouteGuideBinding {
  /** The service definition to pass to `grpc.Server.addService`. */
  readonly definition: grpc.ServiceDefinition;
  /** The implementation to pass to `grpc.Server.addService`. */
  readonly implementation: grpc.UntypedServiceImplementation;
  /** Calls that started and have not ended. */
  readonly inFlight: number;
  /** From now on, new calls end at once with `UNAVAILABLE`. */
  refuseNewCalls(): void;
  /** Resolves once no call is in flight, or when `signal` aborts. */
  idle(signal?: AbortSignal): Promise<void>;
  /** Ends every call in flight with `UNAVAILABLE` and aborts its handler; returns how many. */
  cancelAll(details: string): number;
}

/** A grpc-js server call, as admission reads it. */
type IncomingCall = NodeJS.EventEmitter & { metadata: grpc.Metadata };

const SHUTTING_DOWN: CallStatus = {
  code: Code.UNAVAILABLE,
  details: "the server is shutting down; retry on another server or later",
};

/** The size of metadata as sent: keys and values, in bytes. */
function sizeOf(metadata: grpc.Metadata): number {
  let bytes = 0;
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) bytes += key.length + value.length;
  }
  return bytes;
}

/** A cap on the calls of one method running at once. */
class ConcurrencyLimit {
  #running = 0;
  readonly #max: number;
  readonly #method: string;

  /** At most `max` calls of `method` at once. */
  constructor(max: number, method: string) {
    this.#max = max;
    this.#method = method;
  }

  /** The status that turns a call away when the cap is reached, else `undefined`. */
  refusal(): CallStatus | undefined {
    if (this.#running < this.#max) return undefined;
    return {
      code: Code.RESOURCE_EXHAUSTED,
      details: `too many ${this.#method} calls at once (limit ${this.#max}); retry later`,
    };
  }

  /** A call starts. */
  enter(): void {
    this.#running++;
  }

  /** A call ends. */
  leave(): void {
    this.#running--;
  }
}

/** Options for {@linkcode MethodCalls}. */
interface MethodCallsOptions {
  /** The calls in flight on the whole service. */
  registry: CallRegistry;
  /** The service's options. */
  bind: BindRouteGuideOptions;
  /** A cap on this method's calls at once. */
  limit?: ConcurrencyLimit;
}

/** How a call is admitted. */
interface AdmitOptions {
  /** Sends a status that ends the call. */
  sendStatus: (status: CallStatus) => void;
  /** The client already half-closed (unary and server-streaming calls start then). */
  requestComplete?: boolean;
}

/** The calls of one method: admits them or turns them away, and maps their errors to statuses. */
class MethodCalls {
  /** The method's name, as in the proto. */
  readonly name: string;
  readonly #options: MethodCallsOptions;

  /** The calls of method `name`. */
  constructor(name: string, options: MethodCallsOptions) {
    this.name = name;
    this.#options = options;
  }

  /** Registers a call and returns it, or sends the status that turns it away and returns `undefined`. */
  admit(call: IncomingCall, how: AdmitOptions): AdmittedCall | undefined {
    const refusal = this.#options.limit?.refusal() ?? this.#refusal(call, how.requestComplete);
    if (refusal !== undefined) {
      how.sendStatus(refusal);
      return undefined;
    }
    const lifecycle = this.#options.registry.admit(how.sendStatus);
    call.on("cancelled", () => lifecycle.clientCancelled());
    this.#options.limit?.enter();
    return new AdmittedCall(lifecycle, this);
  }

  /** The status that turns the call away, or `undefined` to admit it. */
  #refusal(call: IncomingCall, requestComplete = false): CallStatus | undefined {
    if (this.#options.registry.refusingNewCalls) return SHUTTING_DOWN;
    // Unary and server-streaming handlers start at the half-close, when a
    // cut-off last message is already known.
    if (requestComplete && endedMidMessage(call)) {
      return { code: Code.INTERNAL, details: TRUNCATED };
    }
    const bytes = sizeOf(call.metadata);
    const limit = this.#options.bind.maxMetadataBytes ?? 8192;
    if (bytes > limit) {
      return {
        code: Code.RESOURCE_EXHAUSTED,
        details: `request metadata is ${bytes} bytes, the limit is ${limit}`,
      };
    }
    return undefined;
  }

  /** The handler ended: its call leaves this method's cap. */
  ended(): void {
    this.#options.limit?.leave();
  }

  /** Turns what a handler threw into the status the client sees. */
  statusOf(error: unknown): CallStatus {
    if (error instanceof RpcError) return { code: error.code, details: error.message };
    this.#options.bind.onUnexpectedError?.(error, this.name);
    return { code: Code.INTERNAL, details: "internal error" };
  }
}

/** An admitted call: the context its handler gets, and how the handler's outcome goes out. */
class AdmittedCall {
  /** What the handler gets: the signal that aborts when the call ends early. */
  readonly ctx: CallContext;
  readonly #lifecycle: CallLifecycle;
  readonly #method: MethodCalls;

  /** An admitted call of `method`. */
  constructor(lifecycle: CallLifecycle, method: MethodCalls) {
    this.#lifecycle = lifecycle;
    this.#method = method;
    this.ctx = { signal: lifecycle.signal };
  }

  /** Sends the one reply `result` brings, or the status of its error, unless the call already ended. */
  reply<Res>(result: Promise<Res>, callback: grpc.sendUnaryData<Res>): void {
    this.#settleWhen(result, {
      done: (reply) => callback(null, reply),
      failed: (status) => callback(status),
    });
  }

  /** Ends `stream` once `written` settles (OK, or the status of its error), unless the call already ended. */
  endStream(
    written: Promise<void>,
    stream: { end(): void; emit(event: "error", status: CallStatus): void },
  ): void {
    this.#settleWhen(written, {
      done: () => stream.end(),
      failed: (status) => stream.emit("error", status),
    });
  }

  /** Settles the call with `outcome` once `result` settles. */
  #settleWhen<T>(
    result: Promise<T>,
    outcome: { done: (value: T) => void; failed: (status: CallStatus) => void },
  ): void {
    result.then(
      (value) => {
        this.#method.ended();
        this.#lifecycle.settle(() => outcome.done(value));
      },
      (error) => {
        this.#method.ended();
        this.#lifecycle.settle(() => outcome.failed(this.#method.statusOf(error)));
      },
    );
  }
}

/** A unary method: one request at the half-close, one reply. */
function unaryCall<Req, Res>(
  calls: MethodCalls,
  handle: (request: Req, ctx: CallContext) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const sendStatus = (status: CallStatus) => callback(status);
    const admitted = calls.admit(call, { sendStatus, requestComplete: true });
    if (admitted === undefined) return;
    admitted.reply(handle(call.request, admitted.ctx), callback);
  };
}

/** A server-streaming method: one request at the half-close, replies written with flow control. */
function serverStreamingCall<Req, Res>(
  calls: MethodCalls,
  handle: (request: Req, ctx: CallContext) => AsyncIterable<Res>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const sendStatus = (status: CallStatus) => call.emit("error", status);
    const admitted = calls.admit(call, { sendStatus, requestComplete: true });
    if (admitted === undefined) return;
    const { ctx } = admitted;
    admitted.endStream(writeAll(call, handle(call.request, ctx), ctx.signal), call);
  };
}

/** A client-streaming method: requests read as they come, one reply. */
function clientStreamingCall<Req, Res>(
  calls: MethodCalls,
  handle: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
): grpc.handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    const admitted = calls.admit(call, { sendStatus: (status) => callback(status) });
    if (admitted === undefined) return;
    const { ctx } = admitted;
    admitted.reply(handle(readAll<Req>(call, ctx.signal), ctx), callback);
  };
}

/** A bidi-streaming method: requests read as they come, replies written with flow control. */
function bidiStreamingCall<Req, Res>(
  calls: MethodCalls,
  handle: (requests: AsyncIterable<Req>, ctx: CallContext) => AsyncIterable<Res>,
): grpc.handleBidiStreamingCall<Req, Res> {
  return (call) => {
    const admitted = calls.admit(call, { sendStatus: (status) => call.emit("error", status) });
    if (admitted === undefined) return;
    const { ctx } = admitted;
    const replies = handle(readAll<Req>(call, ctx.signal), ctx);
    admitted.endStream(writeAll(call, replies, ctx.signal), call);
  };
}

/**
 * The RouteGuide service definition: its streamed requests read by the
 * decoders of `request_decoders.ts` (same objects, fewer made); with
 * `features`, its `Feature` replies use that database's encode-once
 * serializer (same bytes, made once).
 */
function serviceDefinition(features?: FeatureDb): grpc.ServiceDefinition {
  const pkg = grpc.loadPackageDefinition(loadRouteGuidePackage());
  const service = ((pkg.routeguide as grpc.GrpcObject)
    .RouteGuide as grpc.ServiceClientConstructor).service;
  const record = service.RecordRoute as grpc.MethodDefinition<DecodedPoint, unknown>;
  const chat = service.RouteChat as grpc.MethodDefinition<DecodedRouteNote, unknown>;
  const streams = {
    ...service,
    RecordRoute: { ...record, requestDeserialize: pointDeserializer(record.requestDeserialize) },
    RouteChat: { ...chat, requestDeserialize: routeNoteDeserializer(chat.requestDeserialize) },
  };
  if (features === undefined) return streams;
  const get = service.GetFeature as grpc.MethodDefinition<unknown, Feature>;
  const bytes = createFeatureBytes({ db: features, encode: get.responseSerialize });
  const encode = (feature: Feature) => bytes.encode(feature);
  return {
    ...streams,
    GetFeature: { ...get, responseSerialize: encode },
    ListFeatures: { ...service.ListFeatures, responseSerialize: encode },
  };
}

/**
 * Binds RouteGuide handlers to grpc-js.
 *
 * @example
 * ```ts
 * import * as grpc from "@grpc/grpc-js";
 * import { createFeatureDb } from "../core/feature_index.ts";
 * import { bindRouteGuide } from "./adapter.ts";
 * import { createMemoryNotesStore } from "../notes/memory.ts";
 * import { createRouteGuideHandlers } from "../core/handlers.ts";
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
  const registry = new CallRegistry();
  const calls = (name: string, limit?: ConcurrencyLimit) =>
    new MethodCalls(name, { registry, bind: options, limit });
  const lists = new ConcurrencyLimit(options.maxConcurrentLists ?? 64, "ListFeatures");
  const implementation: grpc.UntypedServiceImplementation = {
    GetFeature: unaryCall<PointInput, Feature>(
      calls("GetFeature"),
      (point, ctx) => handlers.getFeature(point, ctx),
    ),
    ListFeatures: serverStreamingCall<RectangleInput, Feature>(
      calls("ListFeatures", lists),
      (rectangle, ctx) => handlers.listFeatures(rectangle, ctx),
    ),
    RecordRoute: clientStreamingCall<PointInput, RouteSummary>(
      calls("RecordRoute"),
      (points, ctx) => handlers.recordRoute(points, ctx),
    ),
    RouteChat: bidiStreamingCall<RouteNoteInput, RouteNote>(
      calls("RouteChat"),
      (notes, ctx) => handlers.routeChat(notes, ctx),
    ),
  };
  return {
    definition: serviceDefinition(options.features),
    implementation,
    get inFlight() {
      return registry.size;
    },
    refuseNewCalls: () => registry.refuseNewCalls(),
    idle: (signal) => registry.idle(signal),
    cancelAll: (details) => registry.cancelAll(details),
  };
}
