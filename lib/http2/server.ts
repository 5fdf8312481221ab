/**
 * The socket side of our HTTP/2 server: runs a {@linkcode ServerConnection}
 * on each `node:net` / `node:tls` socket handed to it, and presents the
 * small part of `node:http2`'s server API that grpc-js uses (a server with
 * `'session'` and `'stream'` events; sessions and streams with the methods
 * and events listed on {@linkcode Http2ServerSession} and
 * {@linkcode Http2ServerStream}).
 *
 * Every frame produced in one turn of the event loop leaves in one socket
 * write. A stream's `write(bytes, callback)` calls back once its bytes are
 * within the client's flow-control windows and handed to the socket, so a
 * client that stops reading pauses the handler writing to it.
 *
 * Depends on `node:events`, `node:buffer` and this folder; never on grpc-js.
 *
 * @module
 */

import { EventEmitter } from "node:events";
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import {
  type ConnectionEvent,
  type ConnectionOptions,
  ServerConnection,
  type WriteDone,
} from "./connection.ts";
import { LightEmitter, type Listener } from "./emitter.ts";
import { ErrorCode } from "./frames.ts";
import type { HeaderField } from "./hpack.ts";

/** Request or response headers the way `node:http2` shows them. */
export type Http2Headers = Record<string, string | string[] | number | undefined>;

/** Decides who serves a request; `undefined` sends it to the server's `'stream'` listeners. */
export type RequestHandler = (
  stream: Http2ServerStream,
  headers: Http2Headers,
) => void;

/** Options for {@linkcode Http2Server}. */
export interface Http2ServerOptions extends ConnectionOptions {
  /**
   * Serves requests that are not plain gRPC (content type other than
   * `application/grpc` or `application/grpc+proto`): the web protocols.
   * @default {a 415 response naming what this port serves}
   */
  otherRequests?: RequestHandler;
  /**
   * Milliseconds the client has to acknowledge our SETTINGS.
   * @default {10000}
   */
  settingsTimeoutMs?: number;
  /**
   * Milliseconds after a gRPC call's deadline (`grpc-timeout`) at which a
   * stream still open is reset (CANCEL), dropping what it has queued: the
   * status sent at the deadline cannot reach a client that is not reading.
   * @default {500}
   */
  deadlineGraceMs?: number;
  /**
   * Whether the transport keeps the deadline of gRPC requests (content-type
   * `application/grpc`, not gRPC-Web): it takes a valid `grpc-timeout` out
   * of the headers the server's listeners see and answers
   * `DEADLINE_EXCEEDED` itself when the deadline passes, closing the stream
   * (grpc-js then cancels the call). This spares grpc-js's timer per call.
   * @default {true}
   */
  grpcDeadlines?: boolean;
  /**
   * Socket bytes waiting to be sent past which write callbacks wait for the socket to drain.
   * @default {1048576}
   */
  maxSocketBacklog?: number;
}

/** Headers as a list of lower-case (name, value) pairs, pseudo-headers first. */
export function headerList(headers: Http2Headers): HeaderField[] {
  const out: HeaderField[] = [];
  // Pseudo-headers are out[0 .. pseudo - 1]: usually they come first and are pushed.
  let pseudo = 0;
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined) continue;
    const name = key.toLowerCase();
    if (!Array.isArray(value)) {
      pseudo = addField(out, pseudo, [
        name,
        latin1(typeof value === "string" ? value : String(value)),
      ]);
    } else {
      for (const v of value) pseudo = addField(out, pseudo, [name, latin1(String(v))]);
    }
  }
  return out;
}

/** Adds a field to a list whose first `pseudo` fields are pseudo-headers; returns the new count. */
function addField(out: HeaderField[], pseudo: number, field: HeaderField): number {
  if (field[0][0] !== ":") {
    out.push(field);
    return pseudo;
  }
  if (pseudo === out.length) out.push(field);
  else out.splice(pseudo, 0, field);
  return pseudo + 1;
}

/** A string as HPACK carries it: one byte per character (UTF-8 bytes for non-Latin-1 text). */
function latin1(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0xff) return Buffer.from(value, "utf8").toString("latin1");
  }
  return value;
}

/**
 * The `grpc-timeout` of a gRPC request (not gRPC-Web), in milliseconds;
 * `undefined` for other requests, and for a missing or malformed value
 * (left to grpc-js, which answers a malformed one with `INTERNAL`).
 */
function grpcTimeoutOf(fields: readonly HeaderField[]): number | undefined {
  let timeout: string | undefined;
  let grpc = false;
  for (const [name, value] of fields) {
    if (name === "grpc-timeout") timeout = value;
    else if (name === "content-type") {
      grpc = value === "application/grpc" || value.startsWith("application/grpc+") ||
        value.startsWith("application/grpc;");
    }
  }
  return grpc ? grpcTimeoutMs(timeout) : undefined;
}

/** Headers as an object, repeated names as arrays (as grpc-js's metadata reads them), without `skip`. */
function headerObject(fields: readonly HeaderField[], skip?: string): Http2Headers {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of fields) {
    if (name === skip) continue;
    const previous = out[name];
    if (previous === undefined) out[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[name] = [previous, value];
  }
  return out;
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number | undefined>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/** A `grpc-timeout` value (up to 8 digits and a unit) in milliseconds, or `undefined`. */
export function grpcTimeoutMs(value: unknown): number | undefined {
  if (typeof value !== "string" || value.length < 2 || value.length > 9) return undefined;
  const unit = TIMEOUT_UNIT_MS[value[value.length - 1]];
  if (unit === undefined) return undefined;
  let amount = 0;
  for (let i = 0; i < value.length - 1; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    amount = amount * 10 + digit;
  }
  return amount * unit;
}

/**
 * Whether a content type is gRPC's own binary protocol (`application/grpc`
 * or `application/grpc+proto`, parameters allowed), the only requests
 * grpc-js takes raw: it would take anything starting `application/grpc`,
 * gRPC-Web and `grpc+json` included, which it cannot serve.
 */
export function isPlainGrpc(type: unknown): boolean {
  if (typeof type !== "string" || !type.startsWith("application/grpc")) return false;
  // No slicing: this runs on every gRPC request.
  const at = type.startsWith("+proto", 16) ? 22 : 16;
  if (type.length === at) return true;
  const next = type.charCodeAt(at);
  return next === 0x3b /* ; */ || next === 0x20;
}

/** Answers a request this port does not serve with 415 and a line saying why. */
function refuseNonGrpc(stream: Http2ServerStream): void {
  stream.respond({ ":status": 415, "content-type": "text/plain; charset=utf-8" });
  stream.end(
    new TextEncoder().encode("this port serves gRPC only (content-type application/grpc)\n"),
  );
}

/** No bytes (a zero-length array cannot be changed, so one serves everyone). */
const NO_BYTES = new Uint8Array(0);

/** No write callbacks (never added to: a list with callbacks is another array). */
const NO_CALLBACKS: (() => void)[] = [];

/** A settled promise: `RESOLVED.then(f)` runs `f` as a microtask, cheaper than `queueMicrotask` here. */
const RESOLVED: Promise<void> = Promise.resolve();

/** A server of HTTP/2 connections handed to it (as `node:http2`'s, for grpc-js). */
export class Http2Server extends EventEmitter {
  readonly #options: Http2ServerOptions;
  readonly #sessions = new Set<Http2ServerSession>();
  #closeCallbacks: (() => void)[] = [];
  #closed = false;

  /** Makes a server; hand it sockets with `emit("connection", socket)` or {@linkcode accept}. */
  constructor(options: Http2ServerOptions = {}) {
    super();
    this.#options = options;
    this.on("connection", (socket: Socket) => this.accept(socket));
  }

  /** Starts HTTP/2 on a connected socket. */
  accept(socket: Socket): Http2ServerSession {
    const session = new Http2ServerSession(socket, this.#options, (stream, headers) => {
      if (isPlainGrpc(headers["content-type"])) {
        // Only the web bridge names a call's protocol (for the call log).
        if (headers["routeguide-web-protocol"] !== undefined) {
          delete headers["routeguide-web-protocol"];
        }
        const timeout = grpcTimeoutMs(headers["grpc-timeout"]);
        if (timeout !== undefined) {
          stream.resetAfter(timeout + (this.#options.deadlineGraceMs ?? 500));
        }
        this.emit("stream", stream, headers);
      } else {
        (this.#options.otherRequests ?? refuseNonGrpc)(stream, headers);
      }
    });
    this.#sessions.add(session);
    session.once("close", () => {
      this.#sessions.delete(session);
      if (this.#closed && this.#sessions.size === 0) this.#finishClose();
    });
    this.emit("session", session);
    return session;
  }

  /** No address: this server does not listen, it is handed sockets. */
  address(): null {
    return null;
  }

  /** Kept for `node:http2` compatibility; timeouts are the caller's. */
  setTimeout(_ms: number, _callback?: () => void): this {
    return this;
  }

  /** Calls back once every session has closed (it takes no new sockets after). */
  close(callback?: () => void): this {
    this.#closed = true;
    if (callback !== undefined) this.#closeCallbacks.push(callback);
    if (this.#sessions.size === 0) queueMicrotask(() => this.#finishClose());
    return this;
  }

  #finishClose(): void {
    const callbacks = this.#closeCallbacks;
    this.#closeCallbacks = [];
    for (const callback of callbacks) callback();
    this.emit("close");
  }
}

/** Settings and windows of a session, as `node:http2`'s `session.state` reports some of them. */
export interface SessionState {
  /** Bytes the client may still send on the connection. */
  localWindowSize: number;
  /** Bytes we may still send on the connection. */
  remoteWindowSize: number;
}

/** One HTTP/2 connection (as a `node:http2` `ServerHttp2Session`). */
export class Http2ServerSession extends EventEmitter {
  /** The socket under it. */
  readonly socket: Socket;
  readonly #connection: ServerConnection;
  readonly #streams = new Map<number, Http2ServerStream>();
  readonly #dispatch: RequestHandler;
  readonly #maxBacklog: number;
  #flushScheduled = false;
  /** The socket ends after the next flush. */
  #ending = false;
  #closing = false;
  #closed = false;
  #destroyed = false;
  #pings = new Map<string, { sentAt: number; callback: PingCallback }>();
  #pingCount = 0;
  #waitingForDrain: (() => void)[] = [];
  #dataArrived: Http2ServerStream[] = [];
  #settingsTimer?: ReturnType<typeof setTimeout>;
  #sweepTimer?: ReturnType<typeof setTimeout>;
  /** When (`Date.now()`) the sweep timer fires; `Infinity` when none is set. */
  #sweepAt = Infinity;
  readonly #grpcDeadlines: boolean;
  readonly #deadlineGraceMs: number;
  /**
   * Answers the gRPC calls past their deadline and resets the streams past
   * their `resetAt`; set again for the earliest time still ahead.
   */
  readonly #sweep = () => {
    this.#sweepTimer = undefined;
    this.#sweepAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const stream of this.#streams.values()) {
      if (stream.grpcDeadline <= now) stream.expireGrpcDeadline();
      if (stream.resetAt <= now) stream.destroy();
      else next = Math.min(next, stream.resetAt, stream.grpcDeadline);
    }
    if (next !== Infinity) this.watchDeadlines(next);
  };
  /** Called when a socket write has gone to the kernel. */
  readonly #written = (error?: Error | null) => {
    if (error == null) this.#connection.outputSent();
  };

  /** Starts HTTP/2 on `socket`; `dispatch` gets each request stream. */
  constructor(socket: Socket, options: Http2ServerOptions, dispatch: RequestHandler) {
    super();
    this.socket = socket;
    this.#dispatch = dispatch;
    this.#maxBacklog = options.maxSocketBacklog ?? 1024 * 1024;
    this.#grpcDeadlines = options.grpcDeadlines ?? true;
    this.#deadlineGraceMs = options.deadlineGraceMs ?? 500;
    this.#connection = new ServerConnection({ allocate: Buffer.allocUnsafe, ...options });
    socket.setNoDelay?.(true);
    socket.on("data", (bytes: Uint8Array) => {
      this.#connection.receive(bytes);
      this.#process();
    });
    // A client ending with a TCP reset is a normal close.
    socket.on("error", () => {});
    socket.on("close", () => this.#onSocketClose());
    socket.on("drain", () => {
      const waiting = this.#waitingForDrain;
      this.#waitingForDrain = [];
      for (const done of waiting) done();
    });
    this.#settingsTimer = setTimeout(() => {
      this.#connection.settingsTimedOut();
      this.#process();
    }, options.settingsTimeoutMs ?? 10_000);
    (this.#settingsTimer as { unref?: () => void }).unref?.();
    this.#scheduleFlush();
  }

  /** Whether the socket is TLS. */
  get encrypted(): boolean {
    return (this.socket as { encrypted?: boolean }).encrypted === true;
  }

  /** Whether the session closed or is closing. */
  get closed(): boolean {
    return this.#closing || this.#closed;
  }

  /** Whether the session is gone. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Flow-control windows now. */
  get state(): SessionState {
    const { local, remote } = this.#connection.windows;
    return { localWindowSize: local, remoteWindowSize: remote };
  }

  /** Sends GOAWAY; new streams are ignored, open ones go on. */
  goaway(code: number = ErrorCode.NO_ERROR, lastStreamId?: number, opaqueData?: Uint8Array): void {
    if (this.#destroyed) throw new Error("the HTTP/2 session is destroyed");
    const debug = opaqueData === undefined ? "" : new TextDecoder().decode(opaqueData);
    this.#connection.goaway(code, lastStreamId, debug);
    this.#process();
  }

  /** Sends GOAWAY and closes once the open streams end; `callback` on close. */
  close(callback?: () => void): void {
    if (callback !== undefined) {
      if (this.#destroyed) queueMicrotask(callback);
      else this.once("close", callback);
    }
    if (this.#closing || this.#destroyed) return;
    this.#closing = true;
    this.#connection.goaway();
    this.#process();
    if (this.#streams.size === 0) this.#endSocket();
  }

  /** Ends the session now: GOAWAY with `code`, open streams closed, the socket ended. */
  destroy(code: number = ErrorCode.NO_ERROR): void {
    if (this.#destroyed) return;
    this.#connection.goaway(code);
    this.#finishSocket(true);
    this.#destroyed = true;
    for (const stream of this.#streams.values()) stream.closeWith(ErrorCode.CANCEL, false);
    this.#streams.clear();
  }

  /** Sends a PING; `callback(error, milliseconds, payload)` on its ACK. */
  ping(callback: PingCallback): boolean {
    if (this.#destroyed) return false;
    const payload = new Uint8Array(8);
    new DataView(payload.buffer).setUint32(4, ++this.#pingCount);
    this.#pings.set(payload.join(","), { sentAt: performance.now(), callback });
    this.#connection.ping(payload);
    this.#scheduleFlush();
    return true;
  }

  /**
   * Used by streams: one of them has something due at `at` (`Date.now()`
   * time). One timer per session, set for the earliest time due: a later
   * time leaves it as it is.
   */
  watchDeadlines(at: number): void {
    if (at >= this.#sweepAt || this.#destroyed) return;
    clearTimeout(this.#sweepTimer);
    this.#sweepAt = at;
    this.#sweepTimer = setTimeout(this.#sweep, Math.max(0, at - Date.now()));
    (this.#sweepTimer as { unref?: () => void }).unref?.();
  }

  /** Used by streams: the connection they belong to. */
  get connection(): ServerConnection {
    return this.#connection;
  }

  /** Used by streams: something to send; it leaves at the end of this turn. */
  scheduleFlush(): void {
    this.#scheduleFlush();
  }

  /** Handles the connection's events, then makes sure output follows. */
  #process(): void {
    const events = this.#connection.takeEvents();
    for (const event of events) this.#onEvent(event);
    this.#deliverData();
    this.#scheduleFlush();
  }

  /** Used by streams: request data arrived for it in this batch of events. */
  dataArrived(stream: Http2ServerStream): void {
    this.#dataArrived.push(stream);
  }

  /**
   * Hands each stream the data that arrived for it in this batch of events,
   * several DATA frames in one `'data'` event: grpc-js's per-event work is
   * then paid once per socket read rather than once per frame.
   */
  #deliverData(): void {
    const streams = this.#dataArrived;
    if (streams.length === 0) return;
    this.#dataArrived = [];
    for (const stream of streams) stream.deliverArrived();
  }

  #onEvent(event: ConnectionEvent): void {
    switch (event.type) {
      case "request": {
        const stream = new Http2ServerStream(this, event.streamId);
        this.#streams.set(event.streamId, stream);
        const timeout = this.#grpcDeadlines ? grpcTimeoutOf(event.headers) : undefined;
        const headers = headerObject(event.headers, timeout === undefined ? "" : "grpc-timeout");
        if (timeout !== undefined) stream.keepGrpcDeadline(timeout, this.#deadlineGraceMs);
        if (event.endStream) stream.pushData(NO_BYTES, true);
        this.emit("stream", stream, headers);
        this.#dispatch(stream, headers);
        return;
      }
      case "data":
        this.#streams.get(event.streamId)?.pushData(event.data, event.endStream);
        return;
      case "wantTrailers":
        this.#streams.get(event.streamId)?.emit("wantTrailers");
        return;
      case "streamClosed": {
        const stream = this.#streams.get(event.streamId);
        if (stream === undefined) return;
        this.#streams.delete(event.streamId);
        stream.closeWith(event.code, event.byPeer);
        if (this.#closing && this.#streams.size === 0) this.#endSocket();
        return;
      }
      case "pingAck": {
        const key = event.payload.join(",");
        const ping = this.#pings.get(key);
        if (ping === undefined) return;
        this.#pings.delete(key);
        ping.callback(null, performance.now() - ping.sentAt, Buffer.from(event.payload));
        return;
      }
      case "goaway":
        this.emit("goaway", event.code, event.lastStreamId);
        return;
      case "closed":
        this.#endSocket();
        return;
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Writes everything ready in one socket write, then runs the write callbacks due. */
  #flush(): void {
    if (this.#destroyed) return;
    const connection = this.#connection;
    let due = connection.frameReady();
    // An empty answer is the connection's own list, which the callbacks of writes made by the
    // listeners below go into: not kept, or they come back twice (from it and from `more`).
    if (due.length === 0) due = NO_CALLBACKS;
    // Trailers asked for by 'wantTrailers' leave in the same write. (Events here come from
    // framing and from the streams' calls, never request data: #process takes those at once.)
    for (let round = 0;; round++) {
      const events = connection.takeEvents();
      if (events.length === 0) break;
      for (const event of events) this.#onEvent(event);
      const more = connection.frameReady();
      if (more.length > 0) due = due.length === 0 ? more : due.concat(more);
      if (round === 16) {
        this.#scheduleFlush();
        break;
      }
    }
    const bytes = connection.takeBytes();
    if (bytes !== undefined && !this.socket.destroyed && this.socket.writable) {
      this.socket.write(bytes, this.#written);
    }
    this.#complete(due);
    if (this.#ending || this.#connection.failed) this.#finishSocket();
  }

  /** Runs write callbacks now, or once the socket drains when too much waits in it. */
  #complete(callbacks: (() => void)[]): void {
    if (callbacks.length === 0) return;
    if (this.socket.writableLength > this.#maxBacklog) {
      this.#waitingForDrain.push(...callbacks);
    } else {
      for (const callback of callbacks) callback();
    }
  }

  /** Used by streams: runs a write callback soon when its bytes fit the windows, else once sent. */
  writeData(streamId: number, bytes: Uint8Array, callback?: WriteDone): void {
    const connection = this.#connection;
    if (
      callback !== undefined && connection.fits(streamId, bytes.length) &&
      this.socket.writableLength <= this.#maxBacklog
    ) {
      // They leave at this turn's flush: no need to wait for it.
      connection.sendData(streamId, bytes);
      RESOLVED.then(() => callback());
    } else {
      connection.sendData(streamId, bytes, callback);
    }
    this.#scheduleFlush();
  }

  /** Ends the socket after this turn's flush. */
  #endSocket(): void {
    this.#ending = true;
    this.#scheduleFlush();
  }

  /**
   * Writes what is left and ends the socket; a peer that does not close is
   * cut off after 2 s, or at once when `now` (once the last bytes are sent).
   */
  #finishSocket(now = false): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const { bytes } = this.#connection.takeOutput();
    if (bytes !== undefined) this.socket.write(bytes);
    if (now) {
      // destroy(): the connection is gone as soon as its last bytes are.
      this.socket.end(() => this.socket.destroy());
      return;
    }
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    (timer as { unref?: () => void }).unref?.();
  }

  #onSocketClose(): void {
    clearTimeout(this.#settingsTimer);
    clearTimeout(this.#sweepTimer);
    this.#destroyed = true;
    this.#closed = true;
    for (const stream of this.#streams.values()) stream.closeWith(ErrorCode.CANCEL, true);
    this.#streams.clear();
    for (const { callback } of this.#pings.values()) {
      callback(new Error("the HTTP/2 session closed"), 0, Buffer.alloc(0));
    }
    this.#pings.clear();
    for (const done of this.#waitingForDrain) done();
    this.#waitingForDrain = [];
    this.emit("close");
  }
}

/** What `session.ping()` calls back with. */
export type PingCallback = (error: Error | null, duration: number, payload: Buffer) => void;

/** One request stream (as a `node:http2` `ServerHttp2Stream`). */
export class Http2ServerStream extends LightEmitter {
  /** The stream id. */
  readonly id: number;
  /** The session it belongs to. */
  readonly session: Http2ServerSession;
  /** The RST_STREAM code it closed with (0 when it ended normally). */
  rstCode?: number;
  /** Whether the client reset it. */
  aborted = false;
  /** Whether response headers were sent. */
  headersSent = false;
  #buffer: Uint8Array[] = [];
  #remoteEnded = false;
  #endEmitted = false;
  #flowing = false;
  #delivering = false;
  #closed = false;
  /** Waiting in the session's list of streams with data to deliver. */
  #arrived = false;
  /** When (`Date.now()`) the stream is reset if still open; `Infinity` for never. */
  resetAt = Infinity;
  /** When (`Date.now()`) the transport answers `DEADLINE_EXCEEDED`; `Infinity` for never or done. */
  grpcDeadline = Infinity;
  /** The gRPC call's deadline (`Date.now()` time) kept by the transport; `Infinity` for none. */
  callDeadline = Infinity;
  /** Whether the transport answered `DEADLINE_EXCEEDED` (the call's own status never went out). */
  deadlineExceeded = false;
  /** Called at `grpcDeadline` instead of the transport's own answer (see {@linkcode expireAfter}). */
  #onExpire?: () => void;

  /** Made by the session for each request. */
  constructor(session: Http2ServerSession, id: number) {
    super();
    this.session = session;
    this.id = id;
  }

  /** Adds a listener; a `'data'` listener starts the flow of data (as on a `node:stream` Readable). */
  override on(event: string | symbol, listener: Listener): this {
    super.on(event, listener);
    if (event === "data" && !this.#flowing) RESOLVED.then(() => this.resume());
    return this;
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

  /** Sends the response headers. */
  respond(headers: Http2Headers, options: { endStream?: boolean; waitForTrailers?: boolean } = {}) {
    if (this.#closed) return;
    this.headersSent = true;
    this.session.connection.respond(this.id, headerList(headers), options);
    this.session.scheduleFlush();
  }

  /**
   * Queues response bytes; `callback` runs once they are within the
   * client's windows and handed to the socket. Returns whether more may be written now.
   */
  write(chunk: Uint8Array | string, callback?: WriteDone): boolean {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    this.session.writeData(this.id, bytes, callback);
    return this.session.connection.queuedBytes(this.id) < 65536;
  }

  /** Ends the response (after `chunk`, if given); trailers follow when `waitForTrailers` was asked. */
  end(chunk?: Uint8Array | string, callback?: WriteDone): this {
    if (chunk !== undefined) this.write(chunk, callback);
    this.session.connection.end(this.id);
    this.session.scheduleFlush();
    return this;
  }

  /** Sends the trailers (after `'wantTrailers'`). */
  sendTrailers(headers: Http2Headers): void {
    this.session.connection.sendTrailers(this.id, headerList(headers));
    this.session.scheduleFlush();
  }

  /** Resets the stream with `code`. */
  close(code: number = ErrorCode.NO_ERROR): void {
    this.session.connection.reset(this.id, code);
    this.session.scheduleFlush();
  }

  /** Resets the stream (CANCEL) unless it already closed. */
  destroy(_error?: Error): this {
    if (!this.#closed) this.close(ErrorCode.CANCEL);
    return this;
  }

  /** Stops `'data'` events; the client's window closes once our buffer holds a window's worth. */
  pause(): this {
    this.#flowing = false;
    return this;
  }

  /** Resumes `'data'` events (then `'end'`). */
  resume(): this {
    if (this.#flowing) return this;
    this.#flowing = true;
    RESOLVED.then(() => this.#deliverBuffered());
    return this;
  }

  /**
   * Resets the stream (CANCEL) if it is still open `ms` from now: one timer
   * per session, none per stream.
   */
  resetAfter(ms: number): void {
    this.resetAt = Date.now() + ms;
    this.session.watchDeadlines(this.resetAt);
  }

  /** Used by the session: the transport keeps this gRPC call's deadline, `ms` from now. */
  keepGrpcDeadline(ms: number, graceMs: number): void {
    this.grpcDeadline = this.callDeadline = Date.now() + ms;
    this.resetAt = this.grpcDeadline + graceMs;
    this.session.watchDeadlines(this.grpcDeadline);
  }

  /**
   * Calls `expire` `ms` from now if the stream is still open then, on the
   * session's one timer (a web call's deadline; its protocol answers it).
   */
  expireAfter(ms: number, expire: () => void): void {
    this.#onExpire = expire;
    this.grpcDeadline = Date.now() + ms;
    this.session.watchDeadlines(this.grpcDeadline);
  }

  /**
   * Used by the session: the gRPC deadline passed. Sends the status grpc-js
   * sends then (trailers-only, or trailers after the queued messages); the
   * stream closes once they leave, which cancels the call in grpc-js.
   */
  expireGrpcDeadline(): void {
    this.grpcDeadline = Infinity;
    if (this.#closed) return;
    if (this.#onExpire !== undefined) return this.#onExpire();
    const connection = this.session.connection;
    const status: HeaderField[] = [["grpc-status", "4"], ["grpc-message", "Deadline%20exceeded"]];
    if (!this.headersSent) {
      this.headersSent = true;
      const head: HeaderField[] = [[":status", "200"], ["content-type", "application/grpc+proto"]];
      this.deadlineExceeded = connection.respond(this.id, [...head, ...status], {
        endStream: true,
      });
    } else {
      this.deadlineExceeded = connection.sendTrailers(this.id, status);
    }
    this.session.scheduleFlush();
  }

  /**
   * Used by the session: request bytes (and END_STREAM) arrived. They are
   * delivered by {@linkcode deliverArrived} once the session has seen all
   * the frames of this read.
   */
  pushData(data: Uint8Array, endStream: boolean): void {
    if (data.length > 0) {
      if (this.#buffer.length === 0 && !this.#arrived) {
        this.#arrived = true;
        this.session.dataArrived(this);
      }
      this.#buffer.push(data);
    }
    if (endStream) {
      this.#remoteEnded = true;
      if (this.#flowing && this.#buffer.length === 0) this.#maybeEnd();
    }
  }

  /** Used by the session: delivers what {@linkcode pushData} buffered, if flowing. */
  deliverArrived(): void {
    this.#arrived = false;
    if (this.#flowing && !this.#delivering) this.#deliverBuffered();
  }

  /** Used by the session: the stream closed with `code`. */
  closeWith(code: number, byPeer: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.rstCode = code;
    if (byPeer && code !== ErrorCode.NO_ERROR) {
      this.aborted = true;
      this.emit("aborted");
    }
    RESOLVED.then(() => this.emit("close"));
  }

  /** Emits everything buffered as one `'data'` event (one copy when it is several pieces). */
  #emitBuffered(): void {
    const buffer = this.#buffer;
    let data: Buffer;
    if (buffer.length === 1) {
      const piece = buffer[0];
      data = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    } else {
      let total = 0;
      for (const piece of buffer) total += piece.length;
      // Pooled: cheaper than a new Uint8Array for the small pieces gRPC messages come in.
      data = Buffer.allocUnsafe(total);
      let at = 0;
      for (const piece of buffer) {
        data.set(piece, at);
        at += piece.length;
      }
    }
    buffer.length = 0;
    this.session.connection.consumed(this.id, data.length);
    this.session.scheduleFlush();
    this.emit("data", data);
  }

  /** Emits the buffered data while the stream flows, then `'end'` once the request ended. */
  #deliverBuffered(): void {
    this.#delivering = true;
    try {
      while (this.#flowing && this.#buffer.length > 0) this.#emitBuffered();
    } finally {
      this.#delivering = false;
    }
    if (this.#flowing && this.#buffer.length === 0 && this.#remoteEnded) this.#maybeEnd();
  }

  #maybeEnd(): void {
    if (this.#endEmitted) return;
    this.#endEmitted = true;
    RESOLVED.then(() => this.emit("end"));
  }
}
