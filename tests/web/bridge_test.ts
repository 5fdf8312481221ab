/**
 * The bridge against the real grpc-js (a test service): metadata both ways,
 * trailers, errors, deadlines, cancellation and backpressure, as each
 * protocol carries them.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  type CallStatus,
  GrpcBridgeStream,
  type GrpcHeaders,
  type Metadata,
  metadataOf,
  type RequestDecoder,
  requestMetadata,
  startBridge,
  statusOf,
  type WebResponder,
} from "../../lib/web/bridge.ts";
import { createWebHandler } from "../../lib/web/handler.ts";
import { createGrpcJsonResponder } from "../../lib/web/grpc_json.ts";
import { fakeExchange, type FakeRequest } from "./_exchange.ts";
import { startEcho } from "./_echo.ts";
import { envelope, envelopes, parseTrailerBlock } from "./_http.ts";
import { waitFor, within } from "../_async.ts";

/** Lets the event loop turn `n` times (timers and I/O included). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Serves one fake exchange through the web handler and the echo server. */
function serveOne(
  echo: ReturnType<typeof startEcho>,
  request: FakeRequest,
  maxMessageBytes?: number,
) {
  const handler = createWebHandler({
    dispatch: echo.dispatch,
    methods: echo.methods,
    maxMessageBytes,
    compressMinBytes: 0,
  });
  const fake = fakeExchange(request);
  handler(fake.exchange);
  return fake;
}

Deno.test("gRPC-Web: custom and -bin metadata reach the call; response headers and trailers come back, trailers in the 0x80 frame", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Unary",
    headers: {
      "content-type": "application/grpc-web+proto",
      "x-custom": "hello",
      "x-data-bin": Buffer.from([1, 2, 255]).toString("base64"),
      "routeguide-web-protocol": "forged",
    },
    body: [envelope(0, "ping")],
  });
  const answer = await within(fake.answer, 5000, "the answer");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["content-type"], "application/grpc-web+proto");
  assert.deepEqual(answer.headers["x-echo"], ["hello"]);
  assert.deepEqual(answer.headers["x-echo-bin"], [Buffer.from([1, 2, 255]).toString("base64")]);
  // The bridge's own protocol label, never the client's.
  assert.deepEqual(answer.headers["x-protocol"], ["grpc-web+proto HTTP/2"]);
  const frames = envelopes(answer.body);
  assert.deepEqual(frames.map((f) => f.flags), [0, 0x80]);
  assert.equal(new TextDecoder().decode(frames[0].data), "ping");
  const trailers = parseTrailerBlock(frames[1].data);
  assert.equal(trailers["grpc-status"], "0");
  assert.equal(trailers["x-trail"], "t");
});

Deno.test("gRPC-Web: an error's status, percent-encoded message and trailers go in the trailers frame with HTTP 200", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Fail",
    headers: { "content-type": "application/grpc-web" },
    body: [envelope(0, "x")],
  });
  const answer = await within(fake.answer, 5000, "the answer");
  assert.equal(answer.status, 200);
  const frames = envelopes(answer.body);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].flags, 0x80);
  const trailers = parseTrailerBlock(frames[0].data);
  assert.equal(trailers["grpc-status"], "3");
  assert.equal(trailers["grpc-message"], "bad thing: 100%25");
  assert.equal(trailers["x-trail"], "t");
});

Deno.test("Connect unary: response headers as headers, trailers as trailer- headers", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/json", "x-custom": "hi" },
    body: ['{"a":', "1}"],
  });
  const answer = await within(fake.answer, 5000, "the answer");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["content-type"], "application/json");
  assert.deepEqual(answer.headers["x-echo"], ["hi"]);
  assert.deepEqual(answer.headers["trailer-x-trail"], ["t"]);
  assert.equal(answer.text(), '{"a":1}');
  assert.equal(answer.headers["content-length"], "7");
});

Deno.test("Connect unary: an error is JSON {code, message} with the spec's HTTP status, trailers as trailer- headers", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Fail",
    headers: { "content-type": "application/proto" },
    body: ["x"],
  });
  const answer = await within(fake.answer, 5000, "the answer");
  assert.equal(answer.status, 400);
  assert.equal(answer.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(answer.text()), {
    code: "invalid_argument",
    message: "bad thing: 100%",
  });
  assert.deepEqual(answer.headers["trailer-x-trail"], ["t"]);
});

Deno.test("Connect streaming: the end-of-stream message (flag 0x02) carries the error and the trailers", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Fail",
    headers: { "content-type": "application/connect+proto" },
    body: [envelope(0, "x")],
  });
  const answer = await within(fake.answer, 5000, "the answer");
  assert.equal(answer.status, 200);
  const frames = envelopes(answer.body);
  assert.deepEqual(frames.map((f) => f.flags), [0x02]);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(frames[0].data)), {
    error: { code: "invalid_argument", message: "bad thing: 100%" },
    metadata: { "x-trail": ["t"] },
  });
});

Deno.test("gRPC+JSON: the status goes in real trailers", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/grpc+json" },
    body: [envelope(0, "{}")],
  });
  const answer = await within(fake.answer, 5000, "the answer");
  assert.equal(answer.headers["content-type"], "application/grpc+json");
  assert.equal(answer.trailers?.["grpc-status"], "0");
  assert.deepEqual(answer.trailers?.["x-trail"], ["t"]);
  assert.deepEqual(envelopes(answer.body).map((f) => new TextDecoder().decode(f.data)), ["{}"]);
});

Deno.test("connect-timeout-ms is the call's deadline: deadline_exceeded with HTTP 504", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Wait",
    headers: { "content-type": "application/proto", "connect-timeout-ms": "50" },
    body: ["x"],
  });
  const answer = await within(fake.answer, 5000, "the answer");
  assert.equal(answer.status, 504);
  assert.equal(JSON.parse(answer.text()).code, "deadline_exceeded");
});

Deno.test("a deadline the exchange can keep is kept by it: grpc-js gets no grpc-timeout, and at the deadline the call is cancelled and answered deadline_exceeded", async () => {
  for (
    const [headers, ms] of [
      [{ "content-type": "application/proto", "connect-timeout-ms": "60000" }, 60_000],
      [{ "content-type": "application/grpc-web+proto", "grpc-timeout": "2M" }, 120_000],
    ] as const
  ) {
    using echo = startEcho();
    const seen: { headers?: Record<string, unknown>; stream?: { callDeadline?: number } } = {};
    const handler = createWebHandler({
      dispatch: (stream, h) => {
        Object.assign(seen, { headers: h, stream });
        echo.dispatch(stream, h);
      },
      methods: echo.methods,
    });
    const body = headers["content-type"] === "application/proto" ? "x" : envelope(0, "x");
    const fake = fakeExchange({ path: "/test.Echo/Wait", headers, body: [body] });
    const kept: { ms: number; expire: () => void }[] = [];
    const exchange = {
      ...fake.exchange,
      expireAfter: (ms: number, expire: () => void) => void kept.push({ ms, expire }),
    };
    const before = Date.now();
    handler(exchange);
    assert.equal(
      seen.headers?.["grpc-timeout"],
      undefined,
      "grpc-js must not set a timer of its own",
    );
    assert.deepEqual(kept.map((k) => k.ms), [ms]);
    // The call log reads the deadline from the stream.
    const deadline = seen.stream?.callDeadline ?? Infinity;
    assert.ok(
      deadline >= before + ms && deadline <= Date.now() + ms,
      `callDeadline ${deadline - before}`,
    );
    await turns(3);
    kept[0].expire();
    const answer = await within(fake.answer, 5000, "the answer");
    await within(echo.cancelled, 5000, "grpc-js cancelling the call");
    if (headers["content-type"] === "application/proto") {
      assert.equal(answer.status, 504);
      assert.deepEqual(JSON.parse(answer.text()), {
        code: "deadline_exceeded",
        message: "Deadline exceeded",
      });
    } else {
      const trailers = parseTrailerBlock(envelopes(answer.body).pop()!.data);
      assert.equal(trailers["grpc-status"], "4");
    }
  }
});

Deno.test("a malformed connect-timeout-ms is invalid_argument naming the header", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/proto", "connect-timeout-ms": "soon" },
    body: ["x"],
  });
  const answer = await within(fake.answer, 5000, "the answer");
  assert.equal(answer.status, 400);
  assert.match(JSON.parse(answer.text()).message, /connect-timeout-ms.*"soon"/);
});

Deno.test("a client that goes away cancels the grpc-js call", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Wait",
    headers: { "content-type": "application/grpc-web" },
    body: [envelope(0, "x")],
  });
  // The call has started once grpc-js saw its metadata.
  await waitFor(() => echo.lastMetadata() !== undefined, "the call to start");
  fake.disconnect();
  await within(echo.cancelled, 5000, "grpc-js's cancel");
});

Deno.test("write callbacks follow the exchange's: grpc-js writes the next message only after the last was sent", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Stream",
    headers: { "content-type": "application/grpc-web" },
    body: [envelope(0, new Uint8Array([5]))],
    holdWrites: true,
  });
  await waitFor(() => fake.writes.length > 0, "the first write");
  // Everything grpc-js could do without the callback happens within a few turns.
  await turns(20);
  assert.equal(fake.writes.length, 1, "grpc-js went on writing before the first write was done");
  const timer = setInterval(() => fake.release(), 5);
  try {
    const done = await within(fake.answer, 5000, "the answer");
    assert.equal(envelopes(done.body).length, 6);
  } finally {
    clearInterval(timer);
  }
});

Deno.test("bidi over gRPC-Web: each message is answered as it arrives, before the body ends", async () => {
  using echo = startEcho();
  const fake = serveOne(echo, {
    path: "/test.Echo/Bidi",
    headers: { "content-type": "application/grpc-web" },
    body: [envelope(0, "one")],
    holdBody: true,
  });
  await waitFor(() => fake.writes.length > 0, "the first answer");
  assert.equal(new TextDecoder().decode(envelopes(fake.writes[0])[0].data), "one");
  fake.send(envelope(0, "two"));
  fake.send(undefined);
  const answer = await within(fake.answer, 5000, "the answer");
  assert.deepEqual(
    envelopes(answer.body).map((f) => new TextDecoder().decode(f.data)),
    ["one", "two", "grpc-status: 0\r\ngrpc-message: OK\r\n"],
  );
});

Deno.test("gzip both ways: gRPC-Web (grpc-encoding, flag 0x01), Connect unary (content-encoding), Connect streaming (connect-content-encoding)", async () => {
  using echo = startEcho();
  const payload = "a message worth compressing ".repeat(20);
  const web = await serveOne(echo, {
    path: "/test.Echo/Unary",
    headers: {
      "content-type": "application/grpc-web",
      "grpc-encoding": "gzip",
      "grpc-accept-encoding": "gzip",
    },
    body: [envelope(1, gzipSync(payload))],
  }).answer;
  assert.equal(web.headers["grpc-encoding"], "gzip");
  const message = envelopes(web.body)[0];
  assert.equal(message.flags, 1);
  assert.equal(gunzipSync(message.data).toString(), payload);

  const unary = await serveOne(echo, {
    path: "/test.Echo/Unary",
    headers: {
      "content-type": "application/proto",
      "content-encoding": "gzip",
      "accept-encoding": "gzip, br",
    },
    body: [gzipSync(payload)],
  }).answer;
  assert.equal(unary.status, 200);
  assert.equal(unary.headers["content-encoding"], "gzip");
  assert.equal(gunzipSync(unary.body).toString(), payload);

  const stream = await serveOne(echo, {
    path: "/test.Echo/Bidi",
    headers: {
      "content-type": "application/connect+proto",
      "connect-content-encoding": "gzip",
      "connect-accept-encoding": "gzip",
    },
    body: [envelope(1, gzipSync(payload))],
  }).answer;
  assert.equal(stream.headers["connect-content-encoding"], "gzip");
  const frames = envelopes(stream.body);
  assert.equal(frames[0].flags, 1);
  assert.equal(gunzipSync(frames[0].data).toString(), payload);
  assert.equal(frames[1].flags, 2);
});

Deno.test("a gzip bomb is refused with resource_exhausted: the limit applies after decompression", async () => {
  using echo = startEcho();
  const bomb = gzipSync(new Uint8Array(8 * 1024 * 1024));
  assert.ok(bomb.length < 64 * 1024);
  const unary = await serveOne(echo, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/proto", "content-encoding": "gzip" },
    body: [bomb],
  }, 1024 * 1024).answer;
  assert.equal(unary.status, 429);
  assert.equal(JSON.parse(unary.text()).code, "resource_exhausted");
  const web = await serveOne(echo, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/grpc-web", "grpc-encoding": "gzip" },
    body: [envelope(1, bomb)],
  }, 1024 * 1024).answer;
  assert.equal(parseTrailerBlock(envelopes(web.body)[0].data)["grpc-status"], "8");
});

/**
 * A google.rpc.Status (code 3, message "bad", one detail: an Any of type
 * google.rpc.ErrorInfo holding bytes 0x0a 0x01 0x78), by hand from status.proto and any.proto.
 */
function statusWithDetail(): Uint8Array {
  const typeUrl = new TextEncoder().encode("type.googleapis.com/google.rpc.ErrorInfo");
  const value = [0x0a, 0x01, 0x78];
  const any = [0x0a, typeUrl.length, ...typeUrl, 0x12, value.length, ...value];
  return new Uint8Array([
    0x08,
    3,
    0x12,
    3,
    ...new TextEncoder().encode("bad"),
    0x1a,
    any.length,
    ...any,
  ]);
}

Deno.test("grpc-status-details-bin: passed through in gRPC-Web's trailers, Connect's details in the error JSON", async () => {
  using echo = startEcho();
  const bin = Buffer.from(statusWithDetail()).toString("base64");
  const web = await serveOne(echo, {
    path: "/test.Echo/Fail",
    headers: { "content-type": "application/grpc-web", "x-details-bin": bin },
    body: [envelope(0, "x")],
  }).answer;
  const trailers = parseTrailerBlock(envelopes(web.body)[0].data);
  assert.deepEqual(
    Buffer.from(trailers["grpc-status-details-bin"], "base64"),
    Buffer.from(statusWithDetail()),
  );
  const connect = await serveOne(echo, {
    path: "/test.Echo/Fail",
    headers: { "content-type": "application/json", "x-details-bin": bin },
    body: ["{}"],
  }).answer;
  const error = JSON.parse(connect.text());
  assert.equal(error.details.length, 1);
  assert.equal(error.details[0].type, "google.rpc.ErrorInfo");
  assert.deepEqual(Buffer.from(error.details[0].value, "base64"), Buffer.from([0x0a, 0x01, 0x78]));
});

// The bridge's own pieces, without grpc-js: statusOf and metadataOf as grpc-js's headers and
// trailers reach them, and GrpcBridgeStream driven as grpc-js drives a node:http2 stream.

Deno.test("metadataOf: undefined values and protocol headers are left out; names that differ in case merge, lower case", () => {
  assert.deepEqual(
    metadataOf({
      "X-A": "1",
      "x-a": ["2", "3"],
      "x-n": 5,
      "x-u": undefined,
      "grpc-status": "0",
      "Content-Type": "application/grpc",
    }),
    { "x-a": ["1", "2", "3"], "x-n": ["5"] },
  );
});

Deno.test("statusOf: a code outside 0..16 or not an integer is UNKNOWN (2); the message is decoded, kept as is when its escapes are bad, empty when absent", () => {
  // The gRPC status codes are 0 (OK) to 16 (UNAUTHENTICATED): doc/statuscodes.md.
  assert.deepEqual(statusOf({ "grpc-status": "16" }), {
    code: 16,
    message: "",
    detailsBin: undefined,
  });
  assert.equal(statusOf({ "grpc-status": "0" }).code, 0);
  for (const bad of ["17", "-1", "1.5", "x"]) {
    assert.equal(statusOf({ "grpc-status": bad }).code, 2, `grpc-status ${bad}`);
  }
  assert.equal(statusOf({}).code, 2);
  assert.equal(statusOf({ "grpc-status": "3", "grpc-message": "a%20b" }).message, "a b");
  assert.equal(statusOf({ "grpc-status": "3", "grpc-message": "100%" }).message, "100%");
  assert.equal(statusOf({ "grpc-status-details-bin": "CAM=" }).detailsBin, "CAM=");
  assert.equal(statusOf({ "grpc-status-details-bin": ["CAM=", "CAM="] }).detailsBin, undefined);
});

/** What a bridge stream told its responder. */
interface Told {
  headers: Metadata[];
  messages: Uint8Array[];
  ends: { status: CallStatus; trailers: Metadata }[];
}

/** A responder that records what it is told (each message done at once). */
function recorder(): { responder: WebResponder; told: Told } {
  const told: Told = { headers: [], messages: [], ends: [] };
  const responder: WebResponder = {
    headers: (metadata) => void told.headers.push(metadata),
    message(bytes, done) {
      told.messages.push(bytes);
      done();
    },
    end: (status, trailers) => void told.ends.push({ status, trailers }),
  };
  return { responder, told };
}

/** A decoder that makes each body piece one message (or throws `error` for a piece "bad"). */
function pieceDecoder(error?: unknown): RequestDecoder {
  return {
    push(chunk, out) {
      if (new TextDecoder().decode(chunk) === "bad") throw error;
      out(chunk);
    },
    end() {},
  };
}

/** The messages in the gRPC envelopes of `data` events, as text. */
function dataOf(stream: GrpcBridgeStream): string[] {
  const seen: string[] = [];
  stream.on("data", (chunk: Uint8Array) => {
    for (const frame of envelopes(chunk)) seen.push(new TextDecoder().decode(frame.data));
  });
  return seen;
}

/** Resolves when `stream` emits `event`. */
function next(stream: GrpcBridgeStream, event: string): Promise<void> {
  return new Promise((resolve) => stream.once(event, () => resolve()));
}

Deno.test("GrpcBridgeStream: paused and not aborted at first; resume() reads the body and hands grpc-js each message in a gRPC envelope, then 'end'", async () => {
  const fake = fakeExchange({ path: "/p", body: ["one", "two"] });
  const { responder, told } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  assert.equal(stream.aborted, false);
  assert.equal(stream.isPaused(), true);
  const seen = dataOf(stream);
  const ended = next(stream, "end");
  stream.resume();
  assert.equal(stream.isPaused(), false);
  await within(ended, 5000, "'end'");
  assert.deepEqual(seen, ["one", "two"]);
  assert.deepEqual(told.ends, []);
  assert.equal(stream.pause().isPaused(), true);
});

Deno.test("GrpcBridgeStream: messages given first (Connect GET's) come before any body; without a decoder the stream ends after them", async () => {
  const fake = fakeExchange({ path: "/p", body: ["never read"] });
  const { responder, told } = recorder();
  const encode = (text: string) => new TextEncoder().encode(text);
  const stream = new GrpcBridgeStream(fake.exchange, {
    responder,
    initial: [encode("first"), encode("second")],
  });
  const seen = dataOf(stream);
  const ended = next(stream, "end");
  stream.resume();
  await within(ended, 5000, "'end'");
  assert.deepEqual(seen, ["first", "second"]);
  assert.deepEqual(told.ends, [], "no error answered");
});

Deno.test("GrpcBridgeStream: an exchange aborted before the call cancels it: 'aborted', then 'close' with RST_STREAM CANCEL (8)", async () => {
  const fake = fakeExchange({ path: "/p" });
  fake.disconnect();
  const { responder } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  let aborts = 0;
  stream.on("aborted", () => aborts++);
  await within(next(stream, "close"), 5000, "'close'");
  assert.equal(aborts, 1);
  assert.equal(stream.aborted, true);
  assert.equal(stream.rstCode, 8);
  assert.equal(stream.closed, true);
});

for (const how of ["close", "destroy"] as const) {
  Deno.test(`GrpcBridgeStream: ${how}() cancels the call (RST_STREAM CANCEL, 8) and answers nothing`, async () => {
    const fake = fakeExchange({ path: "/p" });
    const { responder, told } = recorder();
    const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
    const closed = next(stream, "close");
    if (how === "close") stream.close(8);
    else stream.destroy(new Error("gone"));
    await within(closed, 5000, "'close'");
    assert.equal(stream.aborted, true);
    assert.equal(stream.rstCode, 8);
    assert.equal(stream.destroyed, true);
    assert.deepEqual(told.ends, []);
  });
}

Deno.test("GrpcBridgeStream: end() without waitForTrailers is status OK with an empty message; a write after it returns false and its callback gets an error", async () => {
  const fake = fakeExchange({ path: "/p" });
  const { responder, told } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  stream.respond({ ":status": 200, "x-h": "v" });
  assert.deepEqual(told.headers, [{ "x-h": ["v"] }]);
  stream.end();
  assert.deepEqual(told.ends, [{ status: { code: 0, message: "" }, trailers: {} }]);
  assert.equal(stream.rstCode, 0);
  const error = await new Promise<Error | null | undefined>((resolve) => {
    assert.equal(stream.write(envelope(0, "late"), resolve), false);
  });
  assert.ok(error instanceof Error);
  assert.equal(told.messages.length, 0);
});

Deno.test("GrpcBridgeStream: each message reaches grpc-js as it arrives while flowing; paused, waiting messages pause the exchange's body until resume()", async () => {
  const fake = fakeExchange({ path: "/p", body: ["one"], holdBody: true });
  const { responder } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  const seen = dataOf(stream);
  stream.resume();
  await waitFor(() => seen.length === 1, "the first message");
  fake.send("two");
  assert.deepEqual(seen, ["one", "two"], "a message waited for the body's end");
  assert.equal(fake.paused(), false);
  stream.pause();
  fake.send("three");
  assert.equal(fake.paused(), true);
  assert.deepEqual(seen, ["one", "two"]);
  stream.resume();
  assert.equal(fake.paused(), false);
  await waitFor(() => seen.length === 3, "the third message");
  assert.deepEqual(seen, ["one", "two", "three"]);
  let ends = 0;
  stream.on("end", () => ends++);
  fake.send(undefined);
  await waitFor(() => ends === 1, "'end' after the body's end");
  // Paused and resumed after the end: no second 'end'.
  stream.pause();
  stream.resume();
  await turns(2);
  assert.equal(ends, 1);
});

Deno.test("GrpcBridgeStream: grpc-js pausing with no message waiting does not pause the exchange's body, nor does a stream without a body", async () => {
  const reading = fakeExchange({ path: "/p", body: [], holdBody: true });
  const { responder } = recorder();
  const stream = new GrpcBridgeStream(reading.exchange, { responder, decoder: pieceDecoder() });
  stream.resume();
  stream.pause();
  await turns(2);
  assert.equal(reading.paused(), false);
  const bodiless = fakeExchange({ path: "/p" });
  const get = new GrpcBridgeStream(bodiless.exchange, {
    responder,
    initial: [new TextEncoder().encode("query")],
  });
  get.resume();
  get.pause();
  await turns(2);
  assert.equal(bodiless.paused(), false);
});

Deno.test("GrpcBridgeStream: a body that ends while grpc-js paused gives 'end' only once resumed; none after a cancel", async () => {
  const fake = fakeExchange({ path: "/p", body: ["one"], holdBody: true });
  const { responder } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  const seen = dataOf(stream);
  let ends = 0;
  stream.on("end", () => ends++);
  stream.resume();
  await waitFor(() => seen.length === 1, "the first message");
  stream.pause();
  fake.send(undefined);
  await turns(2);
  assert.equal(ends, 0, "'end' while paused");
  stream.resume();
  await waitFor(() => ends === 1, "'end' once resumed");

  const cancelled = new GrpcBridgeStream(fakeExchange({ path: "/p" }).exchange, { responder });
  let late = 0;
  cancelled.on("end", () => late++);
  cancelled.resume();
  cancelled.close();
  await turns(2);
  assert.equal(late, 0, "'end' after the call was cancelled");
});

Deno.test("GrpcBridgeStream: once the call is cancelled, body that still arrives is not decoded", async () => {
  const fake = fakeExchange({ path: "/p", body: [], holdBody: true });
  const { responder } = recorder();
  const calls: string[] = [];
  const stream = new GrpcBridgeStream(fake.exchange, {
    responder,
    decoder: {
      push: (chunk) => void calls.push(`push ${new TextDecoder().decode(chunk)}`),
      end: () => void calls.push("end"),
    },
  });
  stream.resume();
  await turns(2);
  stream.close();
  fake.send("late");
  fake.send(undefined);
  assert.deepEqual(calls, []);
});

Deno.test("startBridge hands grpc-js a gRPC request's headers: the metadata, :path, :scheme by TLS, :authority from host, grpc-timeout only when given", () => {
  const seen: GrpcHeaders[] = [];
  const { responder } = recorder();
  const start = (encrypted: boolean, grpcTimeout?: string) => {
    const fake = fakeExchange({ path: "/x.S/M" });
    startBridge({
      exchange: { ...fake.exchange, encrypted },
      dispatch: (stream, headers) => {
        assert.ok(stream instanceof GrpcBridgeStream);
        seen.push(headers);
      },
      path: "/x.S/M",
      metadata: { "x-a": "1" },
      grpcTimeout,
      responder,
    });
  };
  start(false);
  start(true, "50m");
  const common = {
    "x-a": "1",
    ":method": "POST",
    ":path": "/x.S/M",
    ":authority": "example.test",
    "content-type": "application/grpc",
    te: "trailers",
  };
  assert.deepEqual(seen, [
    { ...common, ":scheme": "http" },
    { ...common, ":scheme": "https", "grpc-timeout": "50m" },
  ]);
});

Deno.test("requestMetadata: HTTP's and the web protocols' headers and CORS's access-control-* are not metadata; the protocol label replaces a client's", () => {
  const reserved = [
    "host",
    "content-type",
    "content-length",
    "content-encoding",
    "accept",
    "accept-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "expect",
    "x-grpc-web",
    "connect-protocol-version",
    "connect-timeout-ms",
    "connect-content-encoding",
    "connect-accept-encoding",
    "grpc-timeout",
    "grpc-encoding",
    "grpc-accept-encoding",
    "access-control-request-method",
    "access-control-request-headers",
  ];
  const headers: Record<string, string> = {
    "x-custom": "1",
    "x-data-bin": "AQI=",
    "routeguide-web-protocol": "forged",
  };
  for (const name of reserved) headers[name] = "v";
  assert.deepEqual(requestMetadata(headers, "connect+json HTTP/1.1"), {
    "x-custom": "1",
    "x-data-bin": "AQI=",
    "routeguide-web-protocol": "connect+json HTTP/1.1",
  });
});

Deno.test("GrpcBridgeStream: the peer's address for grpc-js; headers sent once; a write without a callback is answered and returns true", () => {
  const fake = fakeExchange({ path: "/p" });
  const { responder, told } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  assert.deepEqual(stream.session.socket, { remoteAddress: "127.0.0.1", remotePort: 40000 });
  assert.equal(stream.headersSent, false);
  stream.respond({ "x-a": "1" });
  stream.respond({ "x-a": "2" });
  assert.equal(stream.headersSent, true);
  assert.deepEqual(told.headers, [{ "x-a": ["1"] }]);
  assert.equal(stream.write(envelope(0, "m")), true);
  assert.deepEqual(told.messages.map((m) => new TextDecoder().decode(m)), ["m"]);
});

Deno.test("GrpcBridgeStream: end() before any respond() is status OK too", () => {
  const fake = fakeExchange({ path: "/p" });
  const { responder, told } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  stream.end();
  assert.deepEqual(told.ends, [{ status: { code: 0, message: "" }, trailers: {} }]);
});

Deno.test("GrpcBridgeStream: once ended, end(), sendTrailers(), respond() and the client going away change nothing; 'close' comes once", async () => {
  const fake = fakeExchange({ path: "/p" });
  const { responder, told } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  let closes = 0;
  stream.on("close", () => closes++);
  stream.respond({}, { waitForTrailers: true });
  const wanted = next(stream, "wantTrailers");
  stream.end();
  await within(wanted, 5000, "'wantTrailers'");
  stream.sendTrailers({ "grpc-status": "0", "x-t": "1" });
  await within(next(stream, "close"), 5000, "'close'");
  stream.end();
  stream.sendTrailers({ "grpc-status": "13" });
  stream.respond({ "grpc-status": "13" }, { endStream: true });
  fake.disconnect();
  stream.destroy();
  await turns(2);
  assert.deepEqual(told.ends, [{
    status: { code: 0, message: "", detailsBin: undefined },
    trailers: { "x-t": ["1"] },
  }]);
  assert.equal(told.headers.length, 1);
  assert.equal(stream.aborted, false);
  assert.equal(stream.rstCode, 0);
  assert.equal(closes, 1);
});

Deno.test("GrpcBridgeStream: once cancelled, respond(), end() and sendTrailers() answer nothing; 'aborted' and 'close' come once", async () => {
  const fake = fakeExchange({ path: "/p" });
  const { responder, told } = recorder();
  const stream = new GrpcBridgeStream(fake.exchange, { responder, decoder: pieceDecoder() });
  let aborts = 0;
  let closes = 0;
  stream.on("aborted", () => aborts++);
  stream.on("close", () => closes++);
  stream.close();
  assert.equal(aborts, 1);
  stream.respond({ "x-a": "1" });
  stream.end();
  stream.sendTrailers({ "grpc-status": "0" });
  stream.destroy();
  fake.disconnect();
  await turns(2);
  assert.deepEqual(told, { headers: [], messages: [], ends: [] });
  assert.equal(aborts, 1);
  assert.equal(closes, 1);
  assert.equal(stream.rstCode, 8);
});

for (const [what, thrown] of [["an Error", new Error("boom")], ["undefined", undefined]] as const) {
  Deno.test(`GrpcBridgeStream: a decoder that throws ${what} (not a WebError) cancels the call and answers INTERNAL (13)`, async () => {
    const fake = fakeExchange({ path: "/p", body: ["bad"] });
    const { responder, told } = recorder();
    const stream = new GrpcBridgeStream(fake.exchange, {
      responder,
      decoder: pieceDecoder(thrown),
    });
    const closed = next(stream, "close");
    stream.resume();
    await within(closed, 5000, "'close'");
    assert.equal(told.ends.length, 1);
    assert.equal(told.ends[0].status.code, 13);
    assert.match(told.ends[0].status.message, /cannot read the request/);
    assert.equal(stream.aborted, true);
  });
}

Deno.test("gRPC+JSON responder: grpc-encoding names the compression; status details go in the trailers, or in the headers of a trailers-only answer", async () => {
  const compression = { name: "gzip", minBytes: 0, compress: (data: Uint8Array) => data };
  const full = fakeExchange({ path: "/p" });
  const responder = createGrpcJsonResponder({
    exchange: full.exchange,
    toJson: (b) => b,
    compression,
  });
  responder.headers({ "x-h": ["1"] });
  responder.message(new TextEncoder().encode("{}"), () => {});
  responder.end({ code: 3, message: "bad", detailsBin: "CAM=" }, { "x-t": ["2"] });
  const answer = await full.answer;
  assert.equal(answer.headers["grpc-encoding"], "gzip");
  assert.deepEqual(envelopes(answer.body).map((f) => f.flags), [1]);
  assert.deepEqual(answer.trailers, {
    "x-t": ["2"],
    "grpc-status": "3",
    "grpc-message": "bad",
    "grpc-status-details-bin": "CAM=",
  });
  const only = fakeExchange({ path: "/p" });
  createGrpcJsonResponder({ exchange: only.exchange, toJson: (b) => b })
    .end({ code: 5, message: "", detailsBin: "CAU=" }, {});
  const trailersOnly = await only.answer;
  assert.equal(trailersOnly.headers["grpc-status"], "5");
  assert.equal(trailersOnly.headers["grpc-status-details-bin"], "CAU=");
  assert.equal(trailersOnly.headers["grpc-message"], undefined);
  assert.equal(trailersOnly.headers["grpc-encoding"], undefined);
});
