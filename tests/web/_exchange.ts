/**
 * A fake {@linkcode HttpExchange} for the web modules' tests: a request
 * given as pieces, and the answer recorded byte for byte.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { HeaderValue, HttpExchange } from "../../lib/web/exchange.ts";

/** The request side of a fake exchange. */
export interface FakeRequest {
  /** @default {"POST"} */
  method?: string;
  /** Path and query. */
  path: string;
  /** Request headers, names lower case. */
  headers?: Record<string, string>;
  /** Body pieces, delivered one per `onData` call. */
  body?: (Uint8Array | string)[];
  /** Keep the body open after its pieces (for cancellation tests). */
  holdBody?: boolean;
  /** @default {"2"} */
  httpVersion?: "1.0" | "1.1" | "2";
  /** Call write `done` callbacks only when `release()` is called. */
  holdWrites?: boolean;
}

/** What the exchange answered. */
export interface FakeAnswer {
  status: number;
  headers: Record<string, HeaderValue>;
  body: Uint8Array;
  trailers?: Record<string, HeaderValue>;
  text(): string;
}

/** A fake exchange with its recorded answer. */
export interface FakeExchange {
  exchange: HttpExchange;
  /** Resolves when the answer ended. */
  answer: Promise<FakeAnswer>;
  /** Chunks written so far. */
  writes: Uint8Array[];
  /** The client goes away. */
  disconnect(): void;
  /** Calls the held write callbacks. */
  release(): void;
  /** Whether the body is paused now. */
  paused(): boolean;
  /** Sends more body (when `holdBody`), or ends it with `undefined`. */
  send(piece: Uint8Array | string | undefined): void;
}

/** A fake exchange for `request`. */
export function fakeExchange(request: FakeRequest): FakeExchange {
  const controller = new AbortController();
  const writes: Uint8Array[] = [];
  const held: (() => void)[] = [];
  let status = 0;
  let headers: Record<string, HeaderValue> = {};
  let paused = false;
  let resolve!: (answer: FakeAnswer) => void;
  const answer = new Promise<FakeAnswer>((r) => resolve = r);
  let onData: ((chunk: Uint8Array) => void) | undefined;
  let onEnd: (() => void) | undefined;
  const toBytes = (p: Uint8Array | string) =>
    typeof p === "string" ? new TextEncoder().encode(p) : p;
  const exchange: HttpExchange = {
    method: request.method ?? "POST",
    path: request.path,
    headers: { host: "example.test", ...request.headers },
    httpVersion: request.httpVersion ?? "2",
    encrypted: false,
    remoteAddress: "127.0.0.1",
    remotePort: 40000,
    signal: controller.signal,
    trailersSupported: (request.httpVersion ?? "2") === "2",
    readBody(data, end) {
      onData = data;
      onEnd = end;
      queueMicrotask(() => {
        for (const piece of request.body ?? []) data(toBytes(piece));
        if (!request.holdBody) end();
      });
    },
    pauseBody: () => void (paused = true),
    resumeBody: () => void (paused = false),
    respond(s, h) {
      if (status !== 0) throw new Error("respond() called twice");
      status = s;
      headers = { ...h };
    },
    write(chunk, done) {
      if (status === 0) throw new Error("write() before respond()");
      writes.push(chunk);
      if (done !== undefined) {
        if (request.holdWrites) held.push(done);
        else queueMicrotask(done);
      }
      return !request.holdWrites;
    },
    end(chunk, trailers) {
      if (status === 0) throw new Error("end() before respond()");
      if (chunk !== undefined) writes.push(chunk);
      const body = Buffer.concat(writes);
      resolve({
        status,
        headers,
        body,
        trailers: trailers === undefined ? undefined : { ...trailers },
        text: () => new TextDecoder().decode(body),
      });
    },
    abort() {
      controller.abort();
    },
  };
  return {
    exchange,
    answer,
    writes,
    disconnect: () => controller.abort(),
    release() {
      for (const done of held.splice(0)) done();
    },
    paused: () => paused,
    send(piece) {
      if (piece === undefined) onEnd?.();
      else onData?.(toBytes(piece));
    },
  };
}
