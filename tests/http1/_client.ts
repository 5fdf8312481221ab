/**
 * A raw HTTP/1.x client over `node:net` for the socket tests: writes bytes
 * as given and reads responses strictly by their framing (RFC 9112 §6.3),
 * so a test sees exactly what the server put on the wire.
 *
 * @module
 */

import net from "node:net";
import { Buffer } from "node:buffer";
import { Http1Server, type Http1ServerOptions } from "../../lib/http1/server.ts";
import type { Http1Exchange } from "../../lib/http1/exchange.ts";

/** A response as read off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** How the body was framed: `length`, `chunked`, `close` or `none`. */
  framing: string;
}

/** Starts an Http1Server behind a loopback listener on port 0. */
export async function startServer(
  handler: (exchange: Http1Exchange) => void,
  options?: Http1ServerOptions,
): Promise<{ port: number; server: Http1Server; stop: () => Promise<void> }> {
  const server = new Http1Server(handler, options);
  const listener = net.createServer((socket) => server.accept(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as net.AddressInfo).port;
  const stop = async () => {
    server.destroyAll();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  };
  return { port, server, stop };
}

/** One client connection. */
export class RawClient {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("error", () => {});
    this.socket.on("data", (d: Buffer) => {
      this.#chunks.push(d);
      this.#length += d.length;
      this.#wake?.();
    });
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
    this.socket.on("end", () => {
      this.#ended = true;
      this.#wake?.();
    });
  }

  /** What is received and unread, in one buffer (joined only when read, so large bodies cost linear time). */
  get #buffer(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0];
  }

  set #buffer(rest: Buffer) {
    this.#chunks = [rest];
    this.#length = rest.length;
  }

  /** Writes text (latin1) or bytes. */
  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** Every byte received, as text, once the server closes. */
  async rest(): Promise<string> {
    while (!this.#ended) await this.#more();
    return this.#buffer.toString("latin1");
  }

  async #more(): Promise<void> {
    if (this.#ended) {
      throw new Error(
        `connection ended; unread: ${JSON.stringify(this.#buffer.toString("latin1"))}`,
      );
    }
    await new Promise<void>((resolve) => this.#wake = resolve);
    this.#wake = undefined;
  }

  async #line(): Promise<string> {
    for (;;) {
      const at = this.#buffer.indexOf("\r\n");
      if (at >= 0) {
        const line = this.#buffer.subarray(0, at).toString("latin1");
        this.#buffer = this.#buffer.subarray(at + 2);
        return line;
      }
      await this.#more();
    }
  }

  async #bytes(n: number): Promise<string> {
    while (this.#length < n) await this.#more();
    const out = this.#buffer.subarray(0, n).toString("latin1");
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** Reads one response (interim ones included); `head` for an answer to HEAD. */
  async response(head = false): Promise<RawResponse> {
    const statusLine = await this.#line();
    const match = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
    if (!match) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (let line = await this.#line(); line !== ""; line = await this.#line()) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    if (head || status < 200 || status === 204 || status === 304) {
      return { status, headers, body: "", framing: "none" };
    }
    if (headers["transfer-encoding"] === "chunked") {
      let body = "";
      for (;;) {
        const size = parseInt(await this.#line(), 16);
        if (size === 0) break;
        body += await this.#bytes(size);
        if ((await this.#line()) !== "") throw new Error("chunk without CRLF");
      }
      while ((await this.#line()) !== "");
      return { status, headers, body, framing: "chunked" };
    }
    if (headers["content-length"] !== undefined) {
      return {
        status,
        headers,
        body: await this.#bytes(Number(headers["content-length"])),
        framing: "length",
      };
    }
    const body = await this.rest();
    this.#buffer = Buffer.alloc(0);
    return { status, headers, body, framing: "close" };
  }
}

/** A handler answering `text` with a content-length. */
export function answer(exchange: Http1Exchange, status: number, text: string): void {
  const body = new TextEncoder().encode(text);
  exchange.respond(status, { "content-type": "text/plain", "content-length": String(body.length) });
  exchange.end(body);
}
