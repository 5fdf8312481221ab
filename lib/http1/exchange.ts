/**
 * One HTTP/1.x request and its response, as handlers see it
 * ({@linkcode Http1Exchange}: the shape of `lib/web/`'s `HttpExchange`), and
 * the class behind it, driven by its connection in `server.ts`.
 *
 * @module
 */

import type { Socket } from "node:net";
import type { RequestHead } from "./parser.ts";
import {
  type BodyFraming,
  chunkFrame,
  CONTINUE,
  LAST_CHUNK,
  type ResponseHeaderValue,
  serializeHead,
} from "./response.ts";

/** One request and its response on an HTTP/1.x connection. */
export interface Http1Exchange {
  /** The method as sent: `GET`, `POST`, … */
  readonly method: string;
  /** The target's path and query; an absolute-form target reduced to them. */
  readonly path: string;
  /** Request headers, names lower case, a repeated field's values joined by `", "`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The request's HTTP version. */
  readonly httpVersion: "1.0" | "1.1";
  /** Whether the connection is TLS. */
  readonly encrypted: boolean;
  /** The peer's address, when known. */
  readonly remoteAddress?: string;
  /** The peer's port, when known. */
  readonly remotePort?: number;
  /** Aborted when the exchange ends before its response has: the client went away, or the connection was dropped. */
  readonly signal: AbortSignal;
  /**
   * Starts delivering the request body: `onData` per piece (the receiver may
   * keep it), then `onEnd` once; neither after `signal` aborts, nor after the
   * response ended. Sends `100 Continue` first when the client waits for it.
   */
  readBody(onData: (chunk: Uint8Array) => void, onEnd: () => void): void;
  /** Stops `onData` calls; the socket is read no further than a small read-ahead. */
  pauseBody(): void;
  /** Resumes `onData` calls. */
  resumeBody(): void;
  /**
   * Sends the status (200 and up) and headers (not `transfer-encoding`, which
   * is ours). With `content-length` exactly that many bytes follow; without
   * it HTTP/1.1 chunks the body and HTTP/1.0 ends it by closing. A `HEAD`
   * answer has its headers only. Throws on a header that cannot be written.
   */
  respond(status: number, headers: Readonly<Record<string, ResponseHeaderValue>>): void;
  /**
   * Queues response bytes; `done` runs soon while the bytes waiting are
   * under the high-water mark, else once they are written to the socket (or
   * the connection closed). Returns `false` when the caller should wait for `done`.
   */
  write(chunk: Uint8Array, done?: () => void): boolean;
  /** Ends the response, after `chunk` when given (with 200 and no headers if none were sent). */
  end(chunk?: Uint8Array): void;
  /** Ends the exchange at once, its response unfinished: the connection closes and `signal` aborts. */
  abort(): void;
  /**
   * Calls `expire` once, `ms` from now, unless the response has ended or
   * the exchange aborted by then, on the server's one timer.
   */
  expireAfter(ms: number, expire: () => void): void;
}

/** What an exchange needs from its connection. */
export interface ExchangeOwner {
  /** Queues bytes for the socket; false past the high-water mark. */
  queue(bytes: Uint8Array | undefined, done?: () => void): boolean;
  /** Queues several pieces, `done` after the last. */
  queueAll(pieces: Uint8Array[], done?: () => void): boolean;
  /** Parses what is waiting, if the exchange now wants it. */
  pump(): void;
  /** Whether the connection may carry another request after this exchange. */
  mayKeepAlive(exchange: Exchange): boolean;
  /** The Date field's value now. */
  date(): string;
  /** The response said the connection closes after it. */
  closeAfterResponse(): void;
  /** The response ended. */
  responseEnded(requestEnded: boolean): void;
  /** Drops the connection. */
  destroy(): void;
  /** Something of this connection's is due at `at` (`Date.now()` time): the server's timer must fire by then. */
  watch(at: number): void;
  /** A body callback threw. */
  handlerFailed(): void;
}

/** The exchange the connection drives; handlers see it as {@linkcode Http1Exchange}. */
export class Exchange implements Http1Exchange {
  /** The method as sent. */
  readonly method: string;
  /** The target's path and query. */
  readonly path: string;
  /** Request headers, names lower case, repeated fields joined by `", "`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The request's HTTP version. */
  readonly httpVersion: "1.0" | "1.1";
  /** Whether the connection is TLS. */
  readonly encrypted: boolean;
  /** The peer's address. */
  readonly remoteAddress?: string;
  /** The peer's port. */
  readonly remotePort?: number;
  readonly #controller = new AbortController();
  readonly #connection: ExchangeOwner;
  #onData: ((chunk: Uint8Array) => void) | undefined;
  #onEnd: (() => void) | undefined;
  #reading = false;
  #paused = false;
  #requestEnded = false;
  #continuePending: boolean;
  #framing: BodyFraming | undefined;
  #lengthLeft = 0;
  #finished = false;
  #expireAt = Infinity;
  #onExpire: (() => void) | undefined;

  /** Made by the server for each request head. */
  constructor(connection: ExchangeOwner, head: RequestHead, socket: Socket) {
    this.#connection = connection;
    this.method = head.method;
    this.path = head.target;
    this.httpVersion = head.version;
    const headers: Record<string, string> = Object.create(null);
    for (const [name, value] of head.headers) {
      const previous = headers[name];
      headers[name] = previous === undefined ? value : `${previous}, ${value}`;
    }
    this.headers = headers;
    this.encrypted = (socket as { encrypted?: boolean }).encrypted === true;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.#continuePending = head.version === "1.1" &&
      headers["expect"]?.toLowerCase() === "100-continue";
  }

  /** Aborted when the exchange ends before its response has. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Starts delivering the request body (and sends `100 Continue` if the client waits for it). */
  readBody(onData: (chunk: Uint8Array) => void, onEnd: () => void): void {
    if (this.#reading) throw new Error("readBody() called twice");
    this.#reading = true;
    this.#onData = onData;
    this.#onEnd = onEnd;
    if (this.#requestEnded) {
      queueMicrotask(() => {
        try {
          this.#deliverEnd();
        } catch {
          this.#connection.handlerFailed();
        }
      });
      return;
    }
    if (this.#continuePending && this.#framing === undefined) {
      this.#connection.queue(CONTINUE);
    }
    this.#continuePending = false;
    this.#connection.pump();
  }

  /** Stops `onData` calls and reading from the socket. */
  pauseBody(): void {
    this.#paused = true;
  }

  /** Resumes `onData` calls. */
  resumeBody(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#connection.pump();
  }

  /** Sends the status and headers. */
  respond(status: number, headers: Readonly<Record<string, ResponseHeaderValue>>): void {
    if (this.#framing !== undefined) throw new Error("respond() called twice");
    if (status < 200) throw new RangeError(`respond() takes a final status, not ${status}`);
    if (this.#controller.signal.aborted) return;
    const head = serializeHead(status, headers, {
      version: this.httpVersion,
      method: this.method,
      keepAlive: this.#connection.mayKeepAlive(this),
      date: this.#connection.date(),
    });
    this.#framing = head.framing;
    this.#lengthLeft = head.length;
    if (!head.keepAlive) this.#connection.closeAfterResponse();
    this.#connection.queue(head.bytes);
  }

  /** Queues response bytes; false when the caller should wait for `done`. */
  write(chunk: Uint8Array, done?: () => void): boolean {
    if (this.#finished || this.#controller.signal.aborted) {
      if (done) queueMicrotask(done);
      return true;
    }
    if (this.#framing === undefined) throw new Error("write() before respond()");
    switch (this.#framing) {
      case "none":
        if (done) queueMicrotask(done);
        return true;
      case "length":
        if (chunk.length > this.#lengthLeft) {
          throw new RangeError(`response body longer than its content-length`);
        }
        this.#lengthLeft -= chunk.length;
        return this.#connection.queue(chunk, done);
      case "chunked":
        // An empty chunk would read as the last one.
        if (chunk.length === 0) return this.#connection.queue(undefined, done);
        return this.#connection.queueAll(chunkFrame(chunk), done);
      default:
        return this.#connection.queue(chunk, done);
    }
  }

  /** Ends the response, after `chunk` when given. */
  end(chunk?: Uint8Array): void {
    if (this.#framing === undefined) this.respond(200, {});
    if (this.#finished || this.#controller.signal.aborted) return;
    if (chunk && chunk.length > 0) this.write(chunk);
    if (this.#framing === "length" && this.#lengthLeft > 0) {
      // The client would wait for bytes that never come: only closing ends
      // it, and the response did not end (the signal says so).
      return this.#connection.destroy();
    }
    this.#finished = true;
    if (this.#framing === "chunked") this.#connection.queue(LAST_CHUNK);
    this.#connection.responseEnded(this.#requestEnded);
  }

  /** Calls `expire` `ms` from now unless the response ended or the exchange aborted by then. */
  expireAfter(ms: number, expire: () => void): void {
    this.#onExpire = expire;
    this.#expireAt = Date.now() + ms;
    this.#connection.watch(this.#expireAt);
  }

  /** When (`Date.now()`) {@linkcode expireAfter}'s callback is due; `Infinity` for none. */
  get expireAt(): number {
    return this.#expireAt;
  }

  /** Called by the connection at {@linkcode expireAt}. */
  expire(): void {
    const expire = this.#onExpire;
    this.#expireAt = Infinity;
    this.#onExpire = undefined;
    if (expire !== undefined && !this.#finished && !this.#controller.signal.aborted) expire();
  }

  /** Ends the exchange at once, its response unfinished: the connection closes. */
  abort(): void {
    if (this.#finished) return;
    this.#connection.destroy();
  }

  /** Whether the response head went out. */
  get headSent(): boolean {
    return this.#framing !== undefined;
  }

  /** Whether the response has ended. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Whether body bytes should be parsed now. */
  get wantsBody(): boolean {
    return this.#reading && !this.#paused && !this.#finished && !this.#controller.signal.aborted;
  }

  /** Whether the request's body was read to its end. */
  get requestEnded(): boolean {
    return this.#requestEnded;
  }

  /** Whether the client still waits for `100 Continue` before sending its body. */
  get awaitingContinue(): boolean {
    return this.#continuePending;
  }

  /** Called by the connection for each piece of body. */
  deliver(chunk: Uint8Array): void {
    // The parser hands out no empty piece: no length check.
    if (this.wantsBody) this.#onData!(chunk);
  }

  /** Called by the connection at the end of the request. */
  requestEnd(): void {
    this.#requestEnded = true;
    // Before readBody() there is no onEnd yet: #deliverEnd() skips it, and
    // readBody() delivers the end later.
    this.#deliverEnd();
  }

  #deliverEnd(): void {
    if (this.#controller.signal.aborted || !this.#onEnd) return;
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd();
  }

  /** Aborts the signal unless the response ended. */
  cancel(reason: string): void {
    if (this.#finished || this.#controller.signal.aborted) return;
    this.#controller.abort(new Error(reason));
  }
}
