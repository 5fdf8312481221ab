/**
 * An HTTP/2 request stream of our transport (`lib/http2/`) as an
 * {@linkcode HttpExchange}, so that the web handler serves HTTP/2 and
 * HTTP/1.1 alike. HTTP/2 has trailers, so `end()` sends them.
 *
 * @module
 */

import { grpcTimeoutMs, type Http2Headers, type Http2ServerStream } from "../http2/server.ts";
import type { HeaderValue, HttpExchange } from "./exchange.ts";

/** Request headers as an exchange shows them: no pseudo-headers, repeated values joined. */
function plainHeaders(headers: Http2Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name[0] === ":") continue;
    out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  const authority = headers[":authority"];
  if (out.host === undefined && typeof authority === "string") out.host = authority;
  return out;
}

/** A web call's deadline in milliseconds (`grpc-timeout`, or Connect's `connect-timeout-ms`). */
function deadlineMs(headers: Http2Headers): number | undefined {
  const grpc = grpcTimeoutMs(headers["grpc-timeout"]);
  if (grpc !== undefined) return grpc;
  const connect = headers["connect-timeout-ms"];
  return typeof connect === "string" && /^[0-9]{1,10}$/.test(connect) ? Number(connect) : undefined;
}

/**
 * The exchange of one HTTP/2 request stream. A call with a deadline has
 * its stream reset a little after it (`deadlineGraceMs`), as gRPC's are:
 * the status sent at the deadline cannot reach a client that is not reading.
 */
export function exchangeFromHttp2(
  stream: Http2ServerStream,
  headers: Http2Headers,
  deadlineGraceMs = 500,
): HttpExchange {
  const deadline = deadlineMs(headers);
  if (deadline !== undefined) stream.resetAfter(deadline + deadlineGraceMs);
  const controller = new AbortController();
  let ended = false;
  if (stream.closed) controller.abort();
  else {
    stream.once("close", () => {
      if (!ended || stream.rstCode !== 0) controller.abort();
    });
  }
  const socket = stream.session.socket;
  const method = String(headers[":method"] ?? "GET").toUpperCase();
  return {
    method,
    path: String(headers[":path"] ?? "/"),
    headers: plainHeaders(headers),
    httpVersion: "2",
    encrypted: stream.session.encrypted,
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    signal: controller.signal,
    trailersSupported: true,
    readBody(onData, onEnd) {
      stream.on("data", (chunk: Uint8Array) => {
        if (!controller.signal.aborted) onData(chunk);
      });
      stream.once("end", () => {
        if (!controller.signal.aborted) onEnd();
      });
    },
    pauseBody: () => void stream.pause(),
    resumeBody: () => void stream.resume(),
    respond(status: number, responseHeaders: Readonly<Record<string, HeaderValue>>) {
      const fields: Http2Headers = { ":status": status };
      for (const name in responseHeaders) {
        const value = responseHeaders[name];
        fields[name] = typeof value === "string" ? value : [...value];
      }
      if (method === "HEAD") {
        ended = true;
        stream.respond(fields, { endStream: true });
      } else {
        stream.respond(fields);
      }
    },
    write(chunk: Uint8Array, done?: () => void): boolean {
      if (ended || stream.closed) {
        if (done !== undefined) queueMicrotask(done);
        return true;
      }
      return stream.write(chunk, done === undefined ? undefined : () => done());
    },
    end(chunk?: Uint8Array, trailers?: Readonly<Record<string, HeaderValue>>) {
      if (ended) return;
      ended = true;
      if (chunk !== undefined && chunk.length > 0) stream.write(chunk);
      if (trailers === undefined) {
        stream.end();
        return;
      }
      const fields: Http2Headers = {};
      for (const name in trailers) {
        const value = trailers[name];
        fields[name] = typeof value === "string" ? value : [...value];
      }
      stream.sendTrailers(fields);
    },
    expireAfter(ms: number, expire: () => void) {
      stream.expireAfter(ms, () => {
        if (!ended) expire();
      });
    },
    abort() {
      ended = true;
      controller.abort();
      stream.destroy();
    },
  };
}
