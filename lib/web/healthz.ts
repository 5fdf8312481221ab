/**
 * `GET /healthz`: the health service's overall state as a plain HTTP status,
 * for load balancers and Kubernetes `httpGet` probes, which read the status
 * code and cannot speak gRPC.
 *
 * @module
 */

import type { HttpExchange } from "./exchange.ts";

const encoder = new TextEncoder();

/**
 * Answers 200 `SERVING` or 503 `NOT_SERVING` (plain text, never cached, so
 * that a proxy never answers a probe with an old state); a HEAD gets the
 * headers only.
 */
export function answerHealthz(exchange: HttpExchange, serving: boolean): void {
  const body = encoder.encode(serving ? "SERVING\n" : "NOT_SERVING\n");
  exchange.respond(serving ? 200 : 503, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.length),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  exchange.end(exchange.method === "HEAD" ? undefined : body);
}
