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

  setNoDelay(): void {}

  write(bytes: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    this.parser.push(bytes);
    if (this.holding) this.writableLength += bytes.length;
    callback?.(null);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return !this.holding;
  }

  end(callback?: () => void): void {
    this.writableEnded = true;
    this.writable = false;
    callback?.();
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
