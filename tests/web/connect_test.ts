/** The Connect protocol (connectrpc.com/docs/protocol): timeouts, GET messages, errors, end-of-stream. */

import assert from "node:assert/strict";
import {
  connectGetMessage,
  createConnectStreamResponder,
  createConnectUnaryDecoder,
  createConnectUnaryResponder,
  endStreamJson,
  grpcTimeoutFromConnect,
} from "../../lib/web/connect.ts";
import type { WebError } from "../../lib/web/codes.ts";
import { fakeExchange } from "./_exchange.ts";
import { envelopes } from "./_http.ts";

Deno.test("connect-timeout-ms becomes grpc-timeout (8 digits at most); a malformed one is invalid_argument", () => {
  assert.equal(grpcTimeoutFromConnect(undefined), undefined);
  assert.equal(grpcTimeoutFromConnect("250"), "250m");
  assert.equal(grpcTimeoutFromConnect("9999999999"), "10000000S");
  for (const bad of ["", "-1", "1.5", "12345678901", "soon"]) {
    assert.throws(() => grpcTimeoutFromConnect(bad), (e) => (e as WebError).code === 3, bad);
  }
});

Deno.test("connectGetMessage(): JSON as is, base64 (URL-safe, unpadded) when base64=1; no message is invalid_argument", () => {
  const decode = (q: string) => [...connectGetMessage(new URLSearchParams(q))];
  assert.deepEqual(decode("message=%7B%7D"), [0x7b, 0x7d]);
  assert.deepEqual(decode("base64=1&message=-_8"), [0xfb, 0xff]);
  assert.throws(() => decode("encoding=json"), /message/);
  assert.throws(() => decode("base64=1&message=a*b"), /base64/);
});

Deno.test("the unary decoder hands on the whole body as one message and refuses one over the limit", () => {
  const out: Uint8Array[] = [];
  const decoder = createConnectUnaryDecoder({ maxBytes: 4 });
  decoder.push(new Uint8Array([1, 2]), () => {});
  decoder.push(new Uint8Array([3]), () => {});
  decoder.end((m) => out.push(m));
  assert.deepEqual(out.map((m) => [...m]), [[1, 2, 3]]);
  const big = createConnectUnaryDecoder({ maxBytes: 4 });
  assert.throws(() => big.push(new Uint8Array(5), () => {}), (e) => (e as WebError).code === 8);
});

Deno.test("unary errors: the spec's HTTP status for each code, JSON {code, message}", async () => {
  const expected: [number, number, string][] = [
    [1, 499, "canceled"],
    [2, 500, "unknown"],
    [3, 400, "invalid_argument"],
    [4, 504, "deadline_exceeded"],
    [5, 404, "not_found"],
    [6, 409, "already_exists"],
    [7, 403, "permission_denied"],
    [8, 429, "resource_exhausted"],
    [9, 400, "failed_precondition"],
    [10, 409, "aborted"],
    [11, 400, "out_of_range"],
    [12, 501, "unimplemented"],
    [13, 500, "internal"],
    [14, 503, "unavailable"],
    [15, 500, "data_loss"],
    [16, 401, "unauthenticated"],
  ];
  for (const [code, status, name] of expected) {
    const fake = fakeExchange({ path: "/x.Y/Z" });
    createConnectUnaryResponder({ exchange: fake.exchange, codec: "proto" })
      .end({ code, message: "why" }, { "x-t": ["v"] });
    const answer = await fake.answer;
    assert.equal(answer.status, status, name);
    assert.equal(answer.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(answer.text()), { code: name, message: "why" });
    assert.deepEqual(answer.headers["trailer-x-t"], ["v"]);
  }
});

Deno.test("the end-of-stream message (flag 0x02): metadata always as lists; error only on failure", async () => {
  assert.equal(new TextDecoder().decode(endStreamJson({ code: 0, message: "" }, {})), "{}");
  const fake = fakeExchange({ path: "/x.Y/Z" });
  const responder = createConnectStreamResponder({ exchange: fake.exchange, codec: "json" });
  responder.message(new TextEncoder().encode("{}"), () => {});
  responder.end({ code: 14, message: "gone" }, { "x-t": ["v"] });
  const answer = await fake.answer;
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["content-type"], "application/connect+json");
  const frames = envelopes(answer.body);
  assert.deepEqual(frames.map((f) => f.flags), [0, 2]);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(frames[1].data)), {
    error: { code: "unavailable", message: "gone" },
    metadata: { "x-t": ["v"] },
  });
});
