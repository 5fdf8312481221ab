/**
 * STAND-IN for the `webparts` branch's healthz.ts (same API); replaced on merge.
 *
 * @module
 */

import type { HttpExchange } from "./exchange.ts";

/** Answers `GET /healthz`: 200 when serving, else 503. */
export function answerHealthz(exchange: HttpExchange, serving: boolean): void {
  const body = new TextEncoder().encode(serving ? "SERVING\n" : "NOT_SERVING\n");
  exchange.respond(serving ? 200 : 503, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.length),
    "cache-control": "no-store",
  });
  exchange.end(body);
}
