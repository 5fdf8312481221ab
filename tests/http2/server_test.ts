/**
 * The `node:http2`-like server over a socket stand-in: inbound backpressure
 * (a paused reader stops the client's window), write callbacks that wait for
 * the socket to drain, and the SETTINGS-ack timeout. A stand-in socket keeps
 * these exact: the test decides when the socket drains and sees every write.
 */

import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import {
  grpcTimeoutMs,
  headerList,
  Http2Server,
  type Http2ServerStream,
  isPlainGrpc,
} from "../../lib/http2/server.ts";
import { HpackDecoder } from "../../lib/http2/hpack.ts";
import {
  concat,
  ErrorCode,
  type Frame,
  frame,
  FrameParser,
  FrameType,
  grpcRequestHeaders,
  hpackLiterals,
  parseGoaway,
  pingFrame,
  PREFACE,
  settingsFrame,
} from "../_h2.ts";
import { readUint32, uint32 } from "./_peer.ts";

const END_HEADERS = 0x4;
const ACK = 0x1;

/** A socket stand-in: records writes, holds `writableLength` until the test drains it. */
class FakeSocket extends EventEmitter {
  readonly parser = new FrameParser();
  writableLength = 0;
  destroyed = false;
  writable = true;
  writableEnded = false;
  /** Whether writes stay counted in `writableLength` (a peer that does not read). */
  holding = false;
  /** Whether `end()` calls back in a later microtask, as a real socket does (not at once). */
  endLater = false;
  #waiters: (() => void)[] = [];

  /** What `setNoDelay` was last called with. */
  noDelay?: boolean;

  setNoDelay(noDelay?: boolean): void {
    this.noDelay = noDelay;
  }

  /** How many times `write()` was called. */
  writes = 0;

  write(bytes: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    this.writes++;
    this.parser.push(bytes);
    if (this.holding) this.writableLength += bytes.length;
    callback?.(null);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return !this.holding;
  }

  /** How many times `end()` was called. */
  ends = 0;

  end(callback?: () => void): void {
    this.ends++;
    this.writableEnded = true;
    this.writable = false;
    if (this.endLater) queueMicrotask(() => callback?.());
    else callback?.();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit("close");
  }

  /** Lets the socket's buffer go (as the kernel taking the bytes) and emits 'drain'. */
  drain(): void {
    this.writableLength = 0;
    this.emit("drain");
  }

  /** Feeds bytes from the client. */
  send(...parts: Uint8Array[]): void {
    this.emit("data", concat(parts));
  }

  /** Resolves with the first frame the server wrote (or writes later) that matches. */
  async next(match: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const found = this.parser.frames.find(match);
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /**
   * A PING round trip: once its ACK is written, the server has handled
   * everything sent before it and flushed what that produced.
   */
  async roundTrip(n: number): Promise<void> {
    this.send(pingFrame(n));
    await this.next((f) =>
      f.type === FrameType.PING && (f.flags & ACK) === ACK &&
      readUint32(f.payload.subarray(4)) === n
    );
  }
}

/** A server and one connection to it over a {@linkcode FakeSocket}. */
function connect(
  options: ConstructorParameters<typeof Http2Server>[0],
  onStream: (stream: Http2ServerStream) => void = () => {},
): FakeSocket {
  const server = new Http2Server(options);
  server.on("stream", onStream);
  const socket = new FakeSocket();
  server.accept(socket as unknown as Socket);
  return socket;
}

/** Sum of the WINDOW_UPDATE increments the server sent for a stream (0: the connection). */
function granted(socket: FakeSocket, streamId: number): number {
  return socket.parser.frames
    .filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === streamId)
    .reduce((n, f) => n + readUint32(f.payload), 0);
}

Deno.test("inbound backpressure: a paused reader stops the client's window; the server buffers one window at most", async () => {
  const received: number[] = [];
  let reader!: Http2ServerStream;
  let pauseEach = true;
  const socket = connect({ streamWindow: 65535, connectionWindow: 1 << 20 }, (stream) => {
    reader = stream;
    // A slow handler: takes one chunk, then pauses.
    stream.on("data", (chunk: Uint8Array) => {
      received.push(chunk.length);
      if (pauseEach) stream.pause();
    });
  });
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  socket.send(frame(FrameType.HEADERS, END_HEADERS, 1, hpackLiterals(grpcRequestHeaders("/s/M"))));
  await socket.roundTrip(0); // the reader is flowing now

  /** A fast uploader: sends whatever its windows allow until they stay shut after a round trip. */
  let sent = 0;
  const upload = async (limit: number) => {
    for (let ping = 1; sent < limit; ping++) {
      const room = Math.min(65535 + granted(socket, 0), 65535 + granted(socket, 1)) - sent;
      if (room > 0) {
        const n = Math.min(room, 16384, limit - sent);
        socket.send(frame(FrameType.DATA, 0, 1, new Uint8Array(n)));
        sent += n;
        continue;
      }
      await socket.roundTrip(ping);
      if (Math.min(65535 + granted(socket, 0), 65535 + granted(socket, 1)) - sent <= 0) return;
    }
  };
  await upload(1 << 20);
  // The first frame was taken at once (the reader was flowing); the rest waits in the server.
  assert.equal(sent, 65535, `the client could send ${sent} bytes to a paused reader`);
  assert.deepEqual(received, [16384], "the paused reader got more chunks");

  // The reader speeds up: everything buffered comes, the window reopens, the upload completes.
  pauseEach = false;
  reader.resume();
  await upload(4 * 65535);
  assert.equal(sent, 4 * 65535);
  await socket.roundTrip(1000);
  assert.equal(received.reduce((a, b) => a + b, 0), 4 * 65535);
});

Deno.test("write callbacks wait for the socket to drain once more than maxSocketBacklog waits in it", async () => {
  const done: string[] = [];
  let writer!: Http2ServerStream;
  const socket = connect({ maxSocketBacklog: 100 }, (stream) => {
    writer = stream;
    stream.respond({ ":status": 200, "content-type": "application/grpc" });
    stream.write(new Uint8Array(1000), () => done.push("first"));
  });
  socket.holding = true;
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  socket.send(frame(FrameType.HEADERS, END_HEADERS, 1, hpackLiterals(grpcRequestHeaders("/s/M"))));
  await socket.next((f) => f.type === FrameType.DATA && f.payload.length === 1000);
  // Under the backlog when written: called back without waiting for the socket.
  await socket.roundTrip(1);
  assert.deepEqual(done, ["first"]);
  assert.ok(socket.writableLength > 100);

  writer.write(new Uint8Array(10), () => done.push("second"));
  await socket.next((f) => f.type === FrameType.DATA && f.payload.length === 10);
  await socket.roundTrip(2);
  assert.deepEqual(done, ["first"], "a write was called back with the socket's backlog full");
  socket.drain();
  assert.deepEqual(done, ["first", "second"]);
  socket.drain(); // nothing left to run
  assert.deepEqual(done, ["first", "second"]);
});

Deno.test("SETTINGS not acknowledged within settingsTimeoutMs: GOAWAY SETTINGS_TIMEOUT and the socket ends", async () => {
  // Same timeout, the acknowledging client first: its timer has fired once the other's has.
  // The session's timers do not hold the process open: this one does, and bounds the test.
  const bound = setTimeout(() => {}, 10_000);
  const acked = connect({ settingsTimeoutMs: 30 });
  const silent = connect({ settingsTimeoutMs: 30 });
  acked.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  silent.send(PREFACE, settingsFrame());
  const goaway = await silent.next((f) => f.type === FrameType.GOAWAY);
  assert.deepEqual(parseGoaway(goaway), { lastStreamId: 0, errorCode: ErrorCode.SETTINGS_TIMEOUT });
  assert.equal(silent.writableEnded, true, "the socket was not ended");
  await acked.roundTrip(1);
  assert.equal(acked.parser.frames.some((f) => f.type === FrameType.GOAWAY), false);
  assert.equal(acked.writableEnded, false);
  acked.destroy();
  silent.destroy();
  clearTimeout(bound);
});

Deno.test("non-Latin-1 header values go out as their UTF-8 bytes; Latin-1 ones as one byte a character", async () => {
  const socket = connect({}, (stream) => {
    stream.respond(
      { ":status": 200, "x-utf8": "caf\u00e9 \u2615", "x-latin1": "caf\u00e9\u00ff" },
      {
        endStream: true,
      },
    );
  });
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  socket.send(
    frame(FrameType.HEADERS, END_HEADERS | 0x1, 1, hpackLiterals(grpcRequestHeaders("/s/M"))),
  );
  const headers = await socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  const fields = new HpackDecoder().decode(headers.payload);
  const bytesOf = (name: string) => {
    const value = fields.find(([n]) => n === name)?.[1];
    assert.ok(value !== undefined, `no ${name}`);
    return [...value].map((c) => c.charCodeAt(0));
  };
  // "☕" is U+2615: UTF-8 E2 98 95; "é" is E9 in Latin-1, C3 A9 in UTF-8; "ÿ" (U+00FF) is Latin-1 FF.
  assert.deepEqual(bytesOf("x-utf8"), [0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xe2, 0x98, 0x95]);
  assert.deepEqual(bytesOf("x-latin1"), [0x63, 0x61, 0x66, 0xe9, 0xff]);
  assert.deepEqual(headerList({ ":status": 200, "X-A": ["\u2615", "b"] }), [
    [":status", "200"],
    ["x-a", "\xe2\x98\x95"],
    ["x-a", "b"],
  ]);
});

Deno.test("isPlainGrpc(): application/grpc and application/grpc+proto, with or without parameters", () => {
  for (
    const type of [
      "application/grpc",
      "application/grpc+proto",
      "application/grpc;charset=utf-8",
      "application/grpc+proto; x=y",
    ]
  ) {
    assert.ok(isPlainGrpc(type), type);
  }
  for (
    const type of [
      "application/grpc-web",
      "application/grpc-web+proto",
      "application/grpc-web-text",
      "application/grpc+json",
      "application/grpc+protobuf",
      "application/grpcx",
      "application/json",
      "",
      undefined,
      42,
    ]
  ) {
    assert.ok(!isPlainGrpc(type), String(type));
  }
});

/** A server, one session on a {@linkcode FakeSocket} whose client sent its preface and SETTINGS ACK. */
function open(options: ConstructorParameters<typeof Http2Server>[0] = {}) {
  const server = new Http2Server(options);
  const streams: [Http2ServerStream, Record<string, unknown>][] = [];
  server.on("stream", (stream, headers) => streams.push([stream, headers]));
  const socket = new FakeSocket();
  const session = server.accept(socket as unknown as Socket);
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  return { server, socket, session, streams };
}

/** A gRPC request's HEADERS on stream `id`, with `extra` fields after the usual ones. */
function request(id: number, extra: [string, string][] = [], flags = END_HEADERS): Uint8Array {
  return frame(
    FrameType.HEADERS,
    flags,
    id,
    hpackLiterals([...grpcRequestHeaders("/s/M"), ...extra]),
  );
}

Deno.test("session.ping(): a PING the ACK of which calls back with the time taken and the payload; closing fails the rest", async () => {
  const { socket, session } = open();
  const answers: [Error | null, number, number[]][] = [];
  const before = performance.now();
  assert.equal(session.ping((e, ms, payload) => answers.push([e, ms, [...payload]])), true);
  const ping = await socket.next((f) => f.type === FrameType.PING && f.flags === 0);
  assert.deepEqual([...ping.payload], [0, 0, 0, 0, 0, 0, 0, 1]);
  // An ACK of a payload never sent is ignored; then the real one.
  socket.send(frame(FrameType.PING, ACK, 0, new Uint8Array(8).fill(9)));
  socket.send(frame(FrameType.PING, ACK, 0, ping.payload));
  await socket.roundTrip(100);
  assert.equal(answers.length, 1);
  assert.equal(answers[0][0], null);
  assert.ok(
    answers[0][1] >= 0 && answers[0][1] <= performance.now() - before,
    `${answers[0][1]} ms`,
  );
  assert.deepEqual(answers[0][2], [0, 0, 0, 0, 0, 0, 0, 1]);
  session.ping((e) => answers.push([e, 0, []]));
  await socket.next((f) => f.type === FrameType.PING && f.flags === 0 && f.payload[7] === 2);
  socket.destroy();
  assert.equal(answers.length, 2);
  assert.match(String(answers[1][0]), /session closed/);
  assert.equal(session.ping(() => {}), false);
  assert.equal(session.destroyed, true);
});

Deno.test("session.goaway(): GOAWAY with the code, last stream id and debug data; refused once destroyed", async () => {
  const { socket, session } = open();
  session.goaway(ErrorCode.NO_ERROR, 0, new TextEncoder().encode("bye"));
  const goaway = await socket.next((f) => f.type === FrameType.GOAWAY);
  assert.deepEqual(parseGoaway(goaway), { lastStreamId: 0, errorCode: ErrorCode.NO_ERROR });
  assert.equal(new TextDecoder().decode(goaway.payload.subarray(8)), "bye");
  session.destroy();
  assert.throws(() => session.goaway(), /destroyed/);
});

Deno.test("session.state and encrypted: the windows, and whether the socket is TLS", () => {
  const { socket, session } = open();
  // Ours: 1 MiB after the client's SETTINGS (connectionWindow's default); theirs: 65,535.
  assert.deepEqual(session.state, { localWindowSize: 1048576, remoteWindowSize: 65535 });
  assert.equal(session.encrypted, false);
  (socket as unknown as { encrypted: boolean }).encrypted = true;
  assert.equal(session.encrypted, true);
  socket.destroy();
});

Deno.test("the client's GOAWAY is a 'goaway' event with its code and last stream id", async () => {
  const { socket, session } = open();
  const seen: unknown[] = [];
  session.on("goaway", (code, last) => seen.push([code, last]));
  const payload = new Uint8Array([0, 0, 0, 5, 0, 0, 0, 2]);
  socket.send(frame(FrameType.GOAWAY, 0, 0, payload));
  await socket.roundTrip(1);
  assert.deepEqual(seen, [[2, 5]]);
  socket.destroy();
});

Deno.test("session.close(): GOAWAY, the socket ends once the last stream closes, then the callback", async () => {
  const { socket, session, streams } = open();
  socket.send(request(1));
  await socket.roundTrip(1);
  let closed = 0;
  session.close(() => closed++);
  assert.equal(session.closed, true);
  await socket.next((f) => f.type === FrameType.GOAWAY);
  await socket.roundTrip(2);
  assert.equal(socket.writableEnded, false, "the socket ended with a stream open");
  const [stream] = streams[0];
  stream.respond({ ":status": 200 }, { endStream: true });
  // The request side is still open: the stream ends for us once the response has.
  await socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  assert.equal(stream.closed, true);
  assert.equal(socket.writableEnded, true);
  socket.destroy();
  assert.equal(closed, 1);
  session.close(() => closed++);
  await Promise.resolve();
  assert.equal(closed, 2, "close() on a destroyed session did not call back");
});

Deno.test("session.destroy(): open streams close with CANCEL and the socket is cut", async () => {
  const { socket, session, streams } = open();
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  socket.endLater = true;
  session.destroy();
  // Closed by destroy() itself, before the socket's close: not aborted by the client.
  assert.equal(session.destroyed, true);
  assert.equal(stream.closed, true);
  assert.equal(stream.rstCode, ErrorCode.CANCEL);
  assert.equal(stream.aborted, false);
  await Promise.resolve();
  assert.equal(socket.destroyed, true);
  assert.equal(socket.parser.frames.filter((f) => f.type === FrameType.GOAWAY).length, 1);
});

Deno.test("request headers: a repeated name is an array of its values, in order; routeguide-web-protocol dropped", async () => {
  const { socket, streams } = open();
  socket.send(
    request(1, [["x-rep", "a"], ["x-rep", "b"], ["x-rep", "c"], ["x-one", "1"], [
      "routeguide-web-protocol",
      "grpc-web",
    ]]),
  );
  await socket.roundTrip(1);
  const [, headers] = streams[0];
  assert.deepEqual(headers["x-rep"], ["a", "b", "c"]);
  assert.equal(headers["x-one"], "1");
  assert.equal("routeguide-web-protocol" in headers, false);
  socket.destroy();
});

Deno.test("headerList(): undefined skipped, numbers as text, pseudo-headers first whatever the order", () => {
  assert.deepEqual(
    headerList({ "x-a": "1", ":status": 200, "x-skip": undefined, "x-n": 7, ":x": ["p", "q"] }),
    [[":status", "200"], [":x", "p"], [":x", "q"], ["x-a", "1"], ["x-n", "7"]],
  );
});

Deno.test("Http2Server: no address; setTimeout is a no-op; close() calls back at once with no session, after the last otherwise", async () => {
  const server = new Http2Server();
  assert.equal(server.address(), null);
  assert.equal(server.setTimeout(5, () => {}), server);
  let calls = 0;
  server.on("close", () => calls++);
  server.close(() => calls++);
  await Promise.resolve();
  assert.equal(calls, 2);

  const busy = new Http2Server();
  const socket = new FakeSocket();
  busy.accept(socket as unknown as Socket);
  const done: string[] = [];
  busy.close(() => done.push("closed"));
  await Promise.resolve();
  assert.deepEqual(done, []);
  socket.destroy();
  assert.deepEqual(done, ["closed"]);
});

Deno.test("a request over the header list limit gets 431 and the session goes on", async () => {
  const { socket, streams } = open({ maxHeaderListSize: 400 });
  socket.send(request(1, [["x-big", "y".repeat(500)]], END_HEADERS | 0x1));
  await socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  socket.send(request(3, [], END_HEADERS | 0x1));
  await socket.roundTrip(1);
  assert.deepEqual(streams.map(([s]) => s.id), [3]);
  assert.equal(socket.parser.frames.some((f) => f.type === FrameType.GOAWAY), false);
  socket.destroy();
});

Deno.test("write callbacks waiting for the socket to drain run when the socket closes instead", async () => {
  const done: string[] = [];
  const { socket, streams } = open({ maxSocketBacklog: 100 });
  socket.holding = true;
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  stream.respond({ ":status": 200 });
  stream.write(new Uint8Array(1000), () => done.push("first"));
  await socket.roundTrip(2);
  stream.write(new Uint8Array(10), () => done.push("second"));
  await socket.roundTrip(3);
  assert.deepEqual(done, ["first"]);
  socket.destroy();
  assert.deepEqual(done, ["first", "second"]);
});

Deno.test("stream: isPaused until read; respond() after the stream closed sends nothing", async () => {
  const { socket, streams } = open();
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  assert.equal(stream.isPaused(), true);
  stream.resume();
  assert.equal(stream.isPaused(), false);
  stream.pause();
  assert.equal(stream.isPaused(), true);
  stream.close(ErrorCode.CANCEL);
  await socket.roundTrip(2);
  assert.equal(stream.closed, true);
  stream.respond({ ":status": 200 });
  await socket.roundTrip(3);
  assert.equal(stream.headersSent, false);
  assert.equal(socket.parser.frames.some((f) => f.type === FrameType.HEADERS), false);
  socket.destroy();
});

/** Resolves with `promise`, or rejects naming `what` after `ms` (a generous bound, not a timing). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

Deno.test("the socket gets setNoDelay(true); one without setNoDelay is served all the same", async () => {
  const { socket } = open();
  assert.equal(socket.noDelay, true);
  socket.destroy();
  const bare = new FakeSocket();
  Object.assign(bare, { setNoDelay: undefined });
  new Http2Server().accept(bare as unknown as Socket);
  bare.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  await bare.roundTrip(1);
  bare.destroy();
});

Deno.test("PING ACKs sent are counted as sent once the socket took them: 3,000 PINGs in rounds are no flood", async () => {
  const { socket } = open();
  for (let round = 0; round < 6; round++) {
    socket.send(...Array.from({ length: 500 }, (_, i) => pingFrame(10_000 + i)));
    await socket.roundTrip(round);
  }
  assert.equal(socket.parser.frames.some((f) => f.type === FrameType.GOAWAY), false);
  socket.destroy();
});

Deno.test("maxSocketBacklog defaults to 1 MiB: a write with 1,000 bytes waiting in the socket is called back", async () => {
  const done: string[] = [];
  const { socket, streams } = open();
  socket.holding = true;
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  stream.respond({ ":status": 200 });
  stream.write(new Uint8Array(1000), () => done.push("first"));
  await socket.roundTrip(2);
  stream.write(new Uint8Array(10), () => done.push("second"));
  await socket.roundTrip(3);
  assert.ok(socket.writableLength >= 1000);
  assert.deepEqual(done, ["first", "second"]);
  socket.destroy();
});

Deno.test("grpc-timeout is kept by the transport for application/grpc+proto and ;parameters, not without a content-type", async () => {
  const others: Record<string, unknown>[] = [];
  const { socket, streams } = open({
    otherRequests: (stream, headers) => {
      others.push(headers);
      stream.close();
    },
  });
  const base = grpcRequestHeaders("/s/M").filter(([n]) => n !== "content-type");
  const send = (id: number, extra: [string, string][]) =>
    socket.send(frame(FrameType.HEADERS, END_HEADERS, id, hpackLiterals([...base, ...extra])));
  send(1, [["content-type", "application/grpc+proto"], ["grpc-timeout", "9S"]]);
  send(3, [["content-type", "application/grpc;charset=utf-8"], ["grpc-timeout", "9S"]]);
  send(5, [["grpc-timeout", "9S"]]);
  await socket.roundTrip(1);
  assert.deepEqual(streams.map(([, h]) => h["grpc-timeout"]), [undefined, undefined]);
  assert.deepEqual(others.map((h) => h["grpc-timeout"]), ["9S"]);
  socket.destroy();
});

Deno.test("grpcTimeoutMs(): 8 digits at most, digits only, a unit after at least one", () => {
  assert.equal(grpcTimeoutMs("12345678m"), 12345678);
  assert.equal(grpcTimeoutMs("9S"), 9000);
  for (const bad of ["S", "123456789m", "1:S", "1/S"]) {
    assert.equal(grpcTimeoutMs(bad), undefined, bad);
  }
});

Deno.test("isPlainGrpc(): white space before the parameters (RFC 9110 §8.3.1 OWS)", () => {
  assert.equal(isPlainGrpc("application/grpc ; charset=utf-8"), true);
  assert.equal(isPlainGrpc("application/grpc+proto ;x=y"), true);
});

Deno.test("Http2Server emits 'close' only after close() and its last session: not for a session ending before, nor for one of two", async () => {
  const lone = new Http2Server();
  let loneClosed = false;
  lone.on("close", () => loneClosed = true);
  const only = new FakeSocket();
  lone.accept(only as unknown as Socket);
  only.destroy();
  await Promise.resolve();
  assert.equal(loneClosed, false, "'close' with no close()");

  const server = new Http2Server();
  const events: string[] = [];
  server.on("close", () => events.push("close"));
  const a = new FakeSocket();
  const b = new FakeSocket();
  server.accept(a as unknown as Socket);
  server.accept(b as unknown as Socket);
  server.close(() => events.push("callback"));
  a.destroy();
  await Promise.resolve();
  assert.equal(events.length, 0, "'close' with a session open");
  b.destroy();
  assert.deepEqual(events, ["callback", "close"]);
});

Deno.test("without the transport's deadlines, a gRPC stream still open past grpc-timeout + the 500 ms grace is reset", async () => {
  const { socket } = open({ grpcDeadlines: false });
  const start = Date.now();
  socket.send(request(1, [["grpc-timeout", "600m"]]));
  const reset = await within(
    socket.next((f) => f.type === FrameType.RST_STREAM && f.streamId === 1),
    10_000,
    "RST_STREAM",
  );
  assert.equal(readUint32(reset.payload), ErrorCode.CANCEL);
  assert.ok(Date.now() - start >= 1000, `reset after ${Date.now() - start} ms`);
  socket.destroy();
});

Deno.test("a gRPC deadline's status blocked by flow control: the stream is reset at deadline + the 500 ms grace", async () => {
  const { socket, streams } = open();
  socket.send(settingsFrame([[0x4, 0]]));
  const start = Date.now();
  socket.send(request(1, [["grpc-timeout", "100m"]]));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  stream.respond({ ":status": 200, "content-type": "application/grpc" });
  stream.write(new Uint8Array(10));
  const reset = await within(
    socket.next((f) => f.type === FrameType.RST_STREAM && f.streamId === 1),
    10_000,
    "RST_STREAM",
  );
  assert.equal(readUint32(reset.payload), ErrorCode.CANCEL);
  assert.ok(Date.now() - start >= 600, `reset after ${Date.now() - start} ms`);
  socket.destroy();
});

Deno.test("a gRPC deadline expires only its own stream", async () => {
  const { socket } = open();
  socket.send(request(1, [["grpc-timeout", "50m"]], END_HEADERS | 0x1));
  socket.send(request(3, [], END_HEADERS | 0x1));
  await within(
    socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1),
    10_000,
    "DEADLINE_EXCEEDED",
  );
  await socket.roundTrip(1);
  assert.equal(socket.parser.frames.some((f) => f.streamId === 3), false);
  socket.destroy();
});

Deno.test("END_STREAM alone (an empty DATA frame) ends a flowing request: 'end'", async () => {
  const { socket, streams } = open();
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  const ended = new Promise((resolve) => stream.on("end", resolve));
  stream.on("data", () => {});
  await socket.roundTrip(2);
  socket.send(frame(FrameType.DATA, 0x1, 1, new Uint8Array(0)));
  await within(ended, 5000, "'end'");
  socket.destroy();
});

Deno.test("a later deadline does not postpone an earlier one", async () => {
  const { socket } = open();
  socket.send(request(1, [["grpc-timeout", "100m"]], END_HEADERS | 0x1));
  socket.send(request(3, [["grpc-timeout", "20S"]], END_HEADERS | 0x1));
  await within(
    socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1),
    5000,
    "stream 1's DEADLINE_EXCEEDED",
  );
  socket.destroy();
});

Deno.test("a request ended on its HEADERS: the session's 'stream' event, and 'end' on the stream", async () => {
  const server = new Http2Server();
  const socket = new FakeSocket();
  const session = server.accept(socket as unknown as Socket);
  const seen: number[] = [];
  session.on("stream", (stream: Http2ServerStream) => seen.push(stream.id));
  let ended!: Promise<unknown>;
  server.on("stream", (stream: Http2ServerStream) => {
    ended = new Promise((resolve) => stream.on("end", resolve));
    stream.on("data", () => {});
  });
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  socket.send(request(1, [], END_HEADERS | 0x1));
  await socket.roundTrip(1);
  assert.deepEqual(seen, [1]);
  await within(ended, 5000, "'end'");
  socket.destroy();
});

Deno.test("write callbacks due before and after a 'wantTrailers' in one flush all run (here once the socket drains)", async () => {
  const done: string[] = [];
  const { socket, streams } = open({ maxSocketBacklog: 10 });
  socket.send(request(1), request(3), request(5));
  await socket.roundTrip(1);
  const [[one], [three], [five]] = streams;
  one.respond({ ":status": 200 }, { waitForTrailers: true });
  three.respond({ ":status": 200 });
  five.respond({ ":status": 200 });
  await socket.roundTrip(2);
  socket.holding = true;
  three.write(new Uint8Array(100), () => done.push("before"));
  await socket.roundTrip(3);
  // The socket holds more than the backlog now: callbacks wait for 'drain'.
  one.on("wantTrailers", () => {
    one.sendTrailers({ "grpc-status": "0" });
    five.write(new Uint8Array(100), () => done.push("after"));
  });
  three.write(new Uint8Array(100), () => done.push("before 2"));
  one.end();
  await socket.roundTrip(4);
  assert.ok(
    socket.parser.frames.some((f) =>
      f.type === FrameType.HEADERS && f.streamId === 1 && (f.flags & 0x1) === 1
    ),
    "no trailers",
  );
  assert.deepEqual(done, ["before"]);
  socket.drain();
  assert.deepEqual(done, ["before", "before 2", "after"]);
  socket.destroy();
});

Deno.test("stream state: not aborted, closed or answered at first; closed after; an 'end' listener alone does not start the flow", async () => {
  const { socket, session, streams } = open();
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  assert.equal(stream.aborted, false);
  assert.equal(stream.headersSent, false);
  assert.equal(stream.closed, false);
  stream.on("end", () => {});
  await socket.roundTrip(2);
  assert.equal(stream.isPaused(), true);
  socket.destroy();
  assert.equal(stream.closed, true);
  assert.equal(stream.destroyed, true);
  assert.equal(session.closed, true);
  assert.equal(session.destroyed, true);
});

Deno.test("data arriving at a flowing stream is delivered", async () => {
  const { socket, streams } = open();
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  const got: number[] = [];
  stream.on("data", (chunk: Uint8Array) => got.push(...chunk));
  await socket.roundTrip(2);
  socket.send(frame(FrameType.DATA, 0, 1, new Uint8Array([1, 2, 3])));
  await socket.roundTrip(3);
  assert.deepEqual(got, [1, 2, 3]);
  socket.destroy();
});

Deno.test("respond() alone is flushed; write() takes text as UTF-8 and reports a queue of 64 KiB as full", async () => {
  const { socket, streams } = open();
  socket.send(settingsFrame([[0x4, 0]]));
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  stream.respond({ ":status": 200 });
  await within(
    socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1),
    5000,
    "HEADERS",
  );
  // The client's window is 0: everything written stays queued.
  assert.equal(stream.write(new Uint8Array(65534)), true);
  // 65,534 + 2 (é in UTF-8): 65,536 queued, full.
  assert.equal(stream.write("é"), false);
  socket.send(
    frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(65536)),
    frame(FrameType.WINDOW_UPDATE, 0, 0, uint32(1)),
  );
  await socket.roundTrip(2);
  const data = socket.parser.frames.filter((f) => f.type === FrameType.DATA && f.streamId === 1);
  assert.deepEqual([...concat(data.map((f) => f.payload)).subarray(65534)], [0xc3, 0xa9]);
  socket.destroy();
});

Deno.test("maxSocketBacklog is a limit reached, not passed: exactly that much waiting still calls back", async () => {
  const done: string[] = [];
  const { socket, streams } = open({ maxSocketBacklog: 100 });
  socket.send(settingsFrame([[0x4, 0]]));
  socket.send(request(1), request(3));
  await socket.roundTrip(1);
  const [[one], [three]] = streams;
  one.respond({ ":status": 200 });
  three.respond({ ":status": 200 });
  await socket.roundTrip(2);
  // Not within the window: called back once framed (a WINDOW_UPDATE), with 100 bytes waiting.
  one.write(new Uint8Array(10), () => done.push("framed later"));
  await socket.roundTrip(3);
  socket.writableLength = 100;
  socket.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(100)));
  await socket.roundTrip(4);
  assert.deepEqual(done, ["framed later"]);
  // Within the window, with 100 bytes waiting (and more once written): called back at once.
  socket.send(frame(FrameType.WINDOW_UPDATE, 0, 3, uint32(100)));
  await socket.roundTrip(5);
  socket.holding = true;
  socket.writableLength = 100;
  three.write(new Uint8Array(10), () => done.push("fits"));
  await socket.roundTrip(6);
  assert.deepEqual(done, ["framed later", "fits"]);
  socket.destroy();
});

Deno.test("a failed connection's socket is ended once, and destroyed only if the client has not closed within 2 s", async () => {
  const { socket, session } = open();
  socket.send(frame(FrameType.DATA, 0, 0, new Uint8Array(4)));
  await socket.next((f) => f.type === FrameType.GOAWAY);
  const ended = Date.now();
  session.ping(() => {});
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(socket.writableEnded, true);
  assert.equal(socket.ends, 1);
  assert.equal(socket.destroyed, false, "cut off at once");
  await within(new Promise((resolve) => socket.once("close", resolve)), 10_000, "the 2 s cut-off");
  assert.ok(Date.now() - ended >= 1900, `cut off after ${Date.now() - ended} ms`);
});

Deno.test("a gRPC deadline answered by the transport counts as answered: headersSent and deadlineExceeded", async () => {
  const { socket, streams } = open();
  socket.send(request(1, [["grpc-timeout", "20m"]], END_HEADERS | 0x1));
  await within(
    socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1),
    5000,
    "DEADLINE_EXCEEDED",
  );
  const [stream] = streams[0];
  assert.equal(stream.headersSent, true);
  assert.equal(stream.deadlineExceeded, true);
  socket.destroy();
});

Deno.test("'end' waits for END_STREAM: DATA without it ends nothing", async () => {
  const { socket, streams } = open();
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  let ended = false;
  stream.on("end", () => ended = true);
  stream.on("data", () => {});
  socket.send(frame(FrameType.DATA, 0, 1, new Uint8Array(5)));
  await socket.roundTrip(2);
  assert.equal(ended, false);
  socket.destroy();
});

Deno.test("trailers asked for in a chain of 'wantTrailers' leave together, the flush yielding to the event loop after some rounds", async () => {
  const { socket, streams } = open();
  const ids = Array.from({ length: 20 }, (_, i) => 1 + 2 * i);
  socket.send(...ids.map((id) => request(id, [], END_HEADERS | 0x1)));
  await socket.roundTrip(1);
  const all = streams.map(([stream]) => stream);
  all.forEach((stream, i) => {
    stream.respond({ ":status": 200 }, { waitForTrailers: true });
    // Each stream's trailers end the next one, which then asks for its own.
    stream.on("wantTrailers", () => {
      stream.sendTrailers({ "grpc-status": "0" });
      all[i + 1]?.end();
    });
  });
  await socket.roundTrip(2);
  const writesBefore = socket.writes;
  all[0].end();
  await within(
    socket.next((f) =>
      f.type === FrameType.HEADERS && f.streamId === ids.at(-1) && (f.flags & 1) === 1
    ),
    5000,
    "the last trailers",
  );
  const writes = socket.writes - writesBefore;
  assert.ok(writes > 1 && writes < 20, `${writes} writes for 20 rounds`);
  socket.destroy();
});

Deno.test("a stream closes once: the socket's close after it changes nothing (no abort, no second 'close')", async () => {
  const { socket, streams } = open();
  socket.send(request(1, [], END_HEADERS | 0x1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  let closes = 0;
  stream.on("close", () => closes++);
  stream.respond({ ":status": 200 }, { endStream: true });
  await socket.roundTrip(2);
  assert.equal(closes, 1);
  socket.destroy();
  await Promise.resolve();
  assert.equal(closes, 1);
  assert.equal(stream.rstCode, ErrorCode.NO_ERROR);
  assert.equal(stream.aborted, false);
});

Deno.test("session.close() with no stream open ends the socket after its GOAWAY", async () => {
  const { socket, session } = open();
  await socket.roundTrip(1);
  session.close();
  await socket.next((f) => f.type === FrameType.GOAWAY);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(socket.writableEnded, true);
  socket.destroy();
});

Deno.test("a new session sends its SETTINGS before the client says anything", async () => {
  const server = new Http2Server();
  const socket = new FakeSocket();
  server.accept(socket as unknown as Socket);
  await within(socket.next((f) => f.type === FrameType.SETTINGS), 5000, "SETTINGS");
  socket.destroy();
});

Deno.test("session.close() twice sends one GOAWAY", async () => {
  const { socket, session } = open();
  socket.send(request(1));
  await socket.roundTrip(1);
  session.close();
  session.close();
  await socket.roundTrip(2);
  assert.equal(socket.parser.frames.filter((f) => f.type === FrameType.GOAWAY).length, 1);
  socket.destroy();
});

Deno.test("the client's RST_STREAM: 'aborted' unless its code is NO_ERROR", async () => {
  const { socket, streams } = open();
  socket.send(request(1), request(3));
  await socket.roundTrip(1);
  const [[one], [three]] = streams;
  const aborted: number[] = [];
  one.on("aborted", () => aborted.push(1));
  three.on("aborted", () => aborted.push(3));
  one.respond({ ":status": 200 });
  three.respond({ ":status": 200 });
  socket.send(frame(FrameType.RST_STREAM, 0, 1, uint32(ErrorCode.NO_ERROR)));
  socket.send(frame(FrameType.RST_STREAM, 0, 3, uint32(ErrorCode.CANCEL)));
  await socket.roundTrip(2);
  assert.deepEqual(aborted, [3]);
  assert.equal(one.aborted, false);
  assert.equal(three.aborted, true);
  assert.equal(three.rstCode, ErrorCode.CANCEL);
  socket.destroy();
});

Deno.test("a paused stream: no 'data' and no 'end' until resumed, then the data, one 'end', and the window given back", async () => {
  const { socket, streams } = open({ streamWindow: 65535 });
  socket.send(request(1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  const got: number[] = [];
  let ends = 0;
  stream.on("data", (chunk: Uint8Array) => got.push(chunk.length));
  stream.on("end", () => ends++);
  await socket.roundTrip(2);
  stream.pause();
  socket.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
  socket.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
  await socket.roundTrip(3);
  assert.deepEqual(got, []);
  stream.resume();
  // The window comes back without anything else from the client.
  await within(
    socket.next((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1),
    5000,
    "WINDOW_UPDATE",
  );
  stream.pause();
  socket.send(frame(FrameType.DATA, 0x1, 1, new Uint8Array(100)));
  await socket.roundTrip(4);
  assert.equal(got.reduce((a, b) => a + b, 0), 2 * 16384);
  assert.equal(ends, 0, "'end' with data unread");
  stream.resume();
  await socket.roundTrip(5);
  assert.equal(got.reduce((a, b) => a + b, 0), 2 * 16384 + 100);
  assert.equal(ends, 1);
  socket.destroy();
});

Deno.test("a request ended with no data, never read: no 'end' (as a Readable never read)", async () => {
  const { socket, streams } = open();
  socket.send(request(1, [], END_HEADERS | 0x1));
  await socket.roundTrip(1);
  const [stream] = streams[0];
  let ends = 0;
  stream.on("end", () => ends++);
  await socket.roundTrip(2);
  // Resumed and paused again before any delivery: still not read.
  stream.resume();
  stream.pause();
  await socket.roundTrip(3);
  assert.equal(ends, 0);
  stream.resume();
  await socket.roundTrip(4);
  assert.equal(ends, 1);
  // Paused and resumed after the end: no second 'end'.
  stream.pause();
  stream.resume();
  await socket.roundTrip(5);
  assert.equal(ends, 1);
  socket.destroy();
});

Deno.test("a write made by a 'wantTrailers' listener while the socket is backed up is called back once, when it drains", async () => {
  const done: string[] = [];
  const streams: Http2ServerStream[] = [];
  const socket = connect({ maxSocketBacklog: 100 }, (stream) => streams.push(stream));
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  for (const id of [1, 3]) {
    socket.send(
      frame(FrameType.HEADERS, END_HEADERS, id, hpackLiterals(grpcRequestHeaders("/s/M"))),
    );
  }
  await socket.roundTrip(1);
  const [a, b] = streams;
  b.respond({ ":status": 200, "content-type": "application/grpc" });
  a.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  a.on("wantTrailers", () => {
    // During the session's flush: the socket is backed up, so the callback waits for 'drain'.
    b.write(new Uint8Array(7), () => done.push("b written"));
    a.sendTrailers({ "grpc-status": "0" });
  });
  socket.holding = true;
  socket.writableLength = 1000;
  a.end(new Uint8Array(3));
  await socket.next((f) => f.type === FrameType.DATA && f.streamId === 3 && f.payload.length === 7);
  await socket.roundTrip(2);
  assert.equal(done.length, 0, "called back with the socket backed up");
  socket.drain();
  assert.deepEqual(done, ["b written"]);
  await socket.roundTrip(3);
  assert.deepEqual(done, ["b written"], "called back twice");
  socket.destroy();
});
