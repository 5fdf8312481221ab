/**
 * `lib/http2/server.ts` keeps the deadline of gRPC requests itself: the
 * `grpc-timeout` header (gRPC over HTTP/2, "Timeout") does not reach the
 * listeners, and when the deadline passes the transport answers with
 * `grpc-status` 4 (DEADLINE_EXCEEDED), trailers-only or after the messages
 * already written, and closes the stream. gRPC-Web requests, malformed
 * timeouts and `grpcDeadlines: false` leave the header to the listeners.
 *
 * @module
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import {
  Http2Server,
  type Http2ServerOptions,
  type Http2ServerStream,
} from "../../lib/http2/server.ts";
import { waitFor, within } from "../_async.ts";
import {
  concat,
  Flag,
  frame,
  FrameType,
  grpcRequestHeaders,
  hpackLiterals,
  PREFACE,
  rawConnect,
  settingsFrame,
} from "../_h2.ts";

/** A server on a free loopback port whose `'stream'` listener is `onStream`. */
async function serve(
  onStream: (stream: Http2ServerStream, headers: Record<string, unknown>) => void,
  options: Http2ServerOptions = {},
): Promise<{ port: number } & AsyncDisposable> {
  const h2 = new Http2Server(options);
  h2.on("stream", onStream);
  const listener = net.createServer((socket) => h2.accept(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  return {
    port: (listener.address() as net.AddressInfo).port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => listener.close(() => resolve())),
  };
}

/** What a client saw of one request. */
interface Answer {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Uint8Array;
  ms: number;
}

/** Makes a request (request side left open when `keepOpen`) and resolves once its stream closes. */
function request(port: number, headers: http2.OutgoingHttpHeaders, keepOpen = false) {
  return new Promise<Answer>((resolve, reject) => {
    const started = Date.now();
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": "/p.S/M", ...headers });
    const answer: Answer = { headers: {}, trailers: {}, body: new Uint8Array(0), ms: 0 };
    const chunks: Uint8Array[] = [];
    stream.on("response", (h) => answer.headers = h);
    stream.on("trailers", (t) => answer.trailers = t);
    stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => {
      answer.ms = Date.now() - started;
      answer.body = new Uint8Array(chunks.flatMap((c) => [...c]));
      session.destroy();
      resolve(answer);
    });
    if (!keepOpen) stream.end(new Uint8Array([0, 0, 0, 0, 0]));
  });
}

Deno.test("gRPC deadline: grpc-timeout does not reach the listener; an unanswered call gets a trailers-only DEADLINE_EXCEEDED at its deadline", async () => {
  let seen: Record<string, unknown> = {};
  let server: Http2ServerStream | undefined;
  let closed = false;
  await using s = await serve((stream, headers) => {
    seen = headers;
    server = stream;
    stream.on("close", () => closed = true);
  });
  const answer = await within(
    request(s.port, { "content-type": "application/grpc", "grpc-timeout": "300m", "x-a": "b" }),
    10_000,
    "the answer at the deadline",
  );
  assert.equal(seen["grpc-timeout"], undefined);
  assert.equal(seen["x-a"], "b");
  assert.equal(answer.headers[":status"], 200);
  assert.equal(answer.headers["content-type"], "application/grpc+proto");
  assert.equal(answer.headers["grpc-status"], "4");
  assert.equal(decodeURIComponent(String(answer.headers["grpc-message"])), "Deadline exceeded");
  assert.ok(answer.ms >= 290, `answered after ${answer.ms} ms, before the deadline`);
  assert.ok(answer.ms < 5000, `answered after ${answer.ms} ms`);
  assert.equal(server?.deadlineExceeded, true);
  await within(
    new Promise<void>((resolve) => closed ? resolve() : server!.on("close", () => resolve())),
    5000,
    "the server stream to close (grpc-js cancels the call on it)",
  );
});

Deno.test("gRPC deadline: after headers and a message, DEADLINE_EXCEEDED comes as trailers after it, the request side still open", async () => {
  let closed = false;
  await using s = await serve((stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
      waitForTrailers: true,
    });
    stream.write(new Uint8Array([0, 0, 0, 0, 1, 7]));
    stream.on("close", () => closed = true);
  });
  await using c = await rawConnect(s.port);
  const headers: [string, string][] = [...grpcRequestHeaders("/p.S/M"), [
    "grpc-timeout",
    "200000u",
  ]];
  const started = Date.now();
  await c.write(concat([
    PREFACE,
    settingsFrame(),
    frame(FrameType.HEADERS, Flag.END_HEADERS, 1, hpackLiterals(headers)),
  ]));
  const end = await c.waitFor(
    (f) => f.type === FrameType.HEADERS && f.streamId === 1 && (f.flags & Flag.END_STREAM) !== 0,
    10_000,
  );
  const ms = Date.now() - started;
  const frames = c.parser.frames.filter((f) => f.streamId === 1).map((f) => f.type);
  assert.ok(end, `no trailers: ${JSON.stringify(frames)}`);
  assert.deepEqual(frames.slice(0, 3), [FrameType.HEADERS, FrameType.DATA, FrameType.HEADERS]);
  assert.ok(ms >= 190, `answered after ${ms} ms, before the deadline`);
  assert.ok(ms < 5000, `answered after ${ms} ms`);
  await waitFor(() => closed, "the server stream did not close");
});

Deno.test("gRPC deadline: a call answered in time gets its own status only", async () => {
  await using s = await serve((stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, {
      endStream: true,
    });
  });
  const answer = await request(s.port, {
    "content-type": "application/grpc",
    "grpc-timeout": "1m",
  });
  assert.equal(answer.headers["grpc-status"], "0");
});

Deno.test("gRPC deadline: gRPC-Web, a malformed timeout and grpcDeadlines: false leave grpc-timeout to the listener", async () => {
  const cases: [http2.OutgoingHttpHeaders, Http2ServerOptions][] = [
    [{ "content-type": "application/grpc-web+proto", "grpc-timeout": "5S" }, {}],
    [{ "content-type": "application/grpc", "grpc-timeout": "5 S" }, {}],
    [{ "content-type": "application/grpc", "grpc-timeout": "123456789S" }, {}],
    [{ "content-type": "application/grpc", "grpc-timeout": "5S" }, { grpcDeadlines: false }],
  ];
  for (const [headers, options] of cases) {
    let seen: Record<string, unknown> = {};
    let server: Http2ServerStream | undefined;
    await using s = await serve((stream, h) => {
      seen = h;
      server = stream;
      stream.respond({ ":status": 200, "grpc-status": "0" }, { endStream: true });
    }, { ...options, otherRequests: (stream, h) => (seen = h, stream.close()) });
    await request(s.port, headers);
    assert.equal(seen["grpc-timeout"], headers["grpc-timeout"], JSON.stringify(headers));
    assert.equal(server?.grpcDeadline ?? Infinity, Infinity);
  }
});
