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
import { readUint32 } from "./_peer.ts";
import { waitFor } from "../_async.ts";

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
  #waiters: (() => void)[] = [];

  /** What setNoDelay was last called with. */
  noDelay?: boolean;

  setNoDelay(noDelay?: boolean): void {
    this.noDelay = noDelay;
  }

  /** An error every write calls back with (a connection the kernel gave up on). */
  writeError: Error | null = null;

  write(bytes: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    this.parser.push(bytes);
    if (this.holding) this.writableLength += bytes.length;
    callback?.(this.writeError);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return !this.holding;
  }

  /** How many times end() was called. */
  ends = 0;

  end(callback?: () => void): void {
    this.ends++;
    this.writableEnded = true;
    this.writable = false;
    // As a real socket's: called back once the bytes left, not within end().
    if (callback !== undefined) queueMicrotask(callback);
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
  const socket = connect(
    { streamWindow: 65535, connectionWindow: 1 << 20 },
    (stream) => {
      reader = stream;
      // A slow handler: takes one chunk, then pauses.
      stream.on("data", (chunk: Uint8Array) => {
        received.push(chunk.length);
        if (pauseEach) stream.pause();
      });
    },
  );
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
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
      if (
        Math.min(65535 + granted(socket, 0), 65535 + granted(socket, 1)) -
            sent <= 0
      ) return;
    }
  };
  await upload(1 << 20);
  // The first frame was taken at once (the reader was flowing); the rest waits in the server.
  assert.equal(
    sent,
    65535,
    `the client could send ${sent} bytes to a paused reader`,
  );
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
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  const firstData = await socket.next((f) =>
    f.type === FrameType.DATA && f.payload.length === 1000
  );
  // Under the backlog when written: called back without waiting for the socket.
  await socket.roundTrip(1);
  assert.deepEqual(done, ["first"]);
  assert.ok(socket.writableLength > 100);

  writer.write(new Uint8Array(10), () => done.push("second"));
  await socket.next((f) => f.type === FrameType.DATA && f.payload.length === 10);
  await socket.roundTrip(2);
  assert.deepEqual(
    done,
    ["first"],
    "a write was called back with the socket's backlog full",
  );
  socket.drain();
  assert.deepEqual(done, ["first", "second"]);

  // Still waiting when the socket closes: called back then (nothing will drain it).
  socket.writableLength = 1000;
  writer.write(new Uint8Array(1000), () => done.push("third"));
  await socket.next((f) =>
    f.type === FrameType.DATA && f.payload.length === 1000 && f !== firstData
  );
  await socket.roundTrip(3);
  assert.deepEqual(done, ["first", "second"]);
  socket.destroy();
  assert.deepEqual(done, ["first", "second", "third"]);
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
  assert.deepEqual(parseGoaway(goaway), {
    lastStreamId: 0,
    errorCode: ErrorCode.SETTINGS_TIMEOUT,
  });
  assert.equal(silent.writableEnded, true, "the socket was not ended");
  await acked.roundTrip(1);
  assert.equal(
    acked.parser.frames.some((f) => f.type === FrameType.GOAWAY),
    false,
  );
  assert.equal(acked.writableEnded, false);
  acked.destroy();
  silent.destroy();
  clearTimeout(bound);
});

Deno.test("non-Latin-1 header values go out as their UTF-8 bytes; Latin-1 ones as one byte a character", async () => {
  const socket = connect({}, (stream) => {
    stream.respond(
      {
        ":status": 200,
        "x-utf8": "caf\u00e9 \u2615",
        "x-latin1": "caf\u00e9\u00ff",
      },
      {
        endStream: true,
      },
    );
  });
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS | 0x1,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  const headers = await socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  const fields = new HpackDecoder().decode(headers.payload);
  const bytesOf = (name: string) => {
    const value = fields.find(([n]) => n === name)?.[1];
    assert.ok(value !== undefined, `no ${name}`);
    return [...value].map((c) => c.charCodeAt(0));
  };
  // "☕" is U+2615: UTF-8 E2 98 95; "é" is E9 in Latin-1, C3 A9 in UTF-8; "ÿ" (U+00FF) is Latin-1 FF.
  assert.deepEqual(bytesOf("x-utf8"), [
    0x63,
    0x61,
    0x66,
    0xc3,
    0xa9,
    0x20,
    0xe2,
    0x98,
    0x95,
  ]);
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
      "application/grpc ;charset=utf-8", // OWS before the parameter (RFC 9110 §5.6.6)
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

/** A server, one session on a {@linkcode FakeSocket} past the preface, and the streams it got. */
function openSession(
  options: ConstructorParameters<typeof Http2Server>[0] = {},
) {
  const server = new Http2Server(options);
  const streams: {
    stream: Http2ServerStream;
    headers: Record<string, unknown>;
  }[] = [];
  server.on(
    "stream",
    (stream: Http2ServerStream, headers: Record<string, unknown>) => {
      streams.push({ stream, headers });
    },
  );
  const socket = new FakeSocket();
  const session = server.accept(socket as unknown as Socket);
  socket.send(PREFACE, settingsFrame(), frame(FrameType.SETTINGS, ACK, 0));
  return { server, session, socket, streams };
}

/** A GOAWAY frame's debug data as text (RFC 9113 §6.8: after last-stream-id and error code). */
function goawayDebug(f: Frame): string {
  return new TextDecoder().decode(f.payload.subarray(8));
}

Deno.test("session.ping(): a PING whose ACK (same 8 bytes, RFC 9113 §6.7) calls back with the round trip; other ACKs are ignored", async () => {
  const { session, socket } = openSession();
  const calls: [Error | null, number, Uint8Array][] = [];
  await socket.roundTrip(100); // nothing left to flush: the ping must get its own
  const acked = Promise.withResolvers<void>();
  const started = performance.now();
  assert.equal(
    session.ping((
      error,
      ms,
      payload,
    ) => (calls.push([error, ms, payload]), acked.resolve())),
    true,
  );
  assert.equal(
    session.ping((error, ms, payload) => calls.push([error, ms, payload])),
    true,
  );
  const pings = () =>
    socket.parser.frames.filter((f) => f.type === FrameType.PING && (f.flags & ACK) === 0);
  await socket.next((f) => f.type === FrameType.PING && (f.flags & ACK) === 0);
  await socket.roundTrip(1);
  const [first, second] = pings();
  assert.equal(first.payload.length, 8);
  assert.notDeepEqual(
    first.payload,
    second.payload,
    "two pings with the same payload",
  );
  // An ACK of a payload never sent, then the first one's ACK twice.
  socket.send(
    frame(FrameType.PING, ACK, 0, new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9])),
  );
  socket.send(frame(FrameType.PING, ACK, 0, first.payload));
  socket.send(frame(FrameType.PING, ACK, 0, first.payload));
  await acked.promise;
  const elapsed = performance.now() - started;
  await socket.roundTrip(2);
  assert.equal(
    calls.length,
    1,
    "one ACK called back more than once, or the other ping's",
  );
  const [error, ms, payload] = calls[0];
  assert.equal(error, null);
  assert.ok(
    ms >= 0 && ms <= elapsed,
    `round trip ${ms} ms, ${elapsed} ms elapsed`,
  );
  assert.deepEqual(new Uint8Array(payload), first.payload);

  // The second ping is still waiting when the socket closes: it fails; no ping after.
  socket.destroy();
  assert.equal(calls.length, 2);
  assert.ok(calls[1][0] instanceof Error, "a pending ping not failed on close");
  assert.equal(session.ping(() => {}), false);
  assert.equal(session.closed, true);
});

Deno.test("session.goaway(code, lastStreamId, opaqueData): a GOAWAY with them; throws once destroyed", async () => {
  const { session, socket } = openSession();
  await socket.roundTrip(100); // nothing left to flush: goaway() must send its own
  session.goaway(
    ErrorCode.ENHANCE_YOUR_CALM,
    0,
    new TextEncoder().encode("slow down"),
  );
  const sent = await socket.next((f) => f.type === FrameType.GOAWAY);
  assert.deepEqual(parseGoaway(sent), {
    lastStreamId: 0,
    errorCode: ErrorCode.ENHANCE_YOUR_CALM,
  });
  assert.equal(goawayDebug(sent), "slow down");
  // An error code ends the connection (RFC 9113 §5.4.1).
  await waitFor(
    () => socket.writableEnded,
    "the socket to end after GOAWAY with an error",
  );

  // NO_ERROR: open streams go on (RFC 9113 §6.8), the socket stays open.
  const other = openSession();
  await other.socket.roundTrip(100);
  other.session.goaway();
  const plain = await other.socket.next((f) => f.type === FrameType.GOAWAY);
  assert.equal(parseGoaway(plain).errorCode, ErrorCode.NO_ERROR);
  assert.equal(plain.payload.length, 8, "debug data without opaqueData");
  await other.socket.roundTrip(1);
  assert.equal(other.socket.writableEnded, false);
  other.session.destroy();
  assert.throws(() => other.session.goaway(), /destroyed/);
  socket.destroy();
});

Deno.test("session.close(): GOAWAY NO_ERROR, the open stream goes on, the socket ends after it; callbacks on close", async () => {
  const { server, session, socket, streams } = openSession();
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      3,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  await socket.roundTrip(1);
  assert.equal(streams.length, 2);
  const events: string[] = [];
  session.on("close", () => events.push("session close"));
  server.close(() => events.push("server callback"));
  server.on("close", () => events.push("server close"));
  assert.equal(session.closed, false);
  session.close(() => events.push("session callback"));
  assert.equal(session.closed, true);
  session.close(); // a second close changes nothing
  const goaway = await socket.next((f) => f.type === FrameType.GOAWAY);
  assert.deepEqual(parseGoaway(goaway), {
    lastStreamId: 3,
    errorCode: ErrorCode.NO_ERROR,
  });
  // One of the two streams closes (the client resets it): the other is still open.
  socket.send(
    frame(
      FrameType.RST_STREAM,
      0,
      3,
      new Uint8Array([0, 0, 0, ErrorCode.CANCEL]),
    ),
  );
  await socket.roundTrip(2);
  assert.equal(
    socket.writableEnded,
    false,
    "the socket ended with a stream open",
  );
  assert.equal(parseGoaway(goaway).errorCode, ErrorCode.NO_ERROR);
  assert.equal(
    socket.parser.frames.filter((f) => f.type === FrameType.GOAWAY).length,
    1,
  );

  // The stream ends both ways: the socket ends.
  const { stream } = streams[0];
  stream.respond({ ":status": 200, "content-type": "application/grpc" });
  stream.end();
  socket.send(frame(FrameType.DATA, 0x1, 1));
  await socket.next((f) => f.type === FrameType.DATA && (f.flags & 0x1) === 0x1);
  await waitFor(
    () => socket.writableEnded,
    "the socket to end after the last stream",
  );
  assert.deepEqual(events, []);
  assert.equal(session.destroyed, false);
  // Ended, not cut: the client may still read what was sent (it closes its side, below).
  assert.equal(socket.destroyed, false, "the socket was cut, not ended");
  // A PING still arriving: its flush (a setImmediate, run before the one awaited here, FIFO)
  // writes nothing more to the ended socket and does not end it again.
  const written = socket.parser.frames.length;
  socket.send(pingFrame(77));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(socket.parser.frames.length, written, "written to after end()");
  assert.equal(socket.ends, 1);
  socket.destroy(); // the client closes its side
  assert.equal(session.destroyed, true);
  assert.equal(session.closed, true);
  assert.deepEqual(events, [
    "server callback",
    "server close",
    "session close",
    "session callback",
  ]);
  // Closing a destroyed session calls back soon, and sends nothing.
  const late = Promise.withResolvers<void>();
  session.close(late.resolve);
  await late.promise;
});

Deno.test("session.destroy(code): GOAWAY with the code, the socket cut, open streams closed (CANCEL, not aborted)", async () => {
  const { session, socket, streams } = openSession();
  const sessionStreams: number[] = [];
  session.on(
    "stream",
    (stream: Http2ServerStream) => sessionStreams.push(stream.id),
  );
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  await socket.roundTrip(1);
  assert.deepEqual(sessionStreams, [1], "the session's 'stream' event");
  const { stream } = streams[0];
  const closed = Promise.withResolvers<void>();
  stream.on("close", closed.resolve);
  const received: number[] = [];
  stream.on("data", (chunk: Uint8Array) => received.push(chunk.length));
  await socket.roundTrip(2); // the stream flows
  assert.equal(session.destroyed, false);
  session.destroy();
  assert.equal(session.destroyed, true);
  assert.equal(socket.writableEnded, true);
  // Data or a reset still arriving before the socket is cut goes to no stream.
  socket.send(frame(FrameType.DATA, 0, 1, new Uint8Array(10)));
  socket.send(
    frame(
      FrameType.RST_STREAM,
      0,
      1,
      new Uint8Array([0, 0, 0, ErrorCode.CANCEL]),
    ),
  );
  const goaway = socket.parser.frames.find((f) => f.type === FrameType.GOAWAY);
  assert.ok(goaway !== undefined, "no GOAWAY");
  assert.equal(parseGoaway(goaway).errorCode, ErrorCode.NO_ERROR);
  await closed.promise;
  // Cut once its last bytes left (end's callback), not on a timer.
  assert.equal(
    socket.destroyed,
    true,
    "the socket was not cut once its last bytes left",
  );
  assert.deepEqual(
    received,
    [],
    "data for a destroyed session's stream was delivered",
  );
  assert.equal(stream.rstCode, ErrorCode.CANCEL);
  assert.equal(stream.aborted, false);
  assert.equal(stream.closed, true);
  assert.equal(session.ping(() => {}), false);
  session.destroy(); // again: nothing more

  // With a code: the GOAWAY carries it.
  const other = openSession();
  other.session.destroy(ErrorCode.INTERNAL_ERROR);
  const coded = other.socket.parser.frames.find((f) => f.type === FrameType.GOAWAY);
  assert.equal(coded && parseGoaway(coded).errorCode, ErrorCode.INTERNAL_ERROR);
});

Deno.test("client RST_STREAM with an error code: the stream is aborted ('aborted', rstCode); with NO_ERROR it is not", async () => {
  const { socket, streams } = openSession();
  const request = (id: number) =>
    socket.send(
      frame(
        FrameType.HEADERS,
        END_HEADERS,
        id,
        hpackLiterals(grpcRequestHeaders("/s/M")),
      ),
    );
  request(1);
  request(3);
  await socket.roundTrip(1);
  const aborted: number[] = [];
  const closes: Promise<void>[] = [];
  for (const { stream } of streams) {
    stream.on("aborted", () => aborted.push(stream.id));
    const closed = Promise.withResolvers<void>();
    stream.on("close", closed.resolve);
    closes.push(closed.promise);
  }
  const rst = (id: number, code: number) => {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, code);
    socket.send(frame(FrameType.RST_STREAM, 0, id, payload));
  };
  rst(1, ErrorCode.CANCEL);
  rst(3, ErrorCode.NO_ERROR);
  await Promise.all(closes);
  assert.deepEqual(aborted, [1]);
  assert.deepEqual(
    streams.map(({ stream }) => [stream.aborted, stream.rstCode]),
    [
      [true, ErrorCode.CANCEL],
      [false, ErrorCode.NO_ERROR],
    ],
  );
  socket.destroy();
});

Deno.test("client GOAWAY: the session emits 'goaway' with its code and last stream id", async () => {
  const { session, socket } = openSession();
  const heard = Promise.withResolvers<[number, number]>();
  session.on(
    "goaway",
    (code: number, last: number) => heard.resolve([code, last]),
  );
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setUint32(4, ErrorCode.NO_ERROR);
  socket.send(frame(FrameType.GOAWAY, 0, 0, payload));
  assert.deepEqual(await heard.promise, [ErrorCode.NO_ERROR, 0]);
  socket.destroy();
});

Deno.test("session.state: both connection windows start at 65,535 (RFC 9113 §6.9.2); encrypted follows the socket", async () => {
  const { session, socket } = openSession({ connectionWindow: 65535 });
  await socket.roundTrip(1);
  assert.deepEqual(session.state, {
    localWindowSize: 65535,
    remoteWindowSize: 65535,
  });
  assert.equal(session.encrypted, false);
  assert.equal(
    socket.noDelay,
    true,
    "Nagle's algorithm left on: small frames wait",
  );
  (socket as unknown as { encrypted: boolean }).encrypted = true;
  assert.equal(session.encrypted, true);
  socket.destroy();
});

Deno.test("Http2Server.close() with no session calls back and emits 'close'; address() is null", async () => {
  const server = new Http2Server();
  assert.equal(server.address(), null);
  assert.equal(server.setTimeout(1000), server);
  const events: string[] = [];
  server.on("close", () => events.push("close"));
  const done = Promise.withResolvers<void>();
  server.close(() => (events.push("callback"), done.resolve()));
  await done.promise;
  assert.deepEqual(events, ["callback", "close"]);

  // A server not closed: its sessions closing do not close it.
  const open = new Http2Server();
  open.on("close", () => events.push("open server close"));
  const socket = new FakeSocket();
  open.accept(socket as unknown as Socket);
  socket.destroy();
  // close() without a callback.
  const closed = Promise.withResolvers<void>();
  open.on("close", closed.resolve);
  open.close();
  await closed.promise;
  assert.deepEqual(events, ["callback", "close", "open server close"]);
});

Deno.test("request headers: repeated names as arrays, the web bridge's protocol name dropped, grpc-timeout kept by the transport for application/grpc+proto and ;params", async () => {
  const grace = 250;
  const { socket, streams } = openSession({ deadlineGraceMs: grace });
  const send = (
    id: number,
    extra: [string, string][],
    type = "application/grpc",
  ) =>
    socket.send(
      frame(
        FrameType.HEADERS,
        END_HEADERS,
        id,
        hpackLiterals([
          ...grpcRequestHeaders("/s/M").filter(([n]) => n !== "content-type"),
          ["content-type", type],
          ...extra,
        ]),
      ),
    );
  const before = Date.now();
  send(1, [["x-r", "a"], ["x-r", "b"], ["x-r", "c"], ["x-one", "1"]]);
  send(
    3,
    [["routeguide-web-protocol", "grpc-web"], ["grpc-timeout", "2S"]],
    "application/grpc+proto",
  );
  send(5, [["grpc-timeout", "3S"]], "application/grpc;charset=utf-8");
  await socket.roundTrip(1);
  const after = Date.now();
  assert.deepEqual(streams[0].headers["x-r"], ["a", "b", "c"]);
  assert.equal(streams[0].headers["x-one"], "1");
  assert.equal("routeguide-web-protocol" in streams[1].headers, false);
  for (const [i, seconds] of [[1, 2], [2, 3]]) {
    const { stream, headers } = streams[i];
    assert.equal(
      headers["grpc-timeout"],
      undefined,
      `stream ${stream.id}: grpc-timeout reached the listener`,
    );
    assert.ok(
      stream.grpcDeadline >= before + seconds * 1000 &&
        stream.grpcDeadline <= after + seconds * 1000,
    );
    assert.equal(stream.resetAt, stream.grpcDeadline + grace);
  }
  socket.destroy();
});

Deno.test("grpcDeadlines: false: grpc-timeout reaches the listener and the stream is reset at timeout + deadlineGraceMs", async () => {
  const { socket, streams } = openSession({
    grpcDeadlines: false,
    deadlineGraceMs: 250,
  });
  const before = Date.now();
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      1,
      hpackLiterals([...grpcRequestHeaders("/s/M"), ["grpc-timeout", "1S"]]),
    ),
  );
  await socket.roundTrip(1);
  const after = Date.now();
  const { stream, headers } = streams[0];
  assert.equal(headers["grpc-timeout"], "1S");
  assert.equal(stream.grpcDeadline, Infinity);
  assert.ok(
    stream.resetAt >= before + 1250 && stream.resetAt <= after + 1250,
    `${stream.resetAt - before}`,
  );
  socket.destroy();
});

Deno.test("grpcTimeoutMs(): 1 to 8 ASCII digits and a unit H M S m u n (gRPC over HTTP/2, Timeout); anything else undefined", () => {
  assert.equal(grpcTimeoutMs("1H"), 3_600_000);
  assert.equal(grpcTimeoutMs("2M"), 120_000);
  assert.equal(grpcTimeoutMs("3S"), 3000);
  assert.equal(grpcTimeoutMs("4m"), 4);
  assert.equal(grpcTimeoutMs("5000u"), 5);
  assert.equal(grpcTimeoutMs("6000000n"), 6);
  assert.equal(grpcTimeoutMs("0m"), 0);
  assert.equal(grpcTimeoutMs("99999999S"), 99_999_999_000, "8 digits");
  assert.equal(grpcTimeoutMs("09m"), 9);
  for (
    const bad of [
      "S",
      "",
      "123456789S",
      "1x",
      "5",
      "1:S",
      "1/S",
      "-1S",
      " 1S",
      5,
      undefined,
    ]
  ) {
    assert.equal(grpcTimeoutMs(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("headerList(): pseudo-headers first, in their order, wherever they are given; undefined values left out", () => {
  assert.deepEqual(
    headerList({
      "content-type": "a",
      ":status": 200,
      "x-n": undefined,
      "X-B": 7,
      ":extra": "e",
    }),
    [[":status", "200"], [":extra", "e"], ["content-type", "a"], ["x-b", "7"]],
  );
  assert.deepEqual(headerList({ ":a": "1", ":b": "2", c: "3" }), [[":a", "1"], [
    ":b",
    "2",
  ], [
    "c",
    "3",
  ]]);
});

Deno.test("stream.write(): true while less than 64 KiB is queued (about the client's first window, 65,535 bytes, RFC 9113 §6.9.2), false from then", async () => {
  const { socket, streams } = openSession();
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  await socket.roundTrip(1);
  const { stream } = streams[0];
  stream.respond({ ":status": 200 });
  assert.equal(stream.write("hello"), true);
  assert.equal(
    stream.write(new Uint8Array(65536 - 6)),
    true,
    "64 KiB less a byte queued",
  );
  assert.equal(stream.write(new Uint8Array(1)), false, "64 KiB queued");
  const data = await socket.next((f) => f.type === FrameType.DATA);
  assert.deepEqual([...data.payload.subarray(0, 5)], [
    ...new TextEncoder().encode("hello"),
  ]);
  socket.destroy();
});

Deno.test("gRPC deadlines: the sweep at one call's deadline answers that call only, not a later one", async () => {
  // The session's timers do not hold the process open: this one does, and bounds the test.
  const bound = setTimeout(() => {}, 10_000);
  const { socket, streams } = openSession();
  const call = (id: number, timeout: string) =>
    socket.send(
      frame(
        FrameType.HEADERS,
        END_HEADERS,
        id,
        hpackLiterals([...grpcRequestHeaders("/s/M"), [
          "grpc-timeout",
          timeout,
        ]]),
      ),
    );
  call(1, "20m");
  call(3, "10S");
  const answered = await socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  const fields = new HpackDecoder().decode(answered.payload);
  assert.ok(
    fields.some(([n, v]) => n === "grpc-status" && v === "4"),
    JSON.stringify(fields),
  );
  await socket.roundTrip(1);
  assert.equal(
    socket.parser.frames.some((f) => f.type === FrameType.HEADERS && f.streamId === 3),
    false,
  );
  assert.deepEqual(streams.map(({ stream }) => stream.deadlineExceeded), [
    true,
    false,
  ]);
  assert.equal(
    streams[0].stream.headersSent,
    true,
    "headers sent by the deadline not counted",
  );
  socket.destroy();
  clearTimeout(bound);
});

/** A session with one request (stream 1, not ended) whose server stream the test gets. */
async function oneRequest(
  options: ConstructorParameters<typeof Http2Server>[0] = {},
) {
  const opened = openSession(options);
  opened.socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  await opened.socket.roundTrip(1000);
  return { ...opened, stream: opened.streams[0].stream };
}

Deno.test("request body: 'data' starts the flow (not other listeners); 'end' once after END_STREAM, after the data, even on an empty DATA frame", async () => {
  const { socket, stream } = await oneRequest();
  assert.equal(stream.isPaused(), true);
  const seen: string[] = [];
  stream.on("end", () => seen.push("end"));
  await socket.roundTrip(1);
  assert.equal(stream.isPaused(), true, "an 'end' listener started the flow");
  stream.on("data", (chunk: Uint8Array) => {
    seen.push(`data ${chunk.length}`);
    stream.pause();
  });
  await socket.roundTrip(2);
  assert.equal(stream.isPaused(), false);
  socket.send(frame(FrameType.DATA, 0, 1, new Uint8Array(3)));
  await socket.roundTrip(3);
  assert.deepEqual(seen, ["data 3"], "'end' before END_STREAM");
  // Paused with END_STREAM and data waiting: neither comes until resumed.
  socket.send(frame(FrameType.DATA, 0x1, 1, new Uint8Array(4)));
  await socket.roundTrip(4);
  assert.deepEqual(seen, ["data 3"], "'data' or 'end' while paused");
  stream.resume();
  await socket.roundTrip(5);
  assert.deepEqual(seen, ["data 3", "data 4"], "'end' while paused");
  stream.resume();
  await socket.roundTrip(6);
  assert.deepEqual(seen, ["data 3", "data 4", "end"]);
  // Pausing and resuming after the end: no second 'end'.
  stream.pause();
  stream.resume();
  await socket.roundTrip(7);
  assert.deepEqual(seen, ["data 3", "data 4", "end"]);
  socket.destroy();
});

Deno.test("request body: END_STREAM on the HEADERS, or an empty DATA frame after the data, ends a flowing request", async () => {
  const { socket, streams } = openSession();
  const ends: number[] = [];
  const sizes: number[] = [];
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS | 0x1,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      3,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  await socket.roundTrip(1);
  for (const { stream } of streams) {
    stream.on("data", (chunk: Uint8Array) => sizes.push(chunk.length));
    stream.on("end", () => ends.push(stream.id));
  }
  await socket.roundTrip(2);
  assert.deepEqual(ends, [1]);
  socket.send(frame(FrameType.DATA, 0, 3, new Uint8Array(5)));
  await socket.roundTrip(3);
  assert.deepEqual(ends, [1], "'end' without END_STREAM");
  socket.send(frame(FrameType.DATA, 0x1, 3));
  await socket.roundTrip(4);
  assert.deepEqual(ends, [1, 3]);
  assert.deepEqual(sizes, [5]);
  socket.destroy();
});

Deno.test("a closed stream: closed and destroyed, respond() and destroy() send nothing", async () => {
  const { socket, stream } = await oneRequest();
  assert.equal(stream.aborted, false);
  assert.equal(stream.headersSent, false);
  assert.equal(stream.destroyed, false);
  const closed = Promise.withResolvers<void>();
  stream.on("close", closed.resolve);
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, ErrorCode.CANCEL);
  socket.send(frame(FrameType.RST_STREAM, 0, 1, payload));
  await closed.promise;
  assert.equal(stream.closed, true);
  assert.equal(stream.destroyed, true);
  stream.respond({ ":status": 200 });
  stream.destroy();
  await socket.roundTrip(1);
  const sent = socket.parser.frames.filter((f) => f.streamId === 1);
  assert.deepEqual(sent, [], "frames sent on a stream the client reset");
  assert.equal(stream.headersSent, false);
  socket.destroy();
});

Deno.test("respond() sends its HEADERS on its own; stream.resetAfter(ms) resets (CANCEL) a stream still open then", async () => {
  const bound = setTimeout(() => {}, 10_000);
  const { socket, stream } = await oneRequest();
  stream.respond({ ":status": 200, "content-type": "application/grpc" });
  await socket.next((f) => f.type === FrameType.HEADERS && f.streamId === 1);
  assert.equal(stream.headersSent, true);
  const before = Date.now();
  stream.resetAfter(20);
  const rst = await socket.next((f) => f.type === FrameType.RST_STREAM && f.streamId === 1);
  assert.equal(readUint32(rst.payload), ErrorCode.CANCEL);
  assert.ok(Date.now() - before >= 20, "reset before its time");
  socket.destroy();
  clearTimeout(bound);
});

Deno.test("the session's one deadline timer: set for the earliest deadline, the later one's cleared", async () => {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const delays: number[] = [];
  const cleared: unknown[] = [];
  const timers: unknown[] = [];
  globalThis.setTimeout = ((f: () => void, ms?: number) => {
    const timer = realSet(f, ms);
    delays.push(ms ?? 0);
    timers.push(timer);
    return timer;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((timer?: number) => {
    cleared.push(timer);
    realClear(timer);
  }) as typeof clearTimeout;
  try {
    const { socket, streams } = openSession();
    await socket.roundTrip(1);
    const call = (id: number, timeout: string) =>
      socket.send(
        frame(
          FrameType.HEADERS,
          END_HEADERS,
          id,
          hpackLiterals([...grpcRequestHeaders("/s/M"), [
            "grpc-timeout",
            timeout,
          ]]),
        ),
      );
    const from = delays.length;
    call(1, "60S");
    const later = timers[delays.length - 1];
    call(3, "30S");
    call(5, "45S");
    const mine = delays.slice(from);
    assert.equal(mine.length, 2, `timers set: ${mine}`);
    assert.ok(mine[0] > 59_000 && mine[0] <= 60_000, `${mine[0]}`);
    assert.ok(mine[1] > 29_000 && mine[1] <= 30_000, `${mine[1]}`);
    assert.ok(cleared.includes(later), "the later timer was left running");
    assert.equal(streams.length, 3);
    socket.destroy();
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
});

Deno.test("a reader starting to read reopens the client's window (WINDOW_UPDATE) without the client sending more", async () => {
  // A stream window of 65,535: 40,000 bytes read is past half of it, worth an update.
  const { socket, stream } = await oneRequest({
    streamWindow: 65535,
    connectionWindow: 1 << 20,
  });
  for (const n of [16384, 16384, 7232]) {
    socket.send(frame(FrameType.DATA, 0, 1, new Uint8Array(n)));
  }
  await socket.roundTrip(1);
  const isUpdate = (f: Frame) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1;
  assert.equal(
    socket.parser.frames.some(isUpdate),
    false,
    "window reopened with nothing read",
  );
  let received = 0;
  stream.on("data", (chunk: Uint8Array) => received += chunk.length);
  await socket.next(isUpdate);
  assert.equal(received, 40000);
  socket.destroy();
});

Deno.test("a client that reads its ACKs may ping on: the count of unsent ACKs restarts at each write done", async () => {
  const { socket } = openSession({ maxUnsentAcks: 3 });
  for (let n = 1; n <= 10; n++) await socket.roundTrip(n);
  assert.equal(
    socket.parser.frames.some((f) => f.type === FrameType.GOAWAY),
    false,
  );
  socket.destroy();
});

Deno.test("the server's SETTINGS go out at once, before the client sends anything (RFC 9113 §3.4)", async () => {
  const server = new Http2Server();
  const socket = new FakeSocket();
  server.accept(socket as unknown as Socket);
  const settings = await socket.next((f) => f.type === FrameType.SETTINGS);
  assert.equal(settings.flags & ACK, 0);
  socket.destroy();
});

Deno.test("session timers: cleared when the socket closes; a client that never closes is cut 2 s after the socket ends", async () => {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const set: { timer: unknown; ms: number; run: () => void }[] = [];
  const cleared = new Set<unknown>();
  globalThis.setTimeout = ((f: () => void, ms?: number) => {
    const timer = realSet(f, ms);
    set.push({ timer, ms: ms ?? 0, run: f });
    return timer;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((timer?: number) => {
    cleared.add(timer);
    realClear(timer);
  }) as typeof clearTimeout;
  try {
    const { session, socket } = openSession({ settingsTimeoutMs: 5000 });
    socket.send(
      frame(
        FrameType.HEADERS,
        END_HEADERS,
        1,
        hpackLiterals([...grpcRequestHeaders("/s/M"), ["grpc-timeout", "30S"]]),
      ),
    );
    await socket.roundTrip(1);
    const settingsTimer = set.find((t) => t.ms === 5000);
    const sweepTimer = set.find((t) => t.ms > 29_000 && t.ms <= 30_000);
    assert.ok(settingsTimer && sweepTimer, `timers: ${set.map((t) => t.ms)}`);
    session.close();
    socket.send(
      frame(FrameType.RST_STREAM, 0, 1, new Uint8Array([0, 0, 0, 8])),
    );
    await waitFor(() => socket.writableEnded, "the socket to end");
    const cut = set.filter((t) => t.ms === 2000);
    assert.equal(cut.length, 1, `timers: ${set.map((t) => t.ms)}`);
    assert.equal(socket.destroyed, false);
    cut[0].run();
    assert.equal(
      socket.destroyed,
      true,
      "a client that does not close was not cut",
    );
    assert.ok(
      cleared.has(settingsTimer.timer),
      "the SETTINGS timer outlived the session",
    );
    assert.ok(
      cleared.has(sweepTimer.timer),
      "the deadline timer outlived the session",
    );
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
});

Deno.test("a write that waited for the client's window and one within them call back with exactly maxSocketBacklog bytes waiting (only more holds them)", async () => {
  const done: string[] = [];
  let writer!: Http2ServerStream;
  const socket = connect({ maxSocketBacklog: 100 }, (stream) => {
    writer = stream;
    stream.respond({ ":status": 200, "content-type": "application/grpc" });
    stream.write(new Uint8Array(20), () => done.push("written"));
  });
  // SETTINGS_INITIAL_WINDOW_SIZE (0x4) of 10: the write waits for the client's window.
  socket.send(
    PREFACE,
    settingsFrame([[0x4, 10]]),
    frame(FrameType.SETTINGS, ACK, 0),
  );
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS,
      1,
      hpackLiterals(grpcRequestHeaders("/s/M")),
    ),
  );
  await socket.next((f) => f.type === FrameType.DATA && f.payload.length === 10);
  await socket.roundTrip(1);
  assert.equal(done.length, 0, "called back before all its bytes were sent");
  socket.writableLength = 100;
  const increment = new Uint8Array(4);
  new DataView(increment.buffer).setUint32(0, 100); // room for the rest and the next write
  socket.send(frame(FrameType.WINDOW_UPDATE, 0, 1, increment));
  await socket.roundTrip(2);
  assert.deepEqual(done, ["written"]);

  // Written with exactly maxSocketBacklog bytes waiting and within the windows: called back
  // without waiting for the socket, though its own bytes then make the backlog larger.
  socket.holding = true;
  socket.writableLength = 100;
  writer.write(new Uint8Array(5), () => done.push("at the limit"));
  await socket.next((f) => f.type === FrameType.DATA && f.payload.length === 5);
  await Promise.resolve();
  assert.deepEqual(done, ["written", "at the limit"]);
  socket.destroy();
});

Deno.test("by default write callbacks do not wait for a socket with less than 1 MiB waiting in it", async () => {
  const { socket, stream } = await oneRequest();
  socket.holding = true;
  socket.writableLength = 512 * 1024;
  const done = Promise.withResolvers<void>();
  stream.respond({ ":status": 200, "content-type": "application/grpc" });
  stream.write(new Uint8Array(10), () => done.resolve());
  await done.promise;
  socket.destroy();
});

Deno.test("a request without a content type keeps its grpc-timeout (it is not gRPC) and goes to otherRequests", async () => {
  const seen: Record<string, unknown>[] = [];
  const { socket } = openSession({
    otherRequests: (stream, headers) => {
      seen.push(headers);
      stream.close();
    },
  });
  socket.send(
    frame(
      FrameType.HEADERS,
      END_HEADERS | 0x1,
      1,
      hpackLiterals([
        ...grpcRequestHeaders("/s/M").filter(([n]) => n !== "content-type"),
        ["grpc-timeout", "1S"],
      ]),
    ),
  );
  await socket.roundTrip(1);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]["grpc-timeout"], "1S");
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

Deno.test("ACKs whose writes failed stay counted as unsent: past maxUnsentAcks, GOAWAY ENHANCE_YOUR_CALM", async () => {
  const { socket } = openSession({ maxUnsentAcks: 3 });
  await socket.roundTrip(1);
  socket.writeError = new Error("connection reset");
  // One PING at a time, each ACK written (and failed) before the next.
  const isGoaway = (f: Frame) => f.type === FrameType.GOAWAY;
  for (let n = 2; n <= 10 && !socket.parser.frames.some(isGoaway); n++) {
    socket.send(pingFrame(n));
    await socket.next((f) =>
      isGoaway(f) ||
      (f.type === FrameType.PING && (f.flags & ACK) === ACK &&
        readUint32(f.payload.subarray(4)) === n)
    );
  }
  const goaway = socket.parser.frames.find(isGoaway);
  assert.ok(goaway !== undefined, "no GOAWAY after 9 ACKs that all failed");
  assert.equal(parseGoaway(goaway).errorCode, ErrorCode.ENHANCE_YOUR_CALM);
  socket.destroy();
});

Deno.test("trailers wanted by a stream of a destroyed session are asked of no one", async () => {
  const { session, socket, stream } = await oneRequest();
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.end(new Uint8Array(5));
  let asked = 0;
  stream.on("wantTrailers", () => asked++);
  session.destroy(); // its last output is framed now: the DATA, and the wish for trailers
  socket.send(pingFrame(9)); // handled before the socket is cut
  await Promise.resolve();
  assert.equal(asked, 0);
});
