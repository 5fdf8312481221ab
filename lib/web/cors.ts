/**
 * STAND-IN for the `webparts` branch's cors.ts (same API); replaced on merge.
 *
 * @module
 */

import type { HttpExchange } from "./exchange.ts";

/** A CORS policy. */
export interface CorsPolicy {
  /** Answers a preflight; true when it did. */
  preflight(exchange: HttpExchange): boolean;
  /** Headers for an answer to `origin`. */
  responseHeaders(origin: string | undefined): Record<string, string>;
}

/** A policy allowing `origins`. */
export function createCorsPolicy(origins: readonly string[] | "*"): CorsPolicy {
  const allowed = (origin: string | undefined) =>
    origin !== undefined && origin !== "null" && (origins === "*" || origins.includes(origin));
  return {
    preflight(exchange) {
      if (exchange.method !== "OPTIONS" || !exchange.headers["access-control-request-method"]) {
        return false;
      }
      const origin = exchange.headers.origin;
      const headers: Record<string, string> = { vary: "Origin" };
      if (allowed(origin)) {
        headers["access-control-allow-origin"] = origins === "*" ? "*" : origin!;
        headers["access-control-allow-methods"] = "POST, GET";
        headers["access-control-allow-headers"] =
          exchange.headers["access-control-request-headers"] ?? "content-type";
        headers["access-control-max-age"] = "7200";
      }
      exchange.respond(204, headers);
      exchange.end();
      return true;
    },
    responseHeaders(origin): Record<string, string> {
      if (!allowed(origin)) return { vary: "Origin" };
      return {
        vary: "Origin",
        "access-control-allow-origin": origins === "*" ? "*" : origin!,
        "access-control-expose-headers": "grpc-status, grpc-message, grpc-status-details-bin",
      };
    },
  };
}
