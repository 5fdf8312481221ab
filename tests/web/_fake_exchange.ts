/**
 * An in-memory {@linkcode HttpExchange} for the web modules' unit tests: a
 * request as given, and the response it records.
 *
 * @module
 */

import type { HeaderValue, HttpExchange } from "../../lib/web/exchange.ts";

/** What a handler answered through a fake exchange. */
export interface RecordedResponse {
  /** The status given to `respond`, or `undefined` before it. */
  status?: number;
  /** The headers given to `respond`. */
  headers: Record<string, HeaderValue>;
  /** Every byte written, `end`'s included (HEAD too: the transport drops them, not the handler). */
  body: Uint8Array;
  /** Whether `end` was called. */
  ended: boolean;
}

/** The request a fake exchange carries. */
export interface FakeRequest {
  /** @default {"GET"} */
  method?: string;
  /** @default {"/"} */
  path?: string;
  /** Lower-case names. @default {{}} */
  headers?: Record<string, string>;
}

/** A fake exchange and the response it records. */
export function fakeExchange(
  request: FakeRequest = {},
): { exchange: HttpExchange; response: RecordedResponse } {
  const response: RecordedResponse = { headers: {}, body: new Uint8Array(), ended: false };
  const append = (chunk: Uint8Array) => {
    const body = new Uint8Array(response.body.length + chunk.length);
    body.set(response.body);
    body.set(chunk, response.body.length);
    response.body = body;
  };
  const exchange: HttpExchange = {
    method: request.method ?? "GET",
    path: request.path ?? "/",
    headers: request.headers ?? {},
    httpVersion: "1.1",
    encrypted: false,
    signal: new AbortController().signal,
    readBody: (_onData, onEnd) => onEnd(),
    pauseBody: () => {},
    resumeBody: () => {},
    respond(status, headers) {
      if (response.status !== undefined) throw new Error("respond() called twice");
      response.status = status;
      response.headers = { ...headers };
    },
    write(chunk, done) {
      if (response.status === undefined) throw new Error("write() before respond()");
      append(chunk);
      done?.();
      return true;
    },
    end(chunk) {
      if (response.status === undefined) throw new Error("end() before respond()");
      if (response.ended) throw new Error("end() called twice");
      if (chunk !== undefined) append(chunk);
      response.ended = true;
    },
    abort() {
      throw new Error("abort() called");
    },
  };
  return { exchange, response };
}
