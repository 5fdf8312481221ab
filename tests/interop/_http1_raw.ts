/**
 * A raw HTTP/1.1 client on a loopback TCP socket, for what ordinary clients
 * hide: a request body held open (chunked), a response read as it arrives
 * (or not read at all), and a connection dropped mid-call.
 *
 * @module
 */

import assert from "node:assert/strict";

/** `#chunkLeft` after the last chunk: reading the trailer section. */
const TRAILERS = -3;

/** A response's status line and header fields. */
export interface ResponseHead {
  status: number;
  /** Header fields, names lower-cased. */
  headers: Map<string, string>;
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One HTTP/1.1 connection. */
export class RawHttp1 implements AsyncDisposable {
  #conn: Deno.TcpConn;
  /** Received bytes not yet consumed: `#buffer` from `#at` on. */
  #buffer: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #at = 0;
  #ended = false;
  #closed = false;
  /** Body framing of the response being read. */
  #chunked = false;
  #remaining = Infinity;
  #chunkLeft = 0;
  #bodyDone = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Opens a connection to `host:port`. */
  static async connect(host: string, port: number): Promise<RawHttp1> {
    return new RawHttp1(await Deno.connect({ hostname: host, port }));
  }

  /** Writes bytes or text. */
  async write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let at = 0; at < bytes.length;) at += await this.#conn.write(bytes.subarray(at));
  }

  /** Writes a request head: `method path`, `Host`, then `headers` (`Name: value`). */
  writeHead(method: string, path: string, headers: string[]): Promise<void> {
    return this.write(
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.join("\r\n")}\r\n\r\n`,
    );
  }

  /** Writes one chunk of a chunked request body (an empty one ends the body). */
  writeChunk(bytes: Uint8Array): Promise<void> {
    const size = new TextEncoder().encode(`${bytes.length.toString(16)}\r\n`);
    return this.write(concat([size, bytes, new TextEncoder().encode("\r\n")]));
  }

  /** Reads more bytes into the buffer; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.#conn.read(chunk);
    if (n === null) {
      this.#ended = true;
      return false;
    }
    this.#buffer = concat([this.#buffer.subarray(this.#at), chunk.subarray(0, n)]);
    this.#at = 0;
    return true;
  }

  /** How many received bytes are not yet consumed. */
  get #available(): number {
    return this.#buffer.length - this.#at;
  }

  /** Takes `n` bytes off the buffer (without copying what stays). */
  #take(n: number): Uint8Array {
    const out = this.#buffer.slice(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  /** The offset of CRLF among the unconsumed bytes, or -1. */
  #crlf(): number {
    const b = this.#buffer;
    for (let i = this.#at; i + 1 < b.length; i++) {
      if (b[i] === 13 && b[i + 1] === 10) return i - this.#at;
    }
    return -1;
  }

  /** Reads a response head (skipping 1xx ones) and sets up the body's framing. */
  async readHead(): Promise<ResponseHead> {
    while (true) {
      let end = -1;
      while ((end = this.#headEnd()) < 0) {
        assert.ok(await this.#fill(), "the connection ended before a response head");
      }
      const text = new TextDecoder().decode(this.#take(end + 4));
      const [statusLine, ...lines] = text.slice(0, -4).split("\r\n");
      const status = Number(statusLine.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0);
      assert.ok(status > 0, `not an HTTP/1.1 status line: ${statusLine}`);
      if (status >= 100 && status < 200) continue;
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      this.#chunked = /chunked/i.test(headers.get("transfer-encoding") ?? "");
      this.#chunkLeft = 0;
      const length = headers.get("content-length");
      this.#remaining = this.#chunked || length === undefined ? Infinity : Number(length);
      this.#bodyDone = this.#remaining === 0;
      return { status, headers };
    }
  }

  /** Where the head ends (the CRLFCRLF) among the unconsumed bytes, or -1. */
  #headEnd(): number {
    const b = this.#buffer;
    for (let i = this.#at; i + 3 < b.length; i++) {
      if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) {
        return i - this.#at;
      }
    }
    return -1;
  }

  /**
   * The next piece of the response body, unframed, as it arrives; `undefined`
   * once the body has ended.
   */
  async readBody(): Promise<Uint8Array | undefined> {
    while (!this.#bodyDone) {
      const piece = this.#chunked ? this.#nextChunkPiece() : this.#nextPlainPiece();
      if (piece !== undefined && piece.length > 0) return piece;
      if (this.#bodyDone) break;
      if (!await this.#fill()) {
        // Without a length, the body ends with the connection.
        assert.ok(this.#remaining === Infinity && !this.#chunked, "the body was cut short");
        this.#bodyDone = true;
      }
    }
    return undefined;
  }

  /** Reads the rest of the body. */
  async readBodyToEnd(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (let p; (p = await this.readBody()) !== undefined;) parts.push(p);
    return concat(parts);
  }

  /** Body bytes with a Content-Length (or none), from the buffer. */
  #nextPlainPiece(): Uint8Array | undefined {
    const n = Math.min(this.#available, this.#remaining);
    if (n === 0) return undefined;
    this.#remaining -= n;
    if (this.#remaining === 0) this.#bodyDone = true;
    return this.#take(n);
  }

  /** Chunked body bytes from the buffer, or undefined when more must be read. */
  #nextChunkPiece(): Uint8Array | undefined {
    if (this.#chunkLeft === TRAILERS) return this.#skipTrailers();
    if (this.#chunkLeft > 0) {
      const n = Math.min(this.#available, this.#chunkLeft);
      if (n === 0) return undefined;
      this.#chunkLeft -= n;
      const out = this.#take(n);
      if (this.#chunkLeft === 0) this.#chunkLeft = -2; // its CRLF comes next
      return out;
    }
    if (this.#chunkLeft === -2) {
      if (this.#available < 2) return undefined;
      this.#take(2);
      this.#chunkLeft = 0;
    }
    const eol = this.#crlf();
    if (eol < 0) return undefined;
    const size = parseInt(new TextDecoder().decode(this.#take(eol + 2)), 16);
    assert.ok(Number.isFinite(size), "a chunk size that is not hex");
    if (size === 0) {
      // The last chunk: the trailer section and its empty line follow.
      this.#chunkLeft = TRAILERS;
      return this.#skipTrailers();
    }
    this.#chunkLeft = size;
    return this.#nextChunkPiece() ?? new Uint8Array(0);
  }

  /**
   * Consumes the trailer section after the last chunk, up to its empty line
   * (RFC 9112 §7.1.2), so that the next response on the connection reads
   * from its first byte; undefined either way.
   */
  #skipTrailers(): undefined {
    for (let eol; (eol = this.#crlf()) >= 0;) {
      this.#take(eol + 2);
      if (eol === 0) {
        this.#bodyDone = true;
        break;
      }
    }
    return undefined;
  }

  /** Closes the connection (at once: a client that goes away). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /** Closes the connection. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** A Connect or gRPC-Web envelope: a flag byte, a 4-byte big-endian length, the bytes. */
export function envelope(payload: Uint8Array | string, flag = 0): Uint8Array {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const out = new Uint8Array(5 + bytes.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

/** Reads envelopes off a stream of body pieces as they arrive. */
export class EnvelopeReader {
  /** Received bytes not yet consumed: `#buffer` from `#at` on. */
  #buffer: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #at = 0;
  #next: () => Promise<Uint8Array | undefined>;

  /** Reads from `next` (e.g. a RawHttp1's `readBody`). */
  constructor(next: () => Promise<Uint8Array | undefined>) {
    this.#next = next;
  }

  /** The next envelope, or `undefined` at the end of the body (failing on a cut one). */
  async read(): Promise<{ flag: number; payload: Uint8Array } | undefined> {
    while (true) {
      const available = this.#buffer.length - this.#at;
      if (available >= 5) {
        const length = new DataView(this.#buffer.buffer, this.#at + 1, 4).getUint32(0);
        if (available >= 5 + length) {
          const start = this.#at + 5;
          const out = {
            flag: this.#buffer[this.#at],
            payload: this.#buffer.slice(start, start + length),
          };
          this.#at = start + length;
          return out;
        }
      }
      const piece = await this.#next();
      if (piece === undefined) {
        assert.equal(available, 0, "the body ended inside an envelope");
        return undefined;
      }
      this.#buffer = concat([this.#buffer.subarray(this.#at), piece]);
      this.#at = 0;
    }
  }
}
