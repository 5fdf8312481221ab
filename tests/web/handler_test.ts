/** The web handler's routing, and that no input makes it throw or leave an exchange unanswered. */

import assert from "node:assert/strict";
import { createWebHandler } from "../../lib/web/handler.ts";
import { fakeExchange, type FakeRequest } from "./_exchange.ts";
import { startEcho } from "./_echo.ts";
import { within } from "../_async.ts";
import { seededRandom } from "../_random.ts";

/** Serves `request` through a handler on the echo server; resolves with the answer. */
function answer(echo: ReturnType<typeof startEcho>, request: FakeRequest) {
  const handler = createWebHandler({ dispatch: echo.dispatch, methods: echo.methods });
  const fake = fakeExchange(request);
  handler(fake.exchange);
  return within(fake.answer, 5000, `an answer to ${request.method ?? "POST"} ${request.path}`);
}

Deno.test("routing: 404 for unknown paths, OPTIONS without a preflight lists the methods, /healthz, GET on an RPC path without Connect's query is a page path", async () => {
  using echo = startEcho();
  assert.equal((await answer(echo, { method: "GET", path: "/nope" })).status, 404);
  assert.equal((await answer(echo, { method: "POST", path: "/nope" })).status, 404);
  const options = await answer(echo, { method: "OPTIONS", path: "/anything" });
  assert.equal(options.status, 204);
  assert.match(String(options.headers["allow"]), /POST/);
  assert.equal((await answer(echo, { method: "GET", path: "/healthz" })).status, 200);
  // No static root: a page path that looks like an RPC is 404, not an RPC error.
  assert.equal((await answer(echo, { method: "GET", path: "/test.Echo/Unary" })).status, 404);
  const put = await answer(echo, { method: "PUT", path: "/test.Echo/Unary" });
  assert.equal(put.status, 405);
  assert.match(String(put.headers["allow"]), /POST/);
});

Deno.test("no body in any protocol makes the handler throw or leave the exchange unanswered", async () => {
  using echo = startEcho();
  const random = seededRandom(16);
  const types = [
    "application/grpc-web",
    "application/grpc-web+json",
    "application/grpc-web-text",
    "application/proto",
    "application/json",
    "application/connect+proto",
    "application/connect+json",
    "application/grpc+json",
  ];
  for (let i = 0; i < 200; i++) {
    const type = types[i % types.length];
    const length = Math.floor(random() * 40);
    const bytes = new Uint8Array(length).map(() => Math.floor(random() * 256));
    // Often a plausible prefix, so that some bodies get past the envelope reader.
    if (length > 5 && random() < 0.5) bytes.set([0, 0, 0, 0, length - 5]);
    const pieces = [bytes.subarray(0, length >> 1), bytes.subarray(length >> 1)];
    const got = await answer(echo, {
      path: i % 3 === 0 ? "/test.Echo/Bidi" : "/test.Echo/Unary",
      headers: { "content-type": type },
      body: pieces,
    });
    assert.ok(got.status >= 200 && got.status < 600, `${type}: status ${got.status}`);
  }
});
