/**
 * The socket side of our HTTP/1.x server: runs a {@linkcode RequestParser}
 * on each socket handed to it and presents each request as an
 * {@linkcode Http1Exchange}. One request at a time per connection, in
 * order: the socket is read only while the parser has a use for the bytes
 * (a head, or a body the handler asked for and has not paused), so a
 * pipelining or fast-uploading client is held back by TCP, never buffered.
 * Response bytes written in one turn of the event loop leave in one socket
 * write.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { Http1ParseError, type RequestHead, RequestParser } from "./parser.ts";
import { plainErrorResponse } from "./response.ts";
import { Exchange, type ExchangeOwner, type Http1Exchange } from "./exchange.ts";

/** Options for {@linkcode Http1Server}. */
export interface Http1ServerOptions {
  /**
   * Bytes of a request's header section (field lines with their CRLFs); more gets 431.
   * @default {9216}
   */
  maxHeaderBytes?: number;
  /**
   * Header fields in one request; more gets 431.
   * @default {100}
   */
  maxHeaderFields?: number;
  /**
   * Bytes of the request line; more gets 414.
   * @default {8192}
   */
  maxRequestLineBytes?: number;
  /**
   * Milliseconds within which a request head must be complete once the
   * connection opens or the request's first byte arrives, else 408 and close.
   * @default {10000}
   */
  headTimeoutMs?: number;
  /**
   * Milliseconds a keep-alive connection may wait for its next request.
   * @default {60000}
   */
  idleTimeoutMs?: number;
  /**
   * Bytes of unread request body read and dropped after an early response
   * to keep the connection; with more left, the connection closes instead.
   * @default {65536}
   */
  maxDiscardBytes?: number;
  /**
   * Bytes queued on the socket past which `write` returns false.
   * @default {65536}
   */
  highWaterMark?: number;
}

/** Serves one exchange; may answer later. A throw gets 500 and closes the connection. */
export type Http1Handler = (exchange: Http1Exchange) => void;

interface Limits {
  headTimeoutMs: number;
  idleTimeoutMs: number;
  maxDiscardBytes: number;
  highWaterMark: number;
}

/** Our HTTP/1.1 and 1.0 server: give it sockets with {@linkcode accept}. */
export class Http1Server {
  readonly #handler: Http1Handler;
  readonly #options: Http1ServerOptions;
  readonly #limits: Limits;
  readonly #connections = new Set<Connection>();
  #closing = false;

  /** Makes a server that passes each request to `handler`. */
  constructor(handler: Http1Handler, options: Http1ServerOptions = {}) {
    this.#handler = handler;
    this.#options = options;
    this.#limits = {
      headTimeoutMs: options.headTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      maxDiscardBytes: options.maxDiscardBytes ?? 65_536,
      highWaterMark: options.highWaterMark ?? 65_536,
    };
  }

  /** Serves a connected socket (bytes may already be unshifted into it). */
  accept(socket: Socket): void {
    if (this.#closing || socket.destroyed) {
      socket.on("error", () => {});
      socket.destroy();
      return;
    }
    const parser = new RequestParser(this.#options);
    const connection = new Connection(socket, parser, {
      handler: this.#handler,
      limits: this.#limits,
      closing: () => this.#closing,
      date: () => this.#date(),
      watch: (at) => this.#watch(at),
      closed: (c) => this.#closed(c),
    });
    this.#connections.add(connection);
    connection.start();
  }

  #dateText = "";
  #dateSecond = -1;
  #sweepTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the sweep timer fires; `Infinity` when none is set. */
  #sweepAt = Infinity;

  /**
   * A connection has a timeout due at `at` (`Date.now()` time). One timer
   * for the server, set for the earliest time due, rather than a timer set
   * and cleared per connection at every request: a keep-alive connection
   * moves its timeout at each request, and the timer is only set again when
   * the new time is earlier than the one set.
   */
  #watch(at: number): void {
    if (at >= this.#sweepAt) return;
    clearTimeout(this.#sweepTimer);
    this.#sweepAt = at;
    this.#sweepTimer = setTimeout(this.#sweep, Math.max(0, at - Date.now()));
  }

  /** Fires the timeouts that are due, then sets the timer for the next one. */
  readonly #sweep = () => {
    this.#sweepTimer = undefined;
    this.#sweepAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const connection of this.#connections) {
      const due = connection.dueAt;
      if (due <= now) connection.timedOut(now);
      const after = connection.dueAt;
      if (after < next) next = after;
    }
    if (next !== Infinity) this.#watch(next);
  };

  #closed(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) {
      clearTimeout(this.#sweepTimer);
      this.#sweepTimer = undefined;
      this.#sweepAt = Infinity;
    }
  }

  /** The Date field's value (RFC 9110 §6.6.1), made once a second. */
  #date(): string {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#dateSecond) {
      this.#dateSecond = second;
      this.#dateText = new Date(second * 1000).toUTCString();
    }
    return this.#dateText;
  }

  /** Open connections. */
  get size(): number {
    return this.#connections.size;
  }

  /**
   * Shuts down: idle connections close at once; an answer in flight gets
   * `Connection: close` if its head is not sent yet, and its connection
   * closes after it. No further request is read.
   */
  close(): void {
    this.#closing = true;
    for (const connection of [...this.#connections]) connection.shutdown();
  }

  /** Closes every connection at once; exchanges in flight abort. */
  destroyAll(): void {
    this.#closing = true;
    for (const connection of [...this.#connections]) connection.destroy();
  }
}

interface ConnectionHooks {
  handler: Http1Handler;
  limits: Limits;
  closing: () => boolean;
  date: () => string;
  /** The connection has a timeout due at `at` (`Date.now()` time). */
  watch: (at: number) => void;
  closed: (connection: Connection) => void;
}

/** Bytes read ahead of the parser (pipelined requests, a paused body) before the socket is paused. */
const MAX_PENDING = 65_536;

/** One socket: its parser, the exchange in flight, output batching and timers. */
class Connection implements ExchangeOwner {
  readonly #socket: Socket;
  readonly #parser: RequestParser;
  readonly #hooks: ConnectionHooks;
  #pending: Uint8Array | undefined;
  #exchange: Exchange | undefined;
  #pumping = false;
  #discardLeft = -1;
  #keepAlive = true;
  #closed = false;
  #ending = false;
  #out: Uint8Array[] = [];
  #outBytes = 0;
  #dones: (() => void)[] = [];
  #flushQueued = false;
  /** When (`Date.now()`) the timeout of `#timerKind` is due; `Infinity` for none. */
  #dueAt = Infinity;
  #timerKind: "head" | "idle" | "end" | undefined;

  constructor(socket: Socket, parser: RequestParser, hooks: ConnectionHooks) {
    this.#socket = socket;
    this.#parser = parser;
    this.#hooks = hooks;
  }

  start(): void {
    const socket = this.#socket;
    // A client may half-close after its request and still read the answer.
    socket.allowHalfOpen = true;
    // An answer leaves in several writes (head, messages, the last chunk):
    // with Nagle's algorithm the later ones wait for the client's delayed
    // ACK, about 40 ms an answer.
    socket.setNoDelay?.(true);
    socket.on("error", () => {});
    socket.on("close", () => this.#onClose());
    socket.on("end", () => this.#onPeerEnd());
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    this.#arm("head");
    socket.resume();
  }

  /** Whether the connection may carry another request after the current one. */
  mayKeepAlive(exchange: Exchange): boolean {
    if (!this.#keepAlive || this.#hooks.closing()) return false;
    const connection = exchange.headers["connection"]?.toLowerCase() ?? "";
    const tokens = connection.split(",").map((t) => t.trim());
    if (tokens.includes("close")) return false;
    if (exchange.httpVersion === "1.0" && !tokens.includes("keep-alive")) return false;
    // A client waiting for 100 Continue may or may not send its body now: close.
    if (!exchange.requestEnded && exchange.awaitingContinue) return false;
    // An answer that goes out before the body it may leave unread: with more
    // left than is read and dropped, the connection closes after it, and the
    // client must hear so now, not reuse the connection and lose its next
    // request (RFC 9112 §9.3.1, §9.6).
    const left = this.#parser.lengthLeft;
    if (!exchange.requestEnded && left !== undefined && left > this.#hooks.limits.maxDiscardBytes) {
      return false;
    }
    return true;
  }

  date(): string {
    return this.#hooks.date();
  }

  closeAfterResponse(): void {
    this.#keepAlive = false;
  }

  /**
   * Queues bytes, and a callback: run soon while what waits is under the
   * high-water mark (the bytes leave at this turn's flush; a writer that
   * waited for the socket write would hold its next piece, a call's
   * trailers, out of that write), else once they are on the socket. False
   * past the high-water mark.
   */
  queue(bytes: Uint8Array | undefined, done?: () => void): boolean {
    if (bytes) {
      this.#out.push(bytes);
      this.#outBytes += bytes.length;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushSoon);
    }
    const under = this.#outBytes + this.#socket.writableLength < this.#hooks.limits.highWaterMark;
    if (done !== undefined) {
      if (under && !this.#closed) queueMicrotask(done);
      else this.#dones.push(done);
    }
    return under;
  }

  queueAll(pieces: Uint8Array[], done?: () => void): boolean {
    for (let i = 0; i < pieces.length - 1; i++) this.queue(pieces[i]);
    return this.queue(pieces[pieces.length - 1], done);
  }

  /**
   * Flushes at the end of this run of microtasks, or, while a response is
   * under way (its head out, its end not yet), at the end of this turn of
   * the event loop: grpc-js sends a call's headers, then its message after
   * a promise, then its trailers, and they leave in one socket write rather
   * than two or three.
   */
  readonly #flushSoon = () => {
    const exchange = this.#exchange;
    if (exchange !== undefined && exchange.headSent && !exchange.finished && !this.#closed) {
      setImmediate(this.#flushNow);
    } else this.#flush();
  };

  readonly #flushNow = () => this.#flush();

  #flush(): void {
    this.#flushQueued = false;
    const dones = this.#dones;
    this.#dones = [];
    if (this.#closed) {
      for (const done of dones) done();
      return;
    }
    if (this.#outBytes > 0) {
      const bytes = this.#out.length === 1 ? this.#out[0] : Buffer.concat(this.#out);
      this.#out = [];
      this.#outBytes = 0;
      this.#socket.write(bytes, () => {
        for (const done of dones) done();
      });
    } else for (const done of dones) done();
    if (this.#ending) this.#endSocket();
  }

  /** The response ended: go on to the next request, drain the unread body, or close. */
  responseEnded(requestEnded: boolean): void {
    if (!this.#keepAlive) return this.#finish();
    if (!requestEnded) {
      this.#discardLeft = this.#hooks.limits.maxDiscardBytes;
      this.pump();
      return;
    }
    this.#nextRequest();
  }

  #nextRequest(): void {
    this.#exchange = undefined;
    this.#discardLeft = -1;
    if (this.#hooks.closing()) return this.#finish();
    this.#arm(this.#parser.idle && this.#pending === undefined ? "idle" : "head");
    this.pump();
  }

  /** Parses what the current state has a use for, then reads the socket only if more is wanted. */
  pump(): void {
    if (this.#pumping || this.#closed || this.#ending) return;
    this.#pumping = true;
    try {
      while (this.#pending !== undefined && this.#wantsBytes()) {
        const bytes = this.#pending;
        const consumed = this.#parser.receive(bytes);
        this.#pending = consumed < bytes.length ? bytes.subarray(consumed) : undefined;
        for (const event of this.#parser.takeEvents()) {
          if (event.type === "head") this.#onHead(event.head);
          else if (event.type === "body") this.#onBody(event.chunk);
          else this.#onRequestEnd();
        }
      }
    } catch (error) {
      if (error instanceof Http1ParseError) this.#onParseError(error);
      else this.handlerFailed();
    } finally {
      this.#pumping = false;
    }
    this.#updateReading();
  }

  /** Whether the parser should run on (pump()'s loop; #pending is cleared once closed or ending). */
  #wantsBytes(): boolean {
    const exchange = this.#exchange;
    if (exchange === undefined) return !this.#hooks.closing();
    if (this.#discardLeft >= 0) return true;
    return !exchange.requestEnded && exchange.wantsBody;
  }

  /**
   * Reads on while the bytes waiting to be parsed are few, so a client that
   * goes away is noticed even while its exchange does not want bytes; stops
   * past {@linkcode MAX_PENDING}, so a pipelining or fast-uploading client
   * is held back by TCP.
   */
  #updateReading(): void {
    if (this.#closed || this.#ending) return;
    if ((this.#pending?.length ?? 0) < MAX_PENDING) this.#socket.resume();
    else this.#socket.pause();
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    if (this.#timerKind === "idle") this.#arm("head");
    this.#pending = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    this.pump();
  }

  #onHead(head: RequestHead): void {
    this.#arm(undefined);
    const exchange = new Exchange(this, head, this.#socket);
    this.#exchange = exchange;
    const expect = exchange.headers["expect"];
    if (expect !== undefined && expect.toLowerCase() !== "100-continue") {
      // RFC 9110 §10.1.1: an expectation we cannot meet gets 417.
      return this.#failExchange(exchange, 417, `unsupported expectation: ${expect.slice(0, 100)}`);
    }
    try {
      this.#hooks.handler(exchange);
    } catch {
      this.handlerFailed();
    }
  }

  /** The handler (or one of its body callbacks) threw: 500 if nothing was sent, and close. */
  handlerFailed(): void {
    const exchange = this.#exchange;
    if (exchange === undefined || exchange.finished) return this.#finish();
    this.#failExchange(exchange, 500, "internal server error");
  }

  #onBody(chunk: Uint8Array): void {
    if (this.#discardLeft >= 0) {
      this.#discardLeft -= chunk.length;
      if (this.#discardLeft < 0) this.#finish();
      return;
    }
    this.#exchange?.deliver(chunk);
  }

  #onRequestEnd(): void {
    const exchange = this.#exchange;
    if (exchange === undefined) return;
    exchange.requestEnd();
    if (this.#discardLeft >= 0) this.#nextRequest();
  }

  #onParseError(error: Http1ParseError): void {
    const exchange = this.#exchange;
    if (exchange === undefined) {
      this.#answerAndClose(error.status, error.message);
      return;
    }
    // An early answer is out, and the body it left unread is malformed: close after the answer.
    if (exchange.finished) return this.#finish();
    this.#failExchange(exchange, error.status, error.message);
  }

  /** Ends an exchange with an error status, or drops the connection if its head went out. */
  #failExchange(exchange: Exchange, status: number, message: string): void {
    exchange.cancel(message);
    if (exchange.headSent) return this.destroy();
    this.#answerAndClose(status, message);
  }

  #answerAndClose(status: number, message: string): void {
    this.#pending = undefined;
    this.queue(plainErrorResponse(status, message, this.#hooks.date()));
    this.#finish();
  }

  /** Ends the connection once the queued bytes are written. */
  #finish(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    // Go on reading (and dropping) what the client sends: closing with unread
    // bytes would reset the connection and could lose the answer just sent.
    this.#pending = undefined;
    this.#socket.resume();
    this.#arm("end");
    if (!this.#flushQueued) this.#endSocket();
  }

  #endSocket(): void {
    this.#socket.end();
  }

  /**
   * The client closed its side. As with `node:http`'s default, that ends the
   * exchange in flight (its signal aborts: browsers never half-close, so
   * this is how a client that went away is noticed); with none, the
   * connection ends once what is queued is written.
   */
  #onPeerEnd(): void {
    const exchange = this.#exchange;
    if (exchange !== undefined && !exchange.finished) this.destroy();
    else this.#finish();
  }

  /** Sets the connection's timeout (the server's timer watches it), or clears it. */
  #arm(kind: "head" | "idle" | "end" | undefined): void {
    this.#timerKind = kind;
    if (kind === undefined) {
      this.#dueAt = Infinity;
      return;
    }
    const limits = this.#hooks.limits;
    const ms = kind === "idle" ? limits.idleTimeoutMs : limits.headTimeoutMs;
    this.#dueAt = Date.now() + ms;
    this.#hooks.watch(this.#dueAt);
  }

  /** When the connection's timeout or its exchange's deadline is due (`Date.now()` time); `Infinity` for none. */
  get dueAt(): number {
    if (this.#closed) return Infinity;
    const expireAt = this.#exchange?.expireAt ?? Infinity;
    return expireAt < this.#dueAt ? expireAt : this.#dueAt;
  }

  watch(at: number): void {
    this.#hooks.watch(at);
  }

  /** Called by the server's timer: the exchange's deadline or the connection's timeout is due. */
  timedOut(now: number): void {
    const exchange = this.#exchange;
    if (exchange !== undefined && exchange.expireAt <= now) exchange.expire();
    const kind = this.#timerKind;
    if (kind === undefined || this.#closed || this.#dueAt > now) return;
    this.#arm(undefined);
    if (kind !== "head" || this.#exchange !== undefined) return this.destroy();
    const ms = this.#hooks.limits.headTimeoutMs;
    this.#answerAndClose(408, `request head not complete within ${ms} ms`);
  }

  /** Closes at once if idle, else after the answer in flight (which gets `Connection: close`). */
  shutdown(): void {
    const exchange = this.#exchange;
    if (exchange !== undefined && !(exchange.finished && this.#discardLeft >= 0)) return;
    // Nothing left to write: close now rather than wait for the client to.
    if (!this.#flushQueued && this.#socket.writableLength === 0) this.destroy();
    else this.#finish();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#socket.destroy();
    this.#onClose();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#arm(undefined);
    this.#pending = undefined;
    this.#exchange?.cancel("the connection closed before the response ended");
    // No writer waits forever on a connection that is gone (its signal says why).
    const dones = this.#dones;
    this.#dones = [];
    for (const done of dones) done();
    this.#hooks.closed(this);
  }
}
