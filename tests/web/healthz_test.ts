/**
 * `lib/web/healthz.ts`: 200 or 503 with a plain-text state that no cache keeps.
 *
 * @module
 */

import assert from "node:assert/strict";
import { answerHealthz } from "../../lib/web/healthz.ts";
import { fakeExchange } from "./_fake_exchange.ts";

Deno.test("answerHealthz() answers 200 SERVING, plain text, not stored", () => {
  const { exchange, response } = fakeExchange({ path: "/healthz" });
  answerHealthz(exchange, true);
  assert.equal(response.status, 200);
  assert.equal(new TextDecoder().decode(response.body), "SERVING\n");
  assert.equal(response.headers["content-type"], "text/plain; charset=utf-8");
  assert.equal(response.headers["content-length"], "8");
  assert.equal(response.headers["cache-control"], "no-store");
  assert.ok(response.ended);
});

Deno.test("answerHealthz() answers 503 NOT_SERVING when not serving", () => {
  const { exchange, response } = fakeExchange({ path: "/healthz" });
  answerHealthz(exchange, false);
  assert.equal(response.status, 503);
  assert.equal(new TextDecoder().decode(response.body), "NOT_SERVING\n");
  assert.equal(response.headers["content-length"], "12");
  assert.equal(response.headers["cache-control"], "no-store");
});

Deno.test("answerHealthz() answers HEAD with the headers only", () => {
  for (const serving of [true, false]) {
    const { exchange, response } = fakeExchange({ method: "HEAD", path: "/healthz" });
    answerHealthz(exchange, serving);
    assert.equal(response.status, serving ? 200 : 503);
    assert.equal(response.body.length, 0);
    assert.equal(response.headers["content-length"], serving ? "8" : "12");
    assert.ok(response.ended);
  }
});
