/**
 * CORS on the web protocols, seen by curl as a browser would send it
 * (Fetch standard, "CORS protocol"): with `--cors-origins`, a preflight
 * `OPTIONS` from an allowed origin is answered with the methods (POST, GET),
 * the request headers gRPC-Web and Connect clients send, and a max age; the
 * answers to calls name the origin, vary on `Origin`, expose the gRPC and
 * Connect headers, and never allow credentials. An origin not on the list,
 * `null` included, is never echoed, and without `--cors-origins` no origin
 * is allowed.
 *
 * Our server only: the reference (connect-node) serves no CORS, so these
 * are ignored under `ROUTEGUIDE_WEB_REFERENCE`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startWebTarget, type WebTarget, webTest } from "../_web.ts";
import { curlTransfers, type Reply } from "./_curl_web.ts";

const PATH = "/routeguide.RouteGuide/GetFeature";
const ALLOWED = "http://allowed.example";
const OTHER = "http://other.example";
const NO_CORS = "the reference serves no CORS";
/** What a connect-es or gRPC-Web browser client asks to send. */
const CLIENT_HEADERS = [
  "content-type",
  "x-grpc-web",
  "x-user-agent",
  "grpc-timeout",
  "connect-protocol-version",
  "connect-timeout-ms",
];

/** Our server, allowing `origins` (none when undefined). */
function startWithOrigins(origins?: string): Promise<WebTarget> {
  return startWebTarget({ args: origins === undefined ? [] : ["--cors-origins", origins] });
}

/** A comma-separated header field's values, lower-cased. */
function listOf(reply: Reply, name: string): string[] {
  return (reply.headers.get(name) ?? "").split(",").map((v) => v.trim().toLowerCase()).filter(
    (v) => v !== "",
  );
}

/** A preflight for a POST with the client headers plus custom metadata. */
function preflight(origin: string) {
  return {
    path: PATH,
    method: "OPTIONS",
    headers: [
      `Origin: ${origin}`,
      "Access-Control-Request-Method: POST",
      `Access-Control-Request-Headers: ${[...CLIENT_HEADERS, "x-custom-meta"].join(",")}`,
    ],
  };
}

/** A Connect JSON call from `origin`. */
function call(origin: string) {
  return {
    path: PATH,
    headers: [`Origin: ${origin}`, "Content-Type: application/json"],
    body: '{"latitude":407484000,"longitude":-739857000}',
  };
}

/** A gRPC-Web call from `origin` (its status travels in the body, exposed headers matter). */
function grpcWebCall(origin: string) {
  return {
    path: PATH,
    headers: [`Origin: ${origin}`, "Content-Type: application/grpc-web+proto", "X-Grpc-Web: 1"],
    body: new Uint8Array([0, 0, 0, 0, 0]),
  };
}

webTest("curl × CORS × HTTP/1.1 × preflight from an allowed origin", async () => {
  await using target = await startWithOrigins(`${ALLOWED},${OTHER}`);
  const [reply] = await curlTransfers(target.baseUrl, "HTTP/1.1", [preflight(ALLOWED)]);
  assert.ok(reply.status === 200 || reply.status === 204, reply.log);
  assert.equal(reply.headers.get("access-control-allow-origin"), ALLOWED, reply.log);
  const methods = listOf(reply, "access-control-allow-methods");
  for (const m of ["post", "get"]) assert.ok(methods.includes(m), `${m} allowed\n${reply.log}`);
  const allowed = listOf(reply, "access-control-allow-headers");
  for (const h of [...CLIENT_HEADERS, "x-custom-meta"]) {
    assert.ok(allowed.includes(h) || allowed.includes("*"), `${h} allowed\n${reply.log}`);
  }
  assert.match(reply.headers.get("access-control-max-age") ?? "", /^\d+$/, reply.log);
  assert.notEqual(reply.headers.get("access-control-allow-credentials"), "true", reply.log);
}, NO_CORS);

webTest(
  "curl × CORS × HTTP/1.1 × answers from an allowed origin: the origin, Vary, exposed headers",
  async () => {
    await using target = await startWithOrigins(ALLOWED);
    const [connect, grpcWeb] = await curlTransfers(target.baseUrl, "HTTP/1.1", [
      call(ALLOWED),
      grpcWebCall(ALLOWED),
    ]);
    assert.equal(connect.status, 200, connect.log);
    for (const reply of [connect, grpcWeb]) {
      assert.equal(reply.headers.get("access-control-allow-origin"), ALLOWED, reply.log);
      assert.ok(listOf(reply, "vary").includes("origin"), `Vary: Origin\n${reply.log}`);
      assert.notEqual(reply.headers.get("access-control-allow-credentials"), "true", reply.log);
    }
    const exposed = listOf(grpcWeb, "access-control-expose-headers");
    for (const h of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) {
      assert.ok(exposed.includes(h), `${h} exposed\n${grpcWeb.log}`);
    }
  },
  NO_CORS,
);

webTest(
  "curl × CORS × HTTP/1.1 × an origin not on the list, or null, is never echoed",
  async () => {
    await using target = await startWithOrigins(ALLOWED);
    const replies = await curlTransfers(target.baseUrl, "HTTP/1.1", [
      preflight(OTHER),
      call(OTHER),
      preflight("null"),
      call("null"),
    ]);
    for (const reply of replies) {
      const origin = reply.headers.get("access-control-allow-origin");
      assert.ok(origin === undefined, `Access-Control-Allow-Origin: ${origin}\n${reply.log}`);
    }
    // The call itself is served: CORS is the browser's to enforce.
    assert.equal(replies[1].status, 200, replies[1].log);
  },
  NO_CORS,
);

webTest("curl × CORS × HTTP/1.1 × without --cors-origins no origin is allowed", async () => {
  await using target = await startWithOrigins();
  const replies = await curlTransfers(target.baseUrl, "HTTP/1.1", [
    preflight(ALLOWED),
    call(ALLOWED),
  ]);
  for (const reply of replies) {
    const origin = reply.headers.get("access-control-allow-origin");
    assert.ok(origin === undefined, `Access-Control-Allow-Origin: ${origin}\n${reply.log}`);
  }
}, NO_CORS);

webTest(
  "curl × CORS × h2c × --cors-origins '*' allows any origin but null, without credentials",
  async () => {
    await using target = await startWithOrigins("*");
    const [pre, answer, fromNull] = await curlTransfers(target.baseUrl, "h2c", [
      preflight(OTHER),
      call(OTHER),
      call("null"),
    ]);
    for (const reply of [pre, answer]) {
      const origin = reply.headers.get("access-control-allow-origin");
      assert.ok(
        origin === "*" || origin === OTHER,
        `Access-Control-Allow-Origin: ${origin}\n${reply.log}`,
      );
      assert.notEqual(reply.headers.get("access-control-allow-credentials"), "true", reply.log);
    }
    assert.notEqual(fromNull.headers.get("access-control-allow-origin"), "null", fromNull.log);
  },
  NO_CORS,
);
