/**
 * `lib/grpc/adapter.ts` in process, without a socket: each method's
 * implementation called with a stand-in for grpc-js's call object, to check
 * admission (shutdown, metadata size, a request cut off mid-message, the
 * ListFeatures cap), how handler outcomes and errors go out, and the
 * binding's control over calls in flight. Status codes are gRPC's
 * (doc/statuscodes.md): CANCELLED 1, RESOURCE_EXHAUSTED 8, INTERNAL 13,
 * UNAVAILABLE 14.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { Readable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { bindRouteGuide, type BindRouteGuideOptions } from "../../lib/grpc/adapter.ts";
import { loadRouteGuidePackage } from "../../lib/grpc/proto.ts";
import type { CallContext, RouteGuideHandlers } from "../../lib/core/handlers.ts";
import { RpcError } from "../../lib/core/rpc_error.ts";

const CANCELLED = 1;
const RESOURCE_EXHAUSTED = 8;
const INTERNAL = 13;
const UNAVAILABLE = 14;

/** A status as grpc-js gets it from the adapter. */
interface Status {
  code: number;
  details: string;
}

/** A promise with its settle functions outside. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** grpc-js's private call chain, as far as the adapter reads it: a decoder `readState` (0: between messages). */
function internals(readState: number) {
  return { stream: { session: {} }, decoder: { readState } };
}

/** A unary or server-streaming call as grpc-js hands it to a handler. */
class FakeCall extends EventEmitter {
  metadata = new grpc.Metadata();
  request: unknown = { latitude: 1, longitude: 2 };
  call?: unknown;
  written: unknown[] = [];
  ended = 0;
  errors: Status[] = [];

  /** `readState` other than 0: the request was cut off mid-message. */
  constructor(readState = 0) {
    super();
    this.call = internals(readState);
    this.on("error", (status: Status) => this.errors.push(status));
  }

  write(message: unknown): boolean {
    this.written.push(message);
    return true;
  }

  end(): void {
    this.ended++;
  }
}

/** A client-streaming or bidi call: a readable request stream with `write`/`end` for replies. */
function streamingCall(messages: unknown[], readState = 0) {
  const stream = new Readable({ objectMode: true, read() {} });
  for (const message of messages) stream.push(message);
  stream.push(null);
  const written: unknown[] = [];
  const errors: Status[] = [];
  let ended = 0;
  stream.on("error", (status: Status) => errors.push(status));
  const call = Object.assign(stream, {
    metadata: new grpc.Metadata(),
    call: internals(readState),
    write(message: unknown) {
      written.push(message);
      return true;
    },
    end() {
      ended++;
      return call;
    },
  });
  return { call, written, errors, ended: () => ended };
}

/** What a unary or client-streaming callback was given. */
function callbackOf() {
  const calls: { error: Status | null; reply?: unknown }[] = [];
  const first = deferred<void>();
  const callback = (error: Status | null, reply?: unknown) => {
    calls.push(reply === undefined ? { error } : { error, reply });
    first.resolve();
  };
  return { callback, calls, first: first.promise };
}

/** Handlers that record what they got and whose outcomes the test controls. */
function controlledHandlers() {
  const contexts: CallContext[] = [];
  const requests: unknown[] = [];
  const replies: ReturnType<typeof deferred<unknown>>[] = [];
  const next = () => {
    const d = deferred<unknown>();
    replies.push(d);
    return d.promise;
  };
  const handlers: RouteGuideHandlers = {
    getFeature: (point, ctx) => {
      contexts.push(ctx);
      requests.push(point);
      return next() as never;
    },
    async *listFeatures(rectangle, ctx) {
      contexts.push(ctx);
      requests.push(rectangle);
      const items = await next() as unknown[];
      for (const item of items) yield item as never;
    },
    recordRoute: async (points, ctx) => {
      contexts.push(ctx);
      for await (const point of points) requests.push(point);
      return await next() as never;
    },
    async *routeChat(notes, ctx) {
      contexts.push(ctx);
      for await (const note of notes) requests.push(note);
      const items = await next() as unknown[];
      for (const item of items) yield item as never;
    },
  };
  return { handlers, contexts, requests, replies };
}

/** Lets pending promise reactions and stream events run. */
function settleAll(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The binding and its four method implementations, typed loosely for stand-in calls. */
function bind(handlers: RouteGuideHandlers, options?: BindRouteGuideOptions) {
  const binding = bindRouteGuide(handlers, options);
  const impl = binding.implementation as Record<string, (...args: unknown[]) => void>;
  return { binding, impl };
}

/** Waits until `n` handler calls started. */
async function started(contexts: unknown[], n: number): Promise<void> {
  for (let i = 0; i < 100 && contexts.length < n; i++) await settleAll();
  assert.equal(contexts.length, n, "handlers started");
}

Deno.test("adapter: GetFeature's reply goes to the callback once, and the call is in flight until then", async () => {
  const { handlers, contexts, requests, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  const call = new FakeCall();
  const { callback, calls, first } = callbackOf();
  impl.GetFeature(call, callback);
  assert.equal(binding.inFlight, 1);
  assert.deepEqual(requests, [{ latitude: 1, longitude: 2 }]);
  assert.equal(contexts[0].signal.aborted, false);
  replies[0].resolve({ name: "A" });
  await first;
  assert.deepEqual(calls, [{ error: null, reply: { name: "A" } }]);
  assert.equal(binding.inFlight, 0);
  await binding.idle();
});

Deno.test("adapter: an RpcError keeps its code and message; any other error is INTERNAL 'internal error', reported with the method's name", async () => {
  const { handlers, replies } = controlledHandlers();
  const unexpected: [unknown, string][] = [];
  const { impl } = bind(handlers, { onUnexpectedError: (e, m) => unexpected.push([e, m]) });
  const a = callbackOf();
  impl.GetFeature(new FakeCall(), a.callback);
  replies[0].reject(new RpcError(5, "no such thing"));
  await a.first;
  assert.equal(a.calls[0].error?.code, 5);
  assert.equal(a.calls[0].error?.details, "no such thing");
  assert.equal(unexpected.length, 0, "an RpcError is no unexpected error");

  const b = callbackOf();
  impl.GetFeature(new FakeCall(), b.callback);
  const secret = new Error("secret path /etc/x");
  replies[1].reject(secret);
  await b.first;
  assert.deepEqual(b.calls[0].error, { code: INTERNAL, details: "internal error" });
  assert.deepEqual(unexpected, [[secret, "GetFeature"]]);

  // The other three methods name themselves too.
  const list = new FakeCall();
  impl.ListFeatures(list);
  const route = streamingCall([]);
  const r = callbackOf();
  impl.RecordRoute(route.call, r.callback);
  const chat = streamingCall([]);
  impl.RouteChat(chat.call);
  await started(replies, 5);
  for (const reply of replies.slice(2)) reply.reject(new TypeError("bug"));
  await r.first;
  for (let i = 0; i < 100 && (list.errors.length === 0 || chat.errors.length === 0); i++) {
    await settleAll();
  }
  assert.deepEqual(list.errors, [{ code: INTERNAL, details: "internal error" }]);
  assert.deepEqual(chat.errors, [{ code: INTERNAL, details: "internal error" }]);
  assert.deepEqual(r.calls[0].error, { code: INTERNAL, details: "internal error" });
  assert.deepEqual(
    unexpected.slice(1).map(([, method]) => method).sort(),
    ["ListFeatures", "RecordRoute", "RouteChat"],
  );
  assert.equal(list.ended, 0, "a failed stream is not ended as OK");
});

Deno.test("adapter: without onUnexpectedError a handler's bug is still INTERNAL", async () => {
  const { handlers, replies } = controlledHandlers();
  const { impl } = bind(handlers);
  const a = callbackOf();
  impl.GetFeature(new FakeCall(), a.callback);
  replies[0].reject(new Error("bug"));
  await a.first;
  assert.deepEqual(a.calls[0].error, { code: INTERNAL, details: "internal error" });
});

Deno.test("adapter: ListFeatures writes each reply, then ends the stream", async () => {
  const { handlers, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  const call = new FakeCall();
  impl.ListFeatures(call);
  await started(replies, 1);
  replies[0].resolve([{ name: "A" }, { name: "B" }]);
  await binding.idle();
  await settleAll();
  assert.deepEqual(call.written, [{ name: "A" }, { name: "B" }]);
  assert.equal(call.ended, 1);
  assert.deepEqual(call.errors, []);
});

Deno.test("adapter: RecordRoute and RouteChat read the request stream; RouteChat writes its replies", async () => {
  const { handlers, requests, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  const route = streamingCall([{ latitude: 1 }, { latitude: 2 }]);
  const r = callbackOf();
  impl.RecordRoute(route.call, r.callback);
  await started(replies, 1);
  replies[0].resolve({ point_count: 2 });
  await r.first;
  assert.deepEqual(r.calls, [{ error: null, reply: { point_count: 2 } }]);

  const chat = streamingCall([{ message: "hi" }]);
  impl.RouteChat(chat.call);
  await started(replies, 2);
  replies[1].resolve([{ message: "earlier" }]);
  await binding.idle();
  await settleAll();
  assert.deepEqual(requests, [{ latitude: 1 }, { latitude: 2 }, { message: "hi" }]);
  assert.deepEqual(chat.written, [{ message: "earlier" }]);
  assert.equal(chat.ended(), 1);
});

Deno.test("adapter: request metadata over 8192 bytes (keys and values, each value counted) is RESOURCE_EXHAUSTED naming both sizes", async () => {
  const { handlers, requests, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  // "x-pad" is 5 bytes: 5 + 8187 = 8192, at the limit.
  const atLimit = new FakeCall();
  atLimit.metadata.set("x-pad", "v".repeat(8187));
  const a = callbackOf();
  impl.GetFeature(atLimit, a.callback);
  assert.equal(a.calls.length, 0, "8192 bytes are admitted");
  assert.equal(requests.length, 1);

  // Two values of one key: (5 + 4094) * 2 = 8198.
  const over = new FakeCall();
  over.metadata.add("x-pad", "v".repeat(4094));
  over.metadata.add("x-pad", "v".repeat(4094));
  const b = callbackOf();
  impl.GetFeature(over, b.callback);
  assert.equal(b.calls[0].error?.code, RESOURCE_EXHAUSTED);
  assert.match(b.calls[0].error!.details, /8198 bytes.*8192/);
  assert.equal(requests.length, 1, "the handler never ran");
  assert.equal(binding.inFlight, 1);
  replies[0].resolve({ name: "" });
  await binding.idle();
});

Deno.test("adapter: maxMetadataBytes sets the metadata limit, for every method", () => {
  const { handlers, requests } = controlledHandlers();
  const { impl } = bind(handlers, { maxMetadataBytes: 10 });
  const ok = new FakeCall();
  ok.metadata.set("ab", "12345678"); // 10 bytes
  impl.GetFeature(ok, callbackOf().callback);
  assert.equal(requests.length, 1);
  const list = new FakeCall();
  list.metadata.set("ab", "123456789"); // 11 bytes
  impl.ListFeatures(list);
  assert.equal(list.errors[0]?.code, RESOURCE_EXHAUSTED);
  assert.match(list.errors[0].details, /11 bytes.*10/);
  const chat = streamingCall([]);
  chat.call.metadata.set("ab", "123456789");
  impl.RouteChat(chat.call);
  assert.equal(chat.errors[0]?.code, RESOURCE_EXHAUSTED);
  const route = streamingCall([]);
  route.call.metadata.set("ab", "123456789");
  const r = callbackOf();
  impl.RecordRoute(route.call, r.callback);
  assert.equal(r.calls[0]?.error?.code, RESOURCE_EXHAUSTED);
});

Deno.test("adapter: a unary or server-streaming request cut off mid-message is INTERNAL before the handler runs; streaming requests start mid-message freely", async () => {
  const { handlers, contexts } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  const a = callbackOf();
  impl.GetFeature(new FakeCall(1), a.callback);
  assert.equal(a.calls[0]?.error?.code, INTERNAL);
  assert.match(a.calls[0].error!.details, /middle of a message/);
  const list = new FakeCall(2);
  impl.ListFeatures(list);
  assert.equal(list.errors[0]?.code, INTERNAL);
  assert.equal(contexts.length, 0);
  assert.equal(binding.inFlight, 0);

  // Client-streaming and bidi handlers start before the half-close, often with a message arriving.
  const r = callbackOf();
  impl.RecordRoute(streamingCall([], 1).call, r.callback);
  const chat = streamingCall([], 1);
  impl.RouteChat(chat.call);
  assert.equal(binding.inFlight, 2);
  assert.equal(r.calls.length, 0);
  assert.deepEqual(chat.errors, []);
  binding.cancelAll("test over");
  await binding.idle();
});

Deno.test("adapter: after refuseNewCalls every method answers UNAVAILABLE at once; calls in flight go on and idle() waits for them", async () => {
  const { handlers, contexts, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  const running = callbackOf();
  impl.GetFeature(new FakeCall(), running.callback);
  binding.refuseNewCalls();

  const a = callbackOf();
  impl.GetFeature(new FakeCall(), a.callback);
  const list = new FakeCall();
  impl.ListFeatures(list);
  const r = callbackOf();
  impl.RecordRoute(streamingCall([]).call, r.callback);
  const chat = streamingCall([]);
  impl.RouteChat(chat.call);
  for (const status of [a.calls[0]?.error, list.errors[0], r.calls[0]?.error, chat.errors[0]]) {
    assert.equal(status?.code, UNAVAILABLE);
    assert.match(status!.details, /shutting down/);
  }
  assert.equal(contexts.length, 1, "only the call admitted before runs");
  assert.equal(binding.inFlight, 1);

  // What the reply callback had seen when idle() resolved: it must wait for the call's end.
  const idled = binding.idle().then(() => running.calls.length);
  replies[0].resolve({ name: "late" });
  assert.equal(await idled, 1, "idle() resolved before the call in flight ended");
  assert.deepEqual(running.calls, [{ error: null, reply: { name: "late" } }]);
});

Deno.test("adapter: idle(signal) resolves when the signal aborts, with a call still in flight", async () => {
  const { handlers } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  impl.GetFeature(new FakeCall(), callbackOf().callback);
  const stop = new AbortController();
  const idled = binding.idle(stop.signal);
  stop.abort();
  await idled;
  assert.equal(binding.inFlight, 1);
});

Deno.test("adapter: cancelAll ends each call in flight with UNAVAILABLE and its details, aborts its handler and drops its late outcome", async () => {
  const { handlers, contexts, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  const a = callbackOf();
  impl.GetFeature(new FakeCall(), a.callback);
  const list = new FakeCall();
  impl.ListFeatures(list);
  await started(contexts, 2);
  assert.equal(binding.cancelAll("going away"), 2);
  assert.deepEqual(a.calls, [{ error: { code: UNAVAILABLE, details: "going away" } }]);
  assert.deepEqual(list.errors, [{ code: UNAVAILABLE, details: "going away" }]);
  assert.ok(contexts.every((ctx) => ctx.signal.aborted));
  assert.equal(binding.inFlight, 2, "their handlers have not ended");
  replies[0].resolve({ name: "too late" });
  replies[1].resolve([{ name: "too late" }]);
  await binding.idle();
  await settleAll();
  assert.equal(a.calls.length, 1, "no second outcome");
  assert.deepEqual(list.written, []);
  assert.equal(list.ended, 0);
  assert.equal(binding.cancelAll("again"), 0);
});

Deno.test("adapter: a client's cancel aborts the handler's signal, and its outcome is not sent", async () => {
  const { handlers, contexts, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  const call = new FakeCall();
  const a = callbackOf();
  impl.GetFeature(call, a.callback);
  call.emit("cancelled");
  assert.ok(contexts[0].signal.aborted);
  assert.equal((contexts[0].signal.reason as RpcError).code, CANCELLED);
  replies[0].resolve({ name: "unheard" });
  await binding.idle();
  await settleAll();
  assert.deepEqual(a.calls, []);
});

Deno.test("adapter: maxConcurrentLists caps ListFeatures at once (RESOURCE_EXHAUSTED naming the limit); a call that ends, well or not, frees its place", async () => {
  const { handlers, contexts, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers, { maxConcurrentLists: 2 });
  const lists = [new FakeCall(), new FakeCall()];
  for (const call of lists) impl.ListFeatures(call);
  const third = new FakeCall();
  impl.ListFeatures(third);
  assert.equal(third.errors[0]?.code, RESOURCE_EXHAUSTED);
  assert.match(third.errors[0].details, /limit 2/);
  // A refused call takes no place: the two first are the only ones.
  await started(contexts, 2);
  // Other methods are not capped.
  for (let i = 0; i < 3; i++) impl.GetFeature(new FakeCall(), callbackOf().callback);
  assert.equal(binding.inFlight, 5);

  replies[0].resolve([]);
  await started(contexts, 5);
  await settleAll();
  assert.equal(lists[0].ended, 1);
  const fourth = new FakeCall();
  impl.ListFeatures(fourth);
  assert.deepEqual(fourth.errors, [], "the place of a call that ended is free");
  const fifth = new FakeCall();
  impl.ListFeatures(fifth);
  assert.equal(fifth.errors[0]?.code, RESOURCE_EXHAUSTED, "and only one place");

  replies[1].reject(new RpcError(3, "bad rectangle"));
  await started(contexts, 6);
  for (let i = 0; i < 100 && lists[1].errors.length === 0; i++) await settleAll();
  assert.equal(lists[1].errors[0]?.code, 3);
  const sixth = new FakeCall();
  impl.ListFeatures(sixth);
  assert.deepEqual(sixth.errors, [], "a failed call frees its place too");
  const seventh = new FakeCall();
  impl.ListFeatures(seventh);
  assert.equal(seventh.errors[0]?.code, RESOURCE_EXHAUSTED, "and only its place");
  await started(replies, 7);
  for (const reply of replies) reply.resolve([]);
  await binding.idle();
});

Deno.test("adapter: ListFeatures' default cap is 64 calls at once", async () => {
  const { handlers, replies } = controlledHandlers();
  const { binding, impl } = bind(handlers);
  const calls = Array.from({ length: 65 }, () => new FakeCall());
  for (const call of calls) impl.ListFeatures(call);
  assert.deepEqual(calls.slice(0, 64).flatMap((call) => call.errors), []);
  assert.equal(calls[64].errors[0]?.code, RESOURCE_EXHAUSTED);
  assert.match(calls[64].errors[0].details, /limit 64/);
  await started(replies, 64);
  for (const reply of replies) reply.resolve([]);
  await binding.idle();
});

Deno.test("adapter: without features the definition is the proto's own service", () => {
  const { handlers } = controlledHandlers();
  const pkg = grpc.loadPackageDefinition(loadRouteGuidePackage());
  const service = ((pkg.routeguide as grpc.GrpcObject)
    .RouteGuide as grpc.ServiceClientConstructor).service;
  const { definition } = bindRouteGuide(handlers);
  assert.deepEqual(Object.keys(definition).sort(), Object.keys(service).sort());
  for (const method of Object.keys(service)) {
    assert.equal(definition[method].path, service[method].path);
    assert.equal(
      String(definition[method].responseSerialize),
      String(service[method].responseSerialize),
    );
  }
});
