/**
 * `lib/web/cors.ts` against the Fetch standard's CORS protocol
 * (fetch.spec.whatwg.org/#http-cors-protocol) and issue 16 §7: what a
 * preflight allows, what an answer exposes, and that an origin not on the
 * list, `null` included, is never echoed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createCorsPolicy } from "../../lib/web/cors.ts";
import { fakeExchange } from "./_fake_exchange.ts";

const SITE = "https://maps.example";

/** The comma-separated list of header `name` in `headers`, lower case. */
function list(headers: Record<string, unknown>, name: string): string[] {
  const value = headers[name];
  assert.equal(typeof value, "string", `${name} is set`);
  return (value as string).split(",").map((item) => item.trim().toLowerCase());
}

/** A preflight from `origin` asking for POST and `requestHeaders`. */
function preflight(origins: readonly string[] | "*", origin: string, requestHeaders?: string) {
  const headers: Record<string, string> = { origin, "access-control-request-method": "POST" };
  if (requestHeaders !== undefined) headers["access-control-request-headers"] = requestHeaders;
  const { exchange, response } = fakeExchange({ method: "OPTIONS", path: "/x.S/M", headers });
  assert.equal(createCorsPolicy(origins).preflight(exchange), true);
  assert.equal(response.status, 204);
  assert.ok(response.ended);
  assert.equal(response.body.length, 0);
  return response.headers as Record<string, string>;
}

Deno.test("a preflight from a listed origin allows POST and GET and the web clients' headers", () => {
  const headers = preflight(
    [SITE],
    SITE,
    "content-type,x-grpc-web,x-user-agent,grpc-timeout,connect-protocol-version,connect-timeout-ms",
  );
  assert.equal(headers["access-control-allow-origin"], SITE);
  assert.deepEqual(
    new Set(list(headers, "access-control-allow-methods")),
    new Set(["post", "get"]),
  );
  const allowed = list(headers, "access-control-allow-headers");
  for (
    const name of [
      "content-type",
      "x-grpc-web",
      "x-user-agent",
      "grpc-timeout",
      "connect-protocol-version",
      "connect-timeout-ms",
    ]
  ) assert.ok(allowed.includes(name), name);
  assert.ok(Number(headers["access-control-max-age"]) > 0);
  assert.ok(list(headers, "vary").includes("origin"));
  assert.equal(headers["access-control-allow-credentials"], undefined);
});

Deno.test("a preflight echoes requested custom metadata names that are tokens, and only those", () => {
  const headers = preflight([SITE], SITE, "X-Route-Id, trace-bin,bad name, a(b), ,x-ok");
  const allowed = list(headers, "access-control-allow-headers");
  for (const name of ["x-route-id", "trace-bin", "x-ok"]) assert.ok(allowed.includes(name), name);
  for (const name of ["bad name", "a(b)", ""]) assert.ok(!allowed.includes(name), name);
});

Deno.test("with '*' every origin gets Access-Control-Allow-Origin: *", () => {
  assert.equal(preflight("*", SITE)["access-control-allow-origin"], "*");
  const headers = createCorsPolicy("*").responseHeaders("https://else.example");
  assert.equal(headers["access-control-allow-origin"], "*");
});

Deno.test("an origin not on the list, and null, are never echoed, in preflights or answers", () => {
  for (
    const [origins, origin] of [[[SITE], "https://evil.example"], [[SITE], "null"], [
      ["null"],
      "null",
    ], [[SITE], `${SITE}.evil`]] as const
  ) {
    const headers = preflight(origins, origin, "content-type");
    assert.equal(headers["access-control-allow-origin"], undefined, origin);
    assert.equal(headers["access-control-allow-headers"], undefined, origin);
    assert.equal(headers["access-control-allow-methods"], undefined, origin);
    const answer = createCorsPolicy(origins).responseHeaders(origin);
    assert.equal(answer["access-control-allow-origin"], undefined, origin);
    assert.equal(answer["access-control-expose-headers"], undefined, origin);
    if ((origins as readonly string[]).includes(SITE)) {
      assert.ok(list(answer, "vary").includes("origin"));
    }
  }
});

Deno.test("an answer to a listed origin exposes the gRPC and Connect headers, and varies on Origin", () => {
  const headers = createCorsPolicy(["http://localhost:8080", SITE]).responseHeaders(SITE);
  assert.equal(headers["access-control-allow-origin"], SITE);
  assert.ok(list(headers, "vary").includes("origin"));
  const exposed = list(headers, "access-control-expose-headers");
  for (
    const name of [
      "grpc-status",
      "grpc-message",
      "grpc-status-details-bin",
      "grpc-encoding",
      "connect-content-encoding",
      "connect-accept-encoding",
      "connect-protocol-version",
    ]
  ) assert.ok(exposed.includes(name), name);
  // The wildcard (valid without credentials) covers trailer-* names and custom metadata.
  assert.ok(exposed.includes("*"));
  assert.equal(headers["access-control-allow-credentials"], undefined);
});

Deno.test("a list varies on Origin even for requests without one", () => {
  assert.deepEqual(createCorsPolicy([SITE]).responseHeaders(undefined), { vary: "Origin" });
});

Deno.test("[] means same origin only: no CORS headers, and preflights are refused", () => {
  assert.deepEqual(createCorsPolicy([]).responseHeaders(SITE), {});
  assert.deepEqual(createCorsPolicy([]).responseHeaders(undefined), {});
  const headers = preflight([], SITE, "content-type");
  assert.equal(headers["access-control-allow-origin"], undefined);
});

Deno.test("preflight() leaves everything but a CORS preflight to the caller", () => {
  const policy = createCorsPolicy("*");
  const requests: { method: string; headers: Record<string, string> }[] = [
    { method: "OPTIONS", headers: {} },
    { method: "OPTIONS", headers: { origin: SITE } },
    { method: "OPTIONS", headers: { "access-control-request-method": "POST" } },
    { method: "POST", headers: { origin: SITE, "access-control-request-method": "POST" } },
  ];
  for (const request of requests) {
    const { exchange, response } = fakeExchange(request);
    assert.equal(policy.preflight(exchange), false, JSON.stringify(request));
    assert.equal(response.status, undefined);
  }
});

Deno.test("a preflight that names no headers still allows the gRPC-Web and Connect clients' own", () => {
  const allowed = list(preflight([SITE], SITE), "access-control-allow-headers");
  for (
    const name of [
      "content-type",
      "x-grpc-web",
      "x-user-agent",
      "grpc-timeout",
      "connect-protocol-version",
      "connect-timeout-ms",
    ]
  ) assert.ok(allowed.includes(name), name);
});

Deno.test("a preflight's allowed headers name each header once, whatever case it was asked in", () => {
  const allowed = list(
    preflight([SITE], SITE, "Content-Type, X-Route-Id, x-route-id"),
    "access-control-allow-headers",
  );
  assert.equal(new Set(allowed).size, allowed.length, allowed.join(", "));
  assert.ok(allowed.includes("x-route-id"));
});

Deno.test("listed origins are matched without surrounding spaces or trailing slashes", () => {
  for (const listed of [` ${SITE} `, `${SITE}/`, `${SITE}//`]) {
    assert.equal(preflight([listed], SITE)["access-control-allow-origin"], SITE, listed);
  }
});
