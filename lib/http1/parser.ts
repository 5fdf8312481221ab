/**
 * A strict HTTP/1.x request parser without I/O (RFC 9112): bytes in, a
 * request head, body pieces and an end out, or an {@linkcode Http1ParseError}
 * carrying the status to answer. Leniency is off: whatever two parsers could
 * read differently (the shapes request smuggling is built from) is refused,
 * never guessed.
 *
 * Lines end in CRLF only. RFC 9112 §2.2 lets a recipient accept a bare LF,
 * but a bare LF is exactly where parsers in a chain disagree, and every
 * client we serve sends CRLF; so a bare LF (like a bare CR) is a 400.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** A request head as parsed: the method, the target reduced to path and query, version, headers. */
export interface RequestHead {
  /** The method token as sent (methods are case-sensitive). */
  readonly method: string;
  /** The origin-form target (`/path?query`); absolute-form reduced to it; `*` or an authority as sent. */
  readonly target: string;
  /** The HTTP version; a 1.x minor version above 1 reads as 1.1 (RFC 9110 §2.5). */
  readonly version: "1.0" | "1.1";
  /** The header fields in order, names lower case, values without surrounding whitespace. */
  readonly headers: readonly (readonly [name: string, value: string])[];
}

/** What the parser found: a head, a piece of the body, or the end of the request. */
export type RequestEvent =
  | { readonly type: "head"; readonly head: RequestHead }
  | { readonly type: "body"; readonly chunk: Uint8Array }
  | { readonly type: "end" };

/** A request the parser refuses, with the HTTP status to answer it with. */
export class Http1ParseError extends Error {
  /** The status to answer (400, 414, 431, 501, 505). */
  readonly status: number;
  /** Makes an error answered by `status`. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "Http1ParseError";
    this.status = status;
  }
}

/** Limits for {@linkcode RequestParser}. */
export interface RequestParserOptions {
  /**
   * Bytes of the header section (its field lines with their CRLFs), and
   * separately of a chunked body's trailer section; more gets 431.
   * @default {9216}
   */
  maxHeaderBytes?: number;
  /**
   * Header fields in one request (and trailer fields); more gets 431.
   * @default {100}
   */
  maxHeaderFields?: number;
  /**
   * Bytes of the request line without its CRLF; more gets 414.
   * @default {8192}
   */
  maxRequestLineBytes?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values are VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5): every other control is refused.
// deno-lint-ignore no-control-regex
const FIELD_VALUE_BAD = /[\x00-\x08\x0a-\x1f\x7f]/;
const TARGET = /^[\x21-\x7e]+$/;
const HOST = /^[A-Za-z0-9\-._~!$&'()*+,;=%:\[\]]*$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const QUOTED = String.raw`"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"`;
const TOKEN_PART = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const CHUNK_SIZE_LINE = new RegExp(
  `^([0-9A-Fa-f]+)((?:[ \\t]*;[ \\t]*${TOKEN_PART}(?:[ \\t]*=[ \\t]*(?:${TOKEN_PART}|${QUOTED}))?)*)$`,
);
/** A chunk-size line longer than this is refused: no chunk extension we read needs it. */
const MAX_CHUNK_LINE = 4096;
/** 13 hex digits are 52 bits: every size up to that is a safe integer. */
const MAX_CHUNK_SIZE_DIGITS = 13;

const REQUEST_LINE = 0;
const HEADER = 1;
const BODY_LENGTH = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_END = 5;
const TRAILER = 6;

/**
 * The first `byte` in `bytes` from `from`, or -1. The typed array's own
 * search: socket reads are `Buffer`s, whose `indexOf` is a slower
 * JavaScript one in Deno (0.7 µs against 0.1 µs a search here).
 */
function indexOfByte(bytes: Uint8Array, byte: number, from = 0): number {
  return Uint8Array.prototype.indexOf.call(bytes, byte, from);
}

/** Bytes as a string, one character per byte. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** A 400 naming the fault. */
function bad(message: string): Http1ParseError {
  return new Http1ParseError(400, message);
}

/**
 * One connection's request parser. {@linkcode receive} consumes bytes and
 * stops after each event (a head, a body piece, a request's end), so the
 * caller decides when more of the body and the next pipelined request are read.
 */
export class RequestParser {
  readonly #maxHeaderBytes: number;
  readonly #maxHeaderFields: number;
  readonly #maxRequestLine: number;
  #state = REQUEST_LINE;
  #line = new Uint8Array(256);
  #lineLength = 0;
  #lineView: Uint8Array = new Uint8Array(0);
  #skipped = 0;
  #sectionBytes = 0;
  #fieldCount = 0;
  #method = "";
  #target = "";
  #authority: string | undefined;
  #version: "1.0" | "1.1" = "1.1";
  #headers: [string, string][] = [];
  #remaining = 0;
  #crlf = 0;
  #events: RequestEvent[] = [];
  #failure: Http1ParseError | undefined;

  /** Makes a parser with the given limits. */
  constructor(options: RequestParserOptions = {}) {
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 9216;
    this.#maxHeaderFields = options.maxHeaderFields ?? 100;
    this.#maxRequestLine = options.maxRequestLineBytes ?? 8192;
  }

  /** Whether no byte of a next request has arrived (between requests, or before the first). */
  get idle(): boolean {
    return this.#state === REQUEST_LINE && this.#lineLength === 0 && this.#skipped === 0;
  }

  /**
   * Bytes of a Content-Length body not parsed yet; `undefined` outside such
   * a body (a chunked body's length is not known before its end).
   */
  get lengthLeft(): number | undefined {
    return this.#state === BODY_LENGTH ? this.#remaining : undefined;
  }

  /**
   * Parses `bytes`; returns how many were consumed, stopping after each
   * event (a head, a body piece, a request's end). Throws {@linkcode Http1ParseError}, then again on every call.
   */
  receive(bytes: Uint8Array): number {
    if (this.#failure) throw this.#failure;
    try {
      // A plain view: socket reads are Buffers, whose subarray() makes a
      // Buffer each time, costly in Deno; body pieces are plain views too.
      const view = Object.getPrototypeOf(bytes) === Uint8Array.prototype
        ? bytes
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return this.#run(view);
    } catch (error) {
      if (error instanceof Http1ParseError) this.#failure = error;
      throw error;
    }
  }

  /** The events found since the last call. */
  takeEvents(): RequestEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  #run(bytes: Uint8Array): number {
    let at = 0;
    while (at < bytes.length) {
      const before = this.#events.length;
      at = this.#step(bytes, at);
      if (at < 0) return bytes.length;
      // Every event ends the call, a body piece too: a reader that pauses
      // in its onData must not be handed the next chunk of the same read.
      if (this.#events.length > before) return at;
    }
    return at;
  }

  /** One step in the current state; the next offset, or -1 when every byte was taken. */
  #step(bytes: Uint8Array, at: number): number {
    switch (this.#state) {
      case REQUEST_LINE:
        return this.#onRequestLineBytes(bytes, at);
      case HEADER:
      case TRAILER:
        return this.#onFieldLineBytes(bytes, at);
      case BODY_LENGTH:
      case CHUNK_DATA:
        return this.#onBodyBytes(bytes, at);
      case CHUNK_SIZE: {
        const next = this.#takeLine(bytes, at, MAX_CHUNK_LINE, () => {
          throw bad(`chunk size line longer than ${MAX_CHUNK_LINE} bytes`);
        });
        if (next >= 0) this.#onChunkSize(latin1(this.#lineView));
        return next;
      }
      default:
        return this.#onChunkDataEnd(bytes, at);
    }
  }

  /**
   * Collects one line; at its LF sets `#lineView` (without CRLF) and returns
   * the offset after it, or returns -1 when the line goes on in later bytes.
   */
  #takeLine(bytes: Uint8Array, at: number, limit: number, overflow: () => never): number {
    const lf = indexOfByte(bytes, LF, at);
    const end = lf === -1 ? bytes.length : lf;
    // The limit counts the line without its CRLF; the CR may be in the bytes so far.
    if (this.#lineLength + (end - at) > limit + 1) overflow();
    if (lf === -1) {
      this.#append(bytes.subarray(at));
      return -1;
    }
    let line: Uint8Array;
    if (this.#lineLength === 0) line = bytes.subarray(at, lf);
    else {
      this.#append(bytes.subarray(at, lf));
      line = this.#line.subarray(0, this.#lineLength);
      this.#lineLength = 0;
    }
    if (line.length === 0 || line[line.length - 1] !== CR) {
      throw bad("a line ends in a bare LF; HTTP/1.1 lines end in CRLF");
    }
    line = line.subarray(0, line.length - 1);
    if (indexOfByte(line, CR) !== -1) throw bad("a bare CR inside a line");
    this.#lineView = line;
    return lf + 1;
  }

  #append(piece: Uint8Array): void {
    const need = this.#lineLength + piece.length;
    if (need > this.#line.length) {
      const grown = new Uint8Array(Math.max(need, this.#line.length * 2));
      grown.set(this.#line.subarray(0, this.#lineLength));
      this.#line = grown;
    }
    this.#line.set(piece, this.#lineLength);
    this.#lineLength = need;
  }

  #onRequestLineBytes(bytes: Uint8Array, at: number): number {
    const limit = this.#maxRequestLine;
    const next = this.#takeLine(bytes, at, limit, () => {
      throw new Http1ParseError(414, `request line longer than ${limit} bytes`);
    });
    if (next < 0) return next;
    if (this.#lineView.length === 0) {
      // RFC 9112 §2.2: empty lines before a request line are ignored (some
      // clients send CRLF after a body), within the request line's budget.
      this.#skipped += 2;
      if (this.#skipped > limit) throw bad("too many empty lines before the request line");
      return next;
    }
    this.#onRequestLine(latin1(this.#lineView));
    this.#state = HEADER;
    return next;
  }

  #onRequestLine(line: string): void {
    const parts = line.split(" ");
    if (parts.length !== 3) {
      throw bad(
        parts.length === 2 && !parts[1].startsWith("HTTP/")
          ? "request line without an HTTP version (HTTP/0.9 is not served)"
          : "request line is not method SP target SP version",
      );
    }
    const [method, target, version] = parts;
    if (!TOKEN.test(method)) throw bad(`method is not a token: ${JSON.stringify(method)}`);
    const match = VERSION.exec(version);
    if (!match) throw bad(`invalid HTTP version: ${JSON.stringify(version)}`);
    if (match[1] !== "1") {
      throw new Http1ParseError(505, `HTTP version ${match[1]}.${match[2]} is not supported`);
    }
    this.#version = match[2] === "0" ? "1.0" : "1.1";
    this.#method = method;
    this.#target = this.#requestTarget(method, target);
    this.#headers = [];
    this.#sectionBytes = 0;
    this.#fieldCount = 0;
  }

  /** The target as the exchange shows it (RFC 9112 §3.2), or a 400. */
  #requestTarget(method: string, target: string): string {
    this.#authority = undefined;
    if (!TARGET.test(target) || target.includes("#")) {
      throw bad(`invalid request target: ${JSON.stringify(target.slice(0, 100))}`);
    }
    if (target[0] === "/") return target;
    if (target === "*") {
      if (method === "OPTIONS") return target;
      throw bad("asterisk-form target on a method other than OPTIONS");
    }
    const absolute = /^https?:\/\/([^/?]*)(.*)$/i.exec(target);
    if (absolute) {
      if (absolute[1] === "" || !HOST.test(absolute[1])) {
        throw bad("absolute-form target without a valid host");
      }
      this.#authority = absolute[1];
      const rest = absolute[2];
      return rest === "" ? "/" : rest[0] === "?" ? "/" + rest : rest;
    }
    if (method === "CONNECT") return target;
    throw bad(`invalid request target: ${JSON.stringify(target.slice(0, 100))}`);
  }

  #onFieldLineBytes(bytes: Uint8Array, at: number): number {
    const budget = this.#maxHeaderBytes - this.#sectionBytes;
    const what = this.#state === HEADER ? "header" : "trailer";
    const next = this.#takeLine(bytes, at, Math.max(budget - 2, 0), () => {
      throw new Http1ParseError(431, `${what} section larger than ${this.#maxHeaderBytes} bytes`);
    });
    if (next < 0) return next;
    const line = this.#lineView;
    if (line.length === 0) {
      if (this.#state === HEADER) this.#onHeadEnd();
      else this.#endRequest();
      return next;
    }
    this.#sectionBytes += line.length + 2;
    if (++this.#fieldCount > this.#maxHeaderFields) {
      throw new Http1ParseError(431, `more than ${this.#maxHeaderFields} ${what} fields`);
    }
    const field = this.#fieldLine(latin1(line), what);
    if (this.#state === HEADER) this.#headers.push(field);
    return next;
  }

  /** One field line as (lower-case name, value), or a 400 naming what is wrong. */
  #fieldLine(line: string, what: string): [string, string] {
    if (line[0] === " " || line[0] === "\t") {
      throw bad(`obsolete line folding in the ${what} section`);
    }
    const colon = line.indexOf(":");
    if (colon === -1) throw bad(`${what} line without a colon`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) {
      throw bad(
        /[ \t]$/.test(name)
          ? `whitespace before the colon in ${what} field ${JSON.stringify(name.trimEnd())}`
          : `invalid ${what} field name ${JSON.stringify(name.slice(0, 100))}`,
      );
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (FIELD_VALUE_BAD.test(value)) {
      throw bad(`invalid character in the value of ${what} field ${name}`);
    }
    return [name.toLowerCase(), value];
  }

  #onHeadEnd(): void {
    let host: string | undefined;
    let hosts = 0;
    const lengths: string[] = [];
    const codings: string[] = [];
    for (const field of this.#headers) {
      const [name, value] = field;
      if (name === "host") {
        hosts++;
        host = value;
        if (this.#authority !== undefined) field[1] = this.#authority;
      } else if (name === "content-length") lengths.push(value);
      else if (name === "transfer-encoding") codings.push(value);
    }
    if (hosts > 1) throw bad("more than one Host field");
    if (hosts === 0 && this.#version === "1.1") throw bad("HTTP/1.1 request without Host");
    if (host !== undefined && !HOST.test(host)) throw bad(`invalid Host: ${JSON.stringify(host)}`);
    const head: RequestHead = {
      method: this.#method,
      target: this.#target,
      version: this.#version,
      headers: this.#headers,
    };
    this.#events.push({ type: "head", head });
    this.#framing(lengths, codings);
  }

  /** The body's framing (RFC 9112 §6.3), refusing every ambiguous shape. */
  #framing(lengths: string[], codings: string[]): void {
    if (codings.length > 0) {
      if (this.#version === "1.0") throw bad("Transfer-Encoding in an HTTP/1.0 request");
      if (lengths.length > 0) throw bad("both Transfer-Encoding and Content-Length");
      const list = codings.join(",").split(",").map((c) => c.trim().toLowerCase()).filter((c) =>
        c !== ""
      );
      if (list.length === 0 || list[list.length - 1] !== "chunked") {
        throw bad("Transfer-Encoding does not end in chunked");
      }
      if (list.indexOf("chunked") !== list.length - 1) throw bad("chunked applied more than once");
      if (list.length > 1) {
        throw new Http1ParseError(501, `transfer coding ${list[0]} is not supported`);
      }
      this.#state = CHUNK_SIZE;
      return;
    }
    if (lengths.length > 1) throw bad("more than one Content-Length field");
    if (lengths.length === 0) return this.#endRequest();
    const text = lengths[0];
    if (!/^\d{1,15}$/.test(text)) {
      throw bad(`invalid Content-Length: ${JSON.stringify(text.slice(0, 40))}`);
    }
    this.#remaining = Number(text);
    if (this.#remaining === 0) return this.#endRequest();
    this.#state = BODY_LENGTH;
  }

  #onBodyBytes(bytes: Uint8Array, at: number): number {
    const n = Math.min(this.#remaining, bytes.length - at);
    this.#events.push({ type: "body", chunk: bytes.subarray(at, at + n) });
    this.#remaining -= n;
    if (this.#remaining === 0) {
      if (this.#state === BODY_LENGTH) this.#endRequest();
      else {
        this.#state = CHUNK_DATA_END;
        this.#crlf = 0;
      }
    }
    return at + n;
  }

  #onChunkSize(line: string): void {
    const match = CHUNK_SIZE_LINE.exec(line);
    if (!match) throw bad(`invalid chunk size line: ${JSON.stringify(line.slice(0, 60))}`);
    const digits = match[1].replace(/^0+(?=.)/, "");
    if (digits.length > MAX_CHUNK_SIZE_DIGITS) throw bad(`chunk size ${match[1]} too large`);
    const size = parseInt(digits, 16);
    if (size === 0) {
      this.#state = TRAILER;
      this.#sectionBytes = 0;
      this.#fieldCount = 0;
      return;
    }
    this.#remaining = size;
    this.#state = CHUNK_DATA;
  }

  #onChunkDataEnd(bytes: Uint8Array, at: number): number {
    const expected = this.#crlf === 0 ? CR : LF;
    if (bytes[at] !== expected) throw bad("chunk data not followed by CRLF");
    if (++this.#crlf === 2) this.#state = CHUNK_SIZE;
    return at + 1;
  }

  #endRequest(): void {
    this.#events.push({ type: "end" });
    this.#state = REQUEST_LINE;
    this.#skipped = 0;
  }
}
