/** The Connect protocol (connectrpc.com/docs/protocol): timeouts, GET messages, errors, end-of-stream. */

import assert from "node:assert/strict";
import {
  connectGetMessage,
  createConnectStreamResponder,
  createConnectUnaryDecoder,
  createConnectUnaryResponder,
  endStreamJson,
  errorJson,
  grpcTimeoutFromConnect,
} from "../../lib/web/connect.ts";
import { codeFromConnectName, type WebError } from "../../lib/web/codes.ts";
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

Deno.test("connect-timeout-ms: 99999999 ms is the largest grpc-timeout in ms (8 digits); one more is in whole seconds, rounded up", () => {
  assert.equal(grpcTimeoutFromConnect("99999999"), "99999999m");
  assert.equal(grpcTimeoutFromConnect("100000000"), "100000S");
  assert.equal(grpcTimeoutFromConnect("100000001"), "100001S");
});

Deno.test("the unary decoder: exactly maxBytes passes; a compressed body may be up to 4 × maxBytes + 1024 bytes before decompression; the codec converts", () => {
  const decode = (options: Parameters<typeof createConnectUnaryDecoder>[0], sizes: number[]) => {
    const decoder = createConnectUnaryDecoder(options);
    const out: Uint8Array[] = [];
    for (const size of sizes) decoder.push(new Uint8Array(size), () => {});
    decoder.end((m) => out.push(m));
    return out;
  };
  assert.equal(decode({ maxBytes: 4 }, [2, 2])[0].length, 4);
  const firstFour = (data: Uint8Array) => data.subarray(0, 4);
  assert.equal(decode({ maxBytes: 4, decompress: firstFour }, [1040])[0].length, 4);
  assert.throws(
    () => decode({ maxBytes: 4, decompress: firstFour }, [1040, 1]),
    (e) => (e as WebError).code === 8,
  );
  const converted = decode({ maxBytes: 8, convert: (data) => Uint8Array.of(data.length) }, [3]);
  assert.deepEqual(converted.map((m) => [...m]), [[3]]);
});

Deno.test("errorJson(): no message key for an empty message, no details key when the status has none", () => {
  const json = (status: Parameters<typeof errorJson>[0]) =>
    JSON.parse(new TextDecoder().decode(errorJson(status)));
  assert.deepEqual(json({ code: 5, message: "" }), { code: "not_found" });
  // google.rpc.Status {code: 5} (field 1, varint): no details.
  assert.deepEqual(json({ code: 5, message: "x", detailsBin: "CAU=" }), {
    code: "not_found",
    message: "x",
  });
});

Deno.test("Connect unary: an OK end without a message is unimplemented (HTTP 501)", async () => {
  const fake = fakeExchange({ path: "/x.Y/Z" });
  createConnectUnaryResponder({ exchange: fake.exchange, codec: "proto" })
    .end({ code: 0, message: "" }, {});
  const answer = await fake.answer;
  assert.equal(answer.status, 501);
  assert.equal(JSON.parse(answer.text()).code, "unimplemented");
});

Deno.test("Connect responders: the JSON codec's message is converted; a unary body is compressed from minBytes on", async () => {
  const toJson = (binary: Uint8Array) => new TextEncoder().encode(`{"n":${binary.length}}`);
  const compression = {
    name: "gzip",
    minBytes: 8,
    compress: (data: Uint8Array) => Uint8Array.of(data.length),
  };
  const unary = async (bytes: number) => {
    const fake = fakeExchange({ path: "/x.Y/Z" });
    const responder = createConnectUnaryResponder({
      exchange: fake.exchange,
      codec: "json",
      toJson,
      compression,
    });
    responder.message(new Uint8Array(bytes), () => {});
    responder.end({ code: 0, message: "" }, {});
    return await fake.answer;
  };
  const small = await unary(0); // {"n":0}: 7 bytes, under minBytes
  assert.equal(small.text(), '{"n":0}');
  assert.equal(small.headers["content-encoding"], undefined);
  const exact = await unary(10); // {"n":10}: 8 bytes, compressed
  assert.deepEqual([...exact.body], [8]);
  assert.equal(exact.headers["content-encoding"], "gzip");
  assert.equal(exact.headers["content-length"], "1");

  const fake = fakeExchange({ path: "/x.Y/Z" });
  const stream = createConnectStreamResponder({ exchange: fake.exchange, codec: "json", toJson });
  stream.message(new Uint8Array(3), () => {}, Uint8Array.of(0, 0, 0, 0, 3, 0, 0, 0));
  stream.end({ code: 0, message: "" }, {});
  const frames = envelopes((await fake.answer).body);
  assert.equal(new TextDecoder().decode(frames[0].data), '{"n":3}');
});

Deno.test("codeFromConnectName(): the Connect spec's names to gRPC codes, ok (0) included; other spellings are undefined", () => {
  assert.equal(codeFromConnectName("ok"), 0);
  assert.equal(codeFromConnectName("canceled"), 1);
  assert.equal(codeFromConnectName("invalid_argument"), 3);
  assert.equal(codeFromConnectName("unauthenticated"), 16);
  assert.equal(codeFromConnectName("cancelled"), undefined);
  assert.equal(codeFromConnectName("INVALID_ARGUMENT"), undefined);
});
