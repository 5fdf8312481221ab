/**
 * Test helpers for the web protocols: raw h2c and HTTP/1.1 requests, and
 * envelope and proto bytes written by hand from the specs.
 *
 * @module
 */

import http2 from "node:http2";
import { Buffer } from "node:buffer";
import { varint } from "../_proto.ts";
import { concat, RawHttp1 } from "../interop/_http1_raw.ts";

/** What a request got back. */
export interface RawResponse {
  /** The HTTP status. */
  status: number;
  /** Response headers (pseudo-headers left out). */
  headers: Record<string, string | string[]>;
  /** The body. */
  body: Uint8Array;
  /** HTTP/2 trailers, if any. */
  trailers: Record<string, string | string[]>;
  /** The body as text. */
  text(): string;
}

/** A request to send. */
export interface RawRequest {
  /** @default {"POST"} */
  method?: string;
  /** Path and query. */
  path: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Body pieces, each sent as it comes (the stream stays open between them when `gapMs`). */
  body?: Uint8Array | string | (Uint8Array | string)[];
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** An h2c session to `127.0.0.1:port`, closed by `await using`. */
export function h2c(port: number): http2.ClientHttp2Session & AsyncDisposable {
  // Large header blocks are for the server to refuse (grpc-js lifts the cap the same way).
  const session = http2.connect(`http://127.0.0.1:${port}`, {
    maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
  });
  session.on("error", () => {});
  return Object.assign(session, {
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        if (session.closed || session.destroyed) return resolve();
        session.close(() => resolve());
      }),
  });
}

/** Sends one request on an h2c session and reads the whole answer. */
export function h2request(
  session: http2.ClientHttp2Session,
  request: RawRequest,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": request.method ?? "POST",
      ":path": request.path,
      ...request.headers,
    }, { signal: request.signal } as http2.ClientSessionRequestOptions);
    let status = 0;
    let headers: Record<string, string | string[]> = {};
    let trailers: Record<string, string | string[]> = {};
    const chunks: Uint8Array[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      headers = strip(h);
    });
    stream.on("trailers", (t) => trailers = strip(t));
    stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    stream.on("end", () => {
      // A server may answer before it has read the whole request and ask
      // for no more with RST_STREAM NO_ERROR, which Deno's node:http2 client
      // does not report; with the answer whole, the rest of the request is
      // of no use (RFC 9113 §8.1), so stop sending it.
      if (!stream.writableFinished) stream.close(http2.constants.NGHTTP2_CANCEL);
      const body = Buffer.concat(chunks);
      resolve({ status, headers, body, trailers, text: () => new TextDecoder().decode(body) });
    });
    stream.on("error", reject);
    const pieces = request.body === undefined
      ? []
      : Array.isArray(request.body)
      ? request.body
      : [request.body];
    for (const piece of pieces) stream.write(piece);
    stream.end();
  });
}

/** Header values without pseudo-headers. */
function strip(headers: http2.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(":") && value !== undefined) out[name] = value as string | string[];
  }
  return out;
}

/** A 5-byte-prefixed envelope, from the gRPC spec: flags, big-endian length, payload. */
export function envelope(flags: number, payload: Uint8Array | string): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

/** Splits a body into envelopes; throws when it does not end on a boundary. */
export function envelopes(body: Uint8Array): { flags: number; data: Uint8Array }[] {
  const out = [];
  let at = 0;
  while (at < body.length) {
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    if (at + 5 + length > body.length) throw new Error(`truncated envelope at ${at}`);
    out.push({ flags: body[at], data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** A routeguide.Point in binary proto: latitude field 1, longitude field 2 (varints). */
export function pointProto(latitude: number, longitude: number): Uint8Array {
  const bytes: number[] = [];
  if (latitude !== 0) bytes.push(0x08, ...varint(latitude));
  if (longitude !== 0) bytes.push(0x10, ...varint(longitude));
  return new Uint8Array(bytes);
}

/** A routeguide.Rectangle in binary proto: lo field 1, hi field 2 (Points). */
export function rectangleProto(lo: Uint8Array, hi: Uint8Array): Uint8Array {
  return new Uint8Array([0x0a, lo.length, ...lo, 0x12, hi.length, ...hi]);
}

/** The `name` (field 1) of a binary routeguide.Feature. */
export function featureName(bytes: Uint8Array): string {
  if (bytes[0] !== 0x0a) return "";
  return new TextDecoder().decode(bytes.subarray(2, 2 + bytes[1]));
}

/** gRPC-Web trailers (a 0x80 frame's payload) as a map. */
export function parseTrailerBlock(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of new TextDecoder().decode(data).split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

/** A binary message's fields: number → values (varints as numbers, length-delimited as bytes). */
export function protoFields(bytes: Uint8Array): Map<number, (number | Uint8Array)[]> {
  const out = new Map<number, (number | Uint8Array)[]>();
  let at = 0;
  const readVarint = () => {
    let value = 0n;
    for (let shift = 0n;; shift += 7n) {
      const byte = bytes[at++];
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return Number(BigInt.asIntN(32, value));
    }
  };
  while (at < bytes.length) {
    const key = readVarint();
    const field = key >>> 3;
    let value: number | Uint8Array;
    if ((key & 7) === 0) value = readVarint();
    else {
      const length = readVarint();
      value = bytes.subarray(at, at + length);
      at += length;
    }
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

/** A routeguide.RouteNote in binary proto: location field 1, message field 2. */
export function noteProto(latitude: number, longitude: number, message: string): Uint8Array {
  const point = pointProto(latitude, longitude);
  const text = new TextEncoder().encode(message);
  return new Uint8Array([0x0a, point.length, ...point, 0x12, text.length, ...text]);
}

/** Sends one request over HTTP/1.1 with `fetch` (plain http:// is HTTP/1.1) and reads the whole answer. */
export async function h1request(port: number, request: RawRequest): Promise<RawResponse> {
  const pieces = request.body === undefined
    ? []
    : Array.isArray(request.body)
    ? request.body
    : [request.body];
  const body = pieces.length === 0 ? undefined : Buffer.concat(
    pieces.map((p) => typeof p === "string" ? new TextEncoder().encode(p) : p),
  );
  const response = await fetch(`http://127.0.0.1:${port}${request.path}`, {
    method: request.method ?? "POST",
    headers: request.headers,
    body,
    signal: request.signal,
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => headers[name] = value);
  return {
    status: response.status,
    headers,
    body: bytes,
    trailers: {},
    text: () => new TextDecoder().decode(bytes),
  };
}

/**
 * Sends one request on a raw HTTP/1.1 connection, its body with a
 * Content-Length, and reads the whole answer, so that the next request can
 * go on the same connection. The body is written while the answer is read:
 * a server may answer before it has read it all.
 */
export async function h1exchange(connection: RawHttp1, request: RawRequest): Promise<RawResponse> {
  const pieces = request.body === undefined
    ? []
    : Array.isArray(request.body)
    ? request.body
    : [request.body];
  const body = concat(
    pieces.map((p) => typeof p === "string" ? new TextEncoder().encode(p) : p),
  );
  const fields = Object.entries(request.headers ?? {}).map(([name, value]) =>
    `${name}: ${value}\r\n`
  );
  const head = `${request.method ?? "POST"} ${request.path} HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
    `${fields.join("")}content-length: ${body.length}\r\n\r\n`;
  // One write: a head and body in two would wait on Nagle's algorithm for
  // the server's delayed ACK. A server that answers early and closes may
  // leave the rest unwritable.
  const written = connection.write(concat([new TextEncoder().encode(head), body])).catch(() => {});
  const answer = await connection.readHead();
  const bytes = await connection.readBodyToEnd();
  await written;
  return {
    status: answer.status,
    headers: Object.fromEntries(answer.headers),
    body: bytes,
    trailers: {},
    text: () => new TextDecoder().decode(bytes),
  };
}

/** One connection to a server that carries one request after another. */
export interface WebConnection extends AsyncDisposable {
  /** Sends a request and reads the whole answer. */
  send(request: RawRequest): Promise<RawResponse>;
}

/** A transport the web protocols run on. */
export interface WebTransport {
  /** `HTTP/1.1` or `h2c`. */
  name: string;
  /** Whether it is HTTP/1.1 (no trailers, one request at a time per connection). */
  http1: boolean;
  /** Opens a connection to `127.0.0.1:port`. */
  open(port: number): Promise<WebConnection>;
}

/** HTTP/1.1 over a raw socket (keep-alive: each request on the same connection). */
export const HTTP1: WebTransport = {
  name: "HTTP/1.1",
  http1: true,
  async open(port) {
    const connection = await RawHttp1.connect("127.0.0.1", port);
    return {
      send: (request) => h1exchange(connection, request),
      [Symbol.asyncDispose]: () => connection[Symbol.asyncDispose](),
    };
  },
};

/** HTTP/2 with prior knowledge, one session. */
export const H2C: WebTransport = {
  name: "h2c",
  http1: false,
  open(port) {
    const session = h2c(port);
    return Promise.resolve({
      send: (request) => h2request(session, request),
      // Every answer is in; a graceful close of Deno's node:http2 session
      // can wait for a minute after a request it cancelled (a large upload
      // answered early), so the session goes at once.
      [Symbol.asyncDispose]: () => {
        session.destroy();
        return Promise.resolve();
      },
    });
  },
};

/** Both transports. */
export const TRANSPORTS: readonly WebTransport[] = [HTTP1, H2C];
