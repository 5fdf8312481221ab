/**
 * The bridge from a web call to grpc-js: {@linkcode GrpcBridgeStream}
 * mimics the part of a `node:http2` server stream grpc-js uses, so that a
 * web request, fed to grpc-js's `'stream'` handler, is served by the one
 * gRPC implementation. The request side hands grpc-js uncompressed,
 * binary-proto gRPC envelopes as the body arrives; the response side gives
 * a protocol's {@linkcode WebResponder} grpc-js's headers, each message as
 * it is written and the status with its trailers.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { LightEmitter } from "../http2/emitter.ts";
import { grpcTimeoutMs } from "../http2/server.ts";
import { Status, WebError } from "./codes.ts";
import type { HttpExchange } from "./exchange.ts";

/** Metadata: lower-case names, each with its values (`-bin` values as base64). */
export type Metadata = Record<string, string[]>;

/** A call's status as grpc-js ended it. */
export interface CallStatus {
  /** The gRPC status code. */
  readonly code: number;
  /** The status message, decoded. */
  readonly message: string;
  /** The `grpc-status-details-bin` value (base64), when there is one. */
  readonly detailsBin?: string;
}

/** Headers as grpc-js reads and writes them on a `node:http2` stream. */
export type GrpcHeaders = Record<string, string | string[] | number | undefined>;

/** Hands a stream and its headers to grpc-js's `'stream'` handler. */
export type DispatchStream = (stream: GrpcBridgeStream, headers: GrpcHeaders) => void;

/** Turns what grpc-js answers into a web protocol's answer on the exchange. */
export interface WebResponder {
  /** grpc-js sent its response headers (not called for a trailers-only answer). */
  headers(metadata: Metadata): void;
  /**
   * grpc-js wrote a message (binary proto); `done` once it is on its way
   * (backpressure). `framed` is the same message in the uncompressed gRPC
   * envelope grpc-js wrote, which a binary protocol may send as it is.
   */
  message(bytes: Uint8Array, done: () => void, framed?: Uint8Array): void;
  /** The call ended with `status` and `trailers`; `headers` may not have been called. */
  end(status: CallStatus, trailers: Metadata): void;
}

/** Turns the request body into gRPC messages (binary proto, uncompressed). */
export interface RequestDecoder {
  /**
   * Takes the next piece of the body; passes each message it completes to
   * `out`, with `framed` when the message is at hand in an uncompressed gRPC
   * envelope already. Throws a {@linkcode WebError}.
   */
  push(chunk: Uint8Array, out: (message: Uint8Array, framed?: Uint8Array) => void): void;
  /** The body ended; passes what is left to `out`. Throws a {@linkcode WebError}. */
  end(out: (message: Uint8Array) => void): void;
}

/** What {@linkcode startBridge} needs. */
export interface BridgeOptions {
  /** The web request and its response. */
  exchange: HttpExchange;
  /** grpc-js's stream handler. */
  dispatch: DispatchStream;
  /** The RPC path, `/package.Service/Method`. */
  path: string;
  /** Request metadata for the call (custom headers only). */
  metadata: GrpcHeaders;
  /**
   * The call's deadline as a `grpc-timeout` value, when it has one. The
   * exchange keeps it (its `expireAfter`) when it can, and grpc-js sees no
   * timeout; else grpc-js does.
   */
  grpcTimeout?: string;
  /** Decodes the request body; `undefined` when the call takes no body (Connect GET, unknown method). */
  decoder?: RequestDecoder;
  /** Messages to send before the body (Connect GET's query message). */
  initial?: readonly Uint8Array[];
  /** Writes the answer. */
  responder: WebResponder;
}

/** The RST_STREAM code of a cancelled stream (RFC 9113 §7). */
const CANCEL = 8;

/** Response header names that are the protocol's, never metadata. */
const RESERVED_RESPONSE = new Set([
  ":status",
  "content-type",
  "grpc-encoding",
  "grpc-accept-encoding",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "content-length",
  "te",
  "date",
]);

/** Response headers as metadata, protocol headers left out. */
export function metadataOf(headers: GrpcHeaders): Metadata {
  const out: Metadata = {};
  for (const key in headers) {
    const value = headers[key];
    const name = key.toLowerCase();
    if (value === undefined || RESERVED_RESPONSE.has(name)) continue;
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    const previous = out[name];
    out[name] = previous === undefined ? values : previous.concat(values);
  }
  return out;
}

/** A `grpc-message` value decoded (grpc-js percent-encodes it). */
function decodeGrpcMessage(value: unknown): string {
  if (value === undefined) return "";
  const text = String(value);
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The status in trailers (or a trailers-only answer). */
export function statusOf(trailers: GrpcHeaders): CallStatus {
  const code = Number(trailers["grpc-status"] ?? Status.UNKNOWN);
  const details = trailers["grpc-status-details-bin"];
  return {
    code: Number.isInteger(code) && code >= 0 && code <= 16 ? code : Status.UNKNOWN,
    message: decodeGrpcMessage(trailers["grpc-message"]),
    detailsBin: typeof details === "string" ? details : undefined,
  };
}

/** A `node:http2` session stand-in: grpc-js reads the peer's address from its socket. */
interface SessionStandIn {
  readonly socket: { readonly remoteAddress?: string; readonly remotePort?: number };
}

/** The part of a `node:http2` server stream grpc-js uses, over a web exchange. */
export class GrpcBridgeStream extends LightEmitter {
  /** The stand-in session (grpc-js reads the peer from it). */
  readonly session: SessionStandIn;
  /** The RST_STREAM code it closed with: 0 when it ended normally, CANCEL when cancelled. */
  rstCode?: number;
  /** Whether the client went away (or its input was refused). */
  aborted = false;
  /** Whether grpc-js sent response headers. */
  headersSent = false;
  /**
   * The call's deadline (`Date.now()` time) when the exchange keeps it, not
   * grpc-js (the call log reads it); `Infinity` for none.
   */
  callDeadline = Infinity;
  readonly #exchange: HttpExchange;
  readonly #responder: WebResponder;
  readonly #decoder?: RequestDecoder;
  #flowing = false;
  #reading = false;
  #queue: Uint8Array[] = [];
  #bodyEnded = false;
  #endEmitted = false;
  #closed = false;
  #waitForTrailers = false;

  /** A stream over `exchange`, answering through `responder`. */
  constructor(
    exchange: HttpExchange,
    parts: { responder: WebResponder; decoder?: RequestDecoder; initial?: readonly Uint8Array[] },
  ) {
    super();
    this.#exchange = exchange;
    this.#responder = parts.responder;
    this.#decoder = parts.decoder;
    this.session = {
      socket: { remoteAddress: exchange.remoteAddress, remotePort: exchange.remotePort },
    };
    for (const message of parts.initial ?? []) this.#enqueue(message);
    if (this.#decoder === undefined) this.#bodyEnded = true;
    if (exchange.signal.aborted) queueMicrotask(() => this.#cancel());
    else exchange.signal.addEventListener("abort", () => this.#cancel(), { once: true });
  }

  /** Whether the stream closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the stream is gone (closed, here). */
  get destroyed(): boolean {
    return this.#closed;
  }

  /** Whether reading is paused. */
  isPaused(): boolean {
    return !this.#flowing;
  }

  /** Stops `'data'` events; the exchange stops reading from the client once messages wait. */
  pause(): this {
    this.#flowing = false;
    return this;
  }

  /** Resumes `'data'` events (then `'end'`), starting to read the body the first time. */
  resume(): this {
    if (this.#flowing) return this;
    this.#flowing = true;
    if (!this.#reading && !this.#bodyEnded) {
      this.#reading = true;
      this.#exchange.readBody((chunk) => this.#onBody(chunk), () => this.#onBodyEnd());
    } else {
      this.#exchange.resumeBody();
    }
    queueMicrotask(() => this.#deliver());
    return this;
  }

  /** grpc-js sends its response headers, or a trailers-only answer with `endStream`. */
  respond(headers: GrpcHeaders, options: { endStream?: boolean; waitForTrailers?: boolean } = {}) {
    if (this.#closed || this.headersSent) return;
    this.headersSent = true;
    if (options.endStream) {
      this.#finish(statusOf(headers), metadataOf(headers));
      return;
    }
    this.#waitForTrailers = options.waitForTrailers === true;
    this.#responder.headers(metadataOf(headers));
  }

  /** grpc-js writes one message, as a gRPC envelope; `callback` follows the exchange's backpressure. */
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    if (this.#closed) {
      if (callback !== undefined) queueMicrotask(() => callback(new Error("the call has ended")));
      return false;
    }
    // grpc-js writes each message whole, prefix and all, never compressed here.
    this.#responder.message(chunk.subarray(5), () => callback?.(), chunk);
    return true;
  }

  /** grpc-js ends the response; it sends its trailers on `'wantTrailers'`. */
  end(): this {
    if (this.#closed) return this;
    if (this.#waitForTrailers) queueMicrotask(() => this.emit("wantTrailers"));
    else this.#finish({ code: Status.OK, message: "" }, {});
    return this;
  }

  /** grpc-js sends the status and trailers. */
  sendTrailers(trailers: GrpcHeaders): void {
    if (this.#closed) return;
    this.#finish(statusOf(trailers), metadataOf(trailers));
  }

  /** Ends the call as cancelled. */
  close(_code?: number): void {
    this.#cancel();
  }

  /** Ends the call as cancelled. */
  destroy(_error?: Error): this {
    this.#cancel();
    return this;
  }

  /** The call ended with `status`: answer it, then close. */
  #finish(status: CallStatus, trailers: Metadata): void {
    this.#closed = true;
    this.rstCode = 0;
    this.#responder.end(status, trailers);
    queueMicrotask(() => this.emit("close"));
  }

  /** The client went away: grpc-js cancels the call. */
  #cancel(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.rstCode = CANCEL;
    this.aborted = true;
    this.emit("aborted");
    queueMicrotask(() => this.emit("close"));
  }

  /**
   * Keeps the call's deadline, `ms` from now, on the exchange's shared
   * timer: at it, the call is cancelled in grpc-js and the client answered
   * `DEADLINE_EXCEEDED` with grpc-js's message, as grpc-js would.
   */
  keepDeadline(ms: number, expireAfter: (ms: number, expire: () => void) => void): void {
    this.callDeadline = Date.now() + ms;
    expireAfter(
      ms,
      () => this.#refuse(new WebError(Status.DEADLINE_EXCEEDED, "Deadline exceeded")),
    );
  }

  /** The request's input was refused: the call is cancelled and the client told why. */
  #refuse(error: WebError): void {
    if (this.#closed) return;
    this.#cancel();
    this.#responder.end({ code: error.code, message: error.message }, {});
  }

  #enqueue(message: Uint8Array, framed?: Uint8Array): void {
    if (framed !== undefined) {
      this.#queue.push(Buffer.from(framed.buffer, framed.byteOffset, framed.byteLength));
      return;
    }
    const envelope = Buffer.allocUnsafe(5 + message.length);
    envelope[0] = 0;
    envelope.writeUInt32BE(message.length, 1);
    envelope.set(message, 5);
    this.#queue.push(envelope);
  }

  #onBody(chunk: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#decoder!.push(chunk, (message, framed) => this.#enqueue(message, framed));
    } catch (error) {
      this.#refuse(asWebError(error));
      return;
    }
    this.#deliver();
  }

  #onBodyEnd(): void {
    if (this.#closed) return;
    try {
      this.#decoder!.end((message) => this.#enqueue(message));
    } catch (error) {
      this.#refuse(asWebError(error));
      return;
    }
    this.#bodyEnded = true;
    this.#deliver();
  }

  /** Emits the messages waiting while flowing, then `'end'` once the body ended. */
  #deliver(): void {
    while (this.#flowing && this.#queue.length > 0 && !this.#closed) {
      const queue = this.#queue;
      this.#queue = [];
      this.emit("data", queue.length === 1 ? queue[0] : Buffer.concat(queue));
    }
    if (this.#closed) return;
    if (!this.#flowing) {
      if (this.#queue.length > 0 && this.#reading) this.#exchange.pauseBody();
      return;
    }
    if (this.#bodyEnded && this.#queue.length === 0 && !this.#endEmitted) {
      this.#endEmitted = true;
      queueMicrotask(() => this.emit("end"));
    }
  }
}

/** Any error as a {@linkcode WebError} (an unexpected one is `internal`). */
function asWebError(error: unknown): WebError {
  if (error instanceof WebError) return error;
  return new WebError(Status.INTERNAL, `cannot read the request: ${(error as Error)?.message}`);
}

/** Starts a web call: builds its stream and hands it to grpc-js. */
export function startBridge(options: BridgeOptions): GrpcBridgeStream {
  const stream = new GrpcBridgeStream(options.exchange, options);
  const headers: GrpcHeaders = {
    ...options.metadata,
    ":method": "POST",
    ":path": options.path,
    ":scheme": options.exchange.encrypted ? "https" : "http",
    ":authority": options.exchange.headers.host,
    "content-type": "application/grpc",
    te: "trailers",
  };
  const timeout = options.grpcTimeout;
  if (timeout !== undefined) {
    const ms = grpcTimeoutMs(timeout);
    const exchange = options.exchange;
    // A malformed value goes to grpc-js, which answers it with INTERNAL.
    if (ms !== undefined && exchange.expireAfter !== undefined) {
      stream.keepDeadline(ms, (after, expire) => exchange.expireAfter!(after, expire));
    } else headers["grpc-timeout"] = timeout;
  }
  options.dispatch(stream, headers);
  return stream;
}

/**
 * The metadata key the bridge sets to say which protocol, codec and HTTP
 * version carried a web call (for the call log); a client's own value is
 * dropped.
 */
export const PROTOCOL_METADATA_KEY = "routeguide-web-protocol";

/** Request headers that belong to HTTP or to a web protocol, never passed on as metadata. */
const RESERVED_REQUEST = new Set([
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
  PROTOCOL_METADATA_KEY,
]);

/** The request's custom metadata, from its headers, protocol headers left out. */
export function requestMetadata(
  headers: Readonly<Record<string, string>>,
  protocolLabel: string,
): GrpcHeaders {
  const out: GrpcHeaders = {};
  for (const name in headers) {
    if (RESERVED_REQUEST.has(name) || name.startsWith("access-control-")) continue;
    out[name] = headers[name];
  }
  out[PROTOCOL_METADATA_KEY] = protocolLabel;
  return out;
}
