/**
 * CORS (https://fetch.spec.whatwg.org/#http-cors-protocol) for the web
 * protocols, so that a page on another origin can call the service when
 * `--cors-origins` allows it. Credentials are never allowed: the service has
 * no cookies or HTTP auth to protect, and without them the wildcard forms of
 * the headers work.
 *
 * @module
 */

import type { HttpExchange } from "./exchange.ts";

/** Answers preflights and gives the CORS headers of actual responses. */
export interface CorsPolicy {
  /**
   * Answers a CORS preflight (an `OPTIONS` with `Origin` and
   * `Access-Control-Request-Method`) with 204 and returns `true`; anything
   * else is left to the caller (`false`). An origin not allowed gets a 204
   * without `Access-Control-Allow-*`, which the browser takes as a refusal.
   */
  preflight(exchange: HttpExchange): boolean;
  /** The CORS headers (names lower case) for an actual response to a request with `origin`. */
  responseHeaders(origin: string | undefined): Record<string, string>;
}

/** The request headers gRPC-Web and Connect clients send, always allowed. */
const ALLOWED_HEADERS = [
  "content-type",
  "x-grpc-web",
  "x-user-agent",
  "grpc-timeout",
  "grpc-accept-encoding",
  "grpc-encoding",
  "connect-protocol-version",
  "connect-timeout-ms",
  "connect-content-encoding",
  "connect-accept-encoding",
  "content-encoding",
  "accept-encoding",
];

/**
 * The response headers a page may read, beyond the safelisted ones.
 * `*` exposes every name, the `trailer-*` ones and custom metadata included,
 * for requests without credentials, which is all of them here; the list is
 * kept for browsers that predate the wildcard.
 */
const EXPOSED_HEADERS = [
  "*",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
  "grpc-encoding",
  "grpc-accept-encoding",
  "connect-content-encoding",
  "connect-accept-encoding",
  "connect-protocol-version",
  "content-encoding",
].join(", ");

/** Chromium caps a preflight's cache at 2 hours; Firefox at 24. */
const MAX_AGE_SECONDS = "7200";
/** An HTTP field name (RFC 9110 §5.6.2 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Makes the policy: `"*"` allows every origin (`Access-Control-Allow-Origin: *`);
 * a list allows exactly those origins (`https://example.com`, `http://localhost:8080`);
 * `[]` allows none (same origin only: no CORS headers at all). The `null`
 * origin is never allowed.
 */
export function createCorsPolicy(origins: readonly string[] | "*"): CorsPolicy {
  const any = origins === "*";
  const allowed = new Set(
    any ? [] : origins.map((origin) => origin.trim().toLowerCase().replace(/\/+$/, "")),
  );
  allowed.delete("null");
  const none = !any && allowed.size === 0;
  /** The `Access-Control-Allow-Origin` value for `origin`, or `undefined` when it is refused. */
  const allowOrigin = (origin: string | undefined): string | undefined => {
    // With "*" every answer carries it, Origin or not, so that a cached copy fits any request.
    if (any) return "*";
    if (origin === undefined || none) return undefined;
    return allowed.has(origin.toLowerCase()) ? origin : undefined;
  };
  return {
    preflight(exchange) {
      const origin = exchange.headers["origin"];
      if (
        exchange.method !== "OPTIONS" || origin === undefined ||
        exchange.headers["access-control-request-method"] === undefined
      ) return false;
      const headers: Record<string, string> = {
        // The answer depends on both: caches must not reuse it across them.
        // No content-length: RFC 9110 §8.6 forbids it on a 204.
        vary: "Origin, Access-Control-Request-Headers",
      };
      const allow = allowOrigin(origin);
      if (allow !== undefined) {
        headers["access-control-allow-origin"] = allow;
        headers["access-control-allow-methods"] = "POST, GET";
        headers["access-control-allow-headers"] = allowedHeaders(
          exchange.headers["access-control-request-headers"],
        );
        headers["access-control-max-age"] = MAX_AGE_SECONDS;
      }
      exchange.respond(204, headers);
      exchange.end();
      return true;
    },
    responseHeaders(origin) {
      if (none) return {};
      const allow = allowOrigin(origin);
      // With a list the answer depends on Origin, even when none was sent.
      const headers: Record<string, string> = any ? {} : { vary: "Origin" };
      if (allow === undefined) return headers;
      headers["access-control-allow-origin"] = allow;
      headers["access-control-expose-headers"] = EXPOSED_HEADERS;
      return headers;
    },
  };
}

/** The fixed list plus each requested name that is a valid field name (custom metadata). */
function allowedHeaders(requested: string | undefined): string {
  const names = new Set(ALLOWED_HEADERS);
  for (const name of (requested ?? "").split(",")) {
    const trimmed = name.trim().toLowerCase();
    if (TOKEN.test(trimmed)) names.add(trimmed);
  }
  return [...names].join(", ");
}
