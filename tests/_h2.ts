/**
 * Test helpers for hostile traffic: a tiny HTTP/2 frame builder and parser
 * (RFC 9113 §4.1) and a raw TCP connection that records what the server
 * sends back and when it closes.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Frame types, as RFC 9113 §6 numbers them (stated here, not imported from the code under test). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Error codes, as RFC 9113 §7 numbers them (stated here, not imported from the code under test). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** Frame flags used here. */
export const Flag = {
  ACK: 0x1,
  END_STREAM: 0x1,
  END_HEADERS: 0x4,
} as const;

/** One HTTP/2 frame. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

/** Encodes one frame: 9-byte header, then the payload. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = new Uint8Array(),
): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  const view = new DataView(out.buffer);
  out[0] = (payload.length >>> 16) & 0xff;
  out[1] = (payload.length >>> 8) & 0xff;
  out[2] = payload.length & 0xff;
  out[3] = type;
  out[4] = flags;
  view.setUint32(5, streamId & 0x7fffffff);
  out.set(payload, 9);
  return out;
}

/** A SETTINGS frame with the given (id, value) pairs; empty by default. */
export function settingsFrame(entries: [number, number][] = []): Uint8Array {
  const payload = new Uint8Array(entries.length * 6);
  const view = new DataView(payload.buffer);
  entries.forEach(([id, value], i) => {
    view.setUint16(i * 6, id);
    view.setUint32(i * 6 + 2, value);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

/** A PING frame (not an ACK) with 8 bytes of opaque data made from `n`. */
export function pingFrame(n: number): Uint8Array {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setUint32(4, n);
  return frame(FrameType.PING, 0, 0, payload);
}

/** Random bytes of the given length. */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  }
  return out;
}

/** Joins byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits a byte stream into frames; keeps a partial frame until the rest arrives. */
export class FrameParser {
  #buffer: Uint8Array = new Uint8Array();
  /** Every complete frame so far. */
  readonly frames: Frame[] = [];

  /** Adds received bytes; returns the frames they completed. */
  push(bytes: Uint8Array): Frame[] {
    this.#buffer = concat([this.#buffer, bytes]);
    const done: Frame[] = [];
    while (this.#buffer.length >= 9) {
      const b = this.#buffer;
      const length = (b[0] << 16) | (b[1] << 8) | b[2];
      if (b.length < 9 + length) break;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      done.push({
        type: b[3],
        flags: b[4],
        streamId: view.getUint32(5) & 0x7fffffff,
        payload: b.slice(9, 9 + length),
      });
      this.#buffer = b.slice(9 + length);
    }
    this.frames.push(...done);
    return done;
  }

  /** Bytes received that do not make a whole frame yet. */
  get leftover(): number {
    return this.#buffer.length;
  }
}

/** The last stream id and error code of a GOAWAY frame. */
export function parseGoaway(f: Frame): { lastStreamId: number; errorCode: number } {
  const view = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
  return { lastStreamId: view.getUint32(0) & 0x7fffffff, errorCode: view.getUint32(4) };
}

/** The (id, value) pairs of a SETTINGS frame. */
export function parseSettings(f: Frame): [number, number][] {
  const view = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
  const out: [number, number][] = [];
  for (let i = 0; i + 6 <= f.payload.length; i += 6) {
    out.push([view.getUint16(i), view.getUint32(i + 2)]);
  }
  return out;
}

/** A raw TCP connection to the server that parses what comes back as HTTP/2 frames. */
export interface RawConnection extends AsyncDisposable {
  /** The socket. */
  readonly socket: net.Socket;
  /** Frames received so far (the server speaks first with its SETTINGS). */
  readonly parser: FrameParser;
  /** All bytes received so far. */
  readonly received: () => Uint8Array;
  /** Resolves once the socket closed (for any reason). */
  readonly closed: Promise<void>;
  /** Whether the socket closed. */
  readonly isClosed: () => boolean;
  /** The first socket error, if any (ECONNRESET, EPIPE...). */
  readonly error: () => Error | undefined;
  /** Writes bytes; resolves once handed to the OS, or on a write error. */
  write(bytes: Uint8Array | string): Promise<void>;
  /** Resolves with the first frame (received so far or later) that matches, or `undefined` on close or timeout. */
  waitFor(match: (f: Frame) => boolean, ms: number): Promise<Frame | undefined>;
  /** Resolves true once closed, false when `ms` pass first. */
  waitClosed(ms: number): Promise<boolean>;
}

/** Opens a raw TCP connection to 127.0.0.1:port. */
export async function rawConnect(port: number): Promise<RawConnection> {
  const socket = net.connect({ port, host: "127.0.0.1" });
  const parser = new FrameParser();
  const chunks: Uint8Array[] = [];
  let firstError: Error | undefined;
  let isClosed = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  socket.on("data", (data: Buffer) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    chunks.push(bytes);
    parser.push(bytes);
    notify();
  });
  socket.on("error", (error: Error) => firstError ??= error);
  const closed = new Promise<void>((resolve) =>
    socket.on("close", () => {
      isClosed = true;
      resolve();
      notify();
    })
  );
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });

  const waitUntil = <T>(check: () => T | undefined, ms: number): Promise<T | undefined> => {
    const now = check();
    if (now !== undefined || isClosed) return Promise.resolve(now);
    return new Promise((resolve) => {
      const finish = (value: T | undefined) => {
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(value);
      };
      const listener = () => {
        const value = check();
        if (value !== undefined || isClosed) finish(value);
      };
      const timer = setTimeout(() => finish(undefined), ms);
      listeners.add(listener);
    });
  };

  return {
    socket,
    parser,
    received: () => concat(chunks),
    closed,
    isClosed: () => isClosed,
    error: () => firstError,
    write(bytes) {
      return new Promise((resolve) => {
        if (isClosed || socket.destroyed) return resolve();
        socket.write(bytes, () => resolve());
      });
    },
    waitFor(match, ms) {
      return waitUntil(() => parser.frames.find(match), ms);
    },
    async waitClosed(ms) {
      return (await waitUntil(() => (isClosed ? true : undefined), ms)) === true;
    },
    async [Symbol.asyncDispose]() {
      socket.destroy();
      await closed;
    },
  };
}

/** An HPACK integer with an `n`-bit prefix whose other bits are `first` (RFC 7541 §5.1). */
function hpackInt(value: number, n: number, first: number): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/**
 * A header block of literal fields without indexing and without Huffman
 * coding (RFC 7541 §6.2.2): valid HPACK that needs no tables.
 */
export function hpackLiterals(headers: [string, string][]): Uint8Array {
  const enc = new TextEncoder();
  const out: number[] = [];
  for (const [name, value] of headers) {
    const n = enc.encode(name);
    const v = enc.encode(value);
    out.push(0x00, ...hpackInt(n.length, 7, 0), ...n, ...hpackInt(v.length, 7, 0), ...v);
  }
  return new Uint8Array(out);
}

/** The request headers of a gRPC call to `path`. */
export function grpcRequestHeaders(path: string, authority = "127.0.0.1"): [string, string][] {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", authority],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ];
}

/** A gRPC length-prefixed message: flag 0, 4-byte big-endian length, the bytes. */
export function grpcMessage(body: Uint8Array, claimedLength = body.length): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(1, claimedLength);
  out.set(body, 5);
  return out;
}
