/** The web handler's routing, and that no input makes it throw or leave an exchange unanswered. */

import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { createWebHandler, type WebHandlerOptions } from "../../lib/web/handler.ts";
import { JsonInputError, type MethodTable } from "../../lib/web/methods.ts";
import { fakeExchange, type FakeRequest } from "./_exchange.ts";
import { startEcho } from "./_echo.ts";
import { envelope, envelopes, parseTrailerBlock } from "./_http.ts";
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

/** Serves `request` through a handler made with `extra` options on the echo server. */
function answerWith(
  echo: ReturnType<typeof startEcho>,
  extra: Partial<WebHandlerOptions>,
  request: FakeRequest,
) {
  const handler = createWebHandler({ dispatch: echo.dispatch, methods: echo.methods, ...extra });
  const fake = fakeExchange(request);
  handler(fake.exchange);
  return within(fake.answer, 5000, `an answer to ${request.method ?? "POST"} ${request.path}`);
}

/** The echo's methods, but the JSON codec's request conversion throws `error`. */
function failingJson(echo: ReturnType<typeof startEcho>, error: Error): MethodTable {
  return {
    lookup(path) {
      const info = echo.methods.lookup(path);
      return info && {
        ...info,
        requestFromJson: () => {
          throw error;
        },
      };
    },
  };
}

Deno.test("plain gRPC and gRPC+JSON over HTTP/1.x are 505: they end with trailers", async () => {
  using echo = startEcho();
  for (const type of ["application/grpc", "application/grpc+proto", "application/grpc+json"]) {
    const got = await answer(echo, {
      path: "/test.Echo/Unary",
      headers: { "content-type": type },
      httpVersion: "1.1",
      body: [envelope(0, "x")],
    });
    assert.equal(got.status, 505, type);
    assert.match(got.text(), /HTTP\/2/, type);
  }
});

Deno.test("the protocol label the call sees: protocol, codec and HTTP version", async () => {
  using echo = startEcho();
  const cases: [FakeRequest, string][] = [
    [
      { path: "/test.Echo/Unary", headers: { "content-type": "application/proto" } },
      "connect+proto HTTP/2",
    ],
    [{
      path: "/test.Echo/Unary",
      headers: { "content-type": "application/json" },
      httpVersion: "1.1",
    }, "connect+json HTTP/1.1"],
    [
      { path: "/test.Echo/Unary", headers: { "content-type": "application/connect+proto" } },
      "connect-stream+proto HTTP/2",
    ],
    [
      { path: "/test.Echo/Unary", headers: { "content-type": "application/grpc-web-text" } },
      "grpc-web-text+proto HTTP/2",
    ],
    [
      { path: "/test.Echo/Unary", headers: { "content-type": "application/grpc-web+json" } },
      "grpc-web+json HTTP/2",
    ],
    [
      { path: "/test.Echo/Unary", headers: { "content-type": "application/grpc+json" } },
      "grpc+json HTTP/2",
    ],
    [{
      method: "GET",
      path: "/test.Echo/Unary?encoding=json&message=%7B%7D&connect=v1",
      httpVersion: "1.1",
    }, "connect-get+json HTTP/1.1"],
  ];
  for (const [request, label] of cases) {
    const bodies: Record<string, (Uint8Array | string)[]> = {
      "application/proto": ["x"],
      "application/json": ["{}"],
      "application/connect+proto": [envelope(0, "x")],
      "application/grpc-web-text": [btoa(String.fromCharCode(...envelope(0, "x")))],
      "application/grpc-web+json": [envelope(0, "{}")],
      "application/grpc+json": [envelope(0, "{}")],
    };
    const type = request.headers?.["content-type"] ?? "";
    const got = await answer(echo, { ...request, body: bodies[type] ?? [] });
    assert.deepEqual(got.headers["x-protocol"], [label], `${type || "GET"}: ${got.text()}`);
  }
});

Deno.test("Connect GET: the query's message (base64, gzip) is the request; the answer is cacheable, by default for an hour", async () => {
  using echo = startEcho();
  const message = btoa(String.fromCharCode(...gzipSync('{"a":1}')))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  const path =
    `/test.Echo/Unary?connect=v1&encoding=json&base64=1&compression=gzip&message=${message}`;
  const got = await answer(echo, { method: "GET", path });
  assert.equal(got.status, 200, got.text());
  assert.equal(got.text(), '{"a":1}');
  assert.equal(got.headers["cache-control"], "public, max-age=3600");
  const custom = await answerWith(echo, { getCacheControl: "no-store" }, {
    method: "GET",
    path: "/test.Echo/Unary?encoding=json&message=%7B%7D",
  });
  assert.equal(custom.headers["cache-control"], "no-store");
  const plain = await answer(echo, {
    method: "GET",
    path: "/test.Echo/Unary?encoding=proto&message=x",
  });
  assert.equal(plain.text(), "x");
  assert.equal(plain.headers["content-type"], "application/proto");
});

Deno.test("a message encoding the server does not take is unimplemented, naming it; a corrupt one invalid_argument; a GET's over the limit resource_exhausted", async () => {
  using echo = startEcho();
  const unknown = await answer(echo, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/proto", "content-encoding": "zstd" },
    body: ["x"],
  });
  assert.equal(unknown.status, 501);
  assert.deepEqual(JSON.parse(unknown.text()).code, "unimplemented");
  assert.match(JSON.parse(unknown.text()).message, /"zstd"/);
  const corrupt = await answer(echo, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/proto", "content-encoding": "gzip" },
    body: ["not gzip"],
  });
  assert.equal(corrupt.status, 400);
  assert.equal(JSON.parse(corrupt.text()).code, "invalid_argument");
  assert.match(JSON.parse(corrupt.text()).message, /gzip/);
  const stream = await answer(echo, {
    path: "/test.Echo/Bidi",
    headers: { "content-type": "application/grpc-web", "grpc-encoding": "zstd" },
    body: [envelope(0, "x")],
  });
  assert.equal(parseTrailerBlock(envelopes(stream.body)[0].data)["grpc-status"], "12");
  const big = btoa(String.fromCharCode(...gzipSync(new Uint8Array(2000))));
  const get = await answerWith(echo, { maxMessageBytes: 1000 }, {
    method: "GET",
    path: `/test.Echo/Unary?encoding=proto&base64=1&compression=gzip&message=${
      encodeURIComponent(big)
    }`,
  });
  assert.equal(get.status, 429, get.text());
});

Deno.test("the JSON codec's bad input is invalid_argument; an unexpected conversion error in a GET is a 500, and nothing crashes", async () => {
  using echo = startEcho();
  const bad = await answerWith(echo, {
    methods: failingJson(echo, new JsonInputError("bad field x")),
  }, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/json" },
    body: ["{}"],
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(JSON.parse(bad.text()), { code: "invalid_argument", message: "bad field x" });
  const get = await answerWith(echo, {
    methods: failingJson(echo, new JsonInputError("bad field y")),
  }, {
    method: "GET",
    path: "/test.Echo/Unary?encoding=json&message=%7B%7D",
  });
  assert.equal(get.status, 400);
  const boom = await answerWith(echo, { methods: failingJson(echo, new Error("boom")) }, {
    method: "GET",
    path: "/test.Echo/Unary?encoding=json&message=%7B%7D",
  });
  assert.equal(boom.status, 500);
  assert.match(boom.text(), /^internal error: boom/);
});

Deno.test("an error for a client already gone is not answered", async () => {
  using echo = startEcho();
  const handler = createWebHandler({
    dispatch: echo.dispatch,
    methods: failingJson(echo, new Error("boom")),
  });
  const fake = fakeExchange({
    method: "GET",
    path: "/test.Echo/Unary?encoding=json&message=%7B%7D",
  });
  fake.disconnect();
  let answered = false;
  fake.answer.then(() => answered = true);
  handler(fake.exchange);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(answered, false);
});

Deno.test("CORS through the handler: a preflight is answered, and answers (a 404 too) carry the origin's headers", async () => {
  using echo = startEcho();
  const origin = "https://maps.example";
  const cors = { corsOrigins: [origin] };
  const preflight = await answerWith(echo, cors, {
    method: "OPTIONS",
    path: "/test.Echo/Unary",
    headers: { origin, "access-control-request-method": "POST" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers["access-control-allow-origin"], origin);
  const call = await answerWith(echo, cors, {
    path: "/test.Echo/Unary",
    headers: { origin, "content-type": "application/proto" },
    body: ["x"],
  });
  assert.equal(call.headers["access-control-allow-origin"], origin);
  const missing = await answerWith(echo, cors, {
    method: "GET",
    path: "/nope",
    headers: { origin },
  });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers["access-control-allow-origin"], origin);
});

Deno.test("options: rpc false serves no RPC path; serving() is /healthz's answer (HEAD too); a static root serves its files to GET and HEAD only", async () => {
  using echo = startEcho();
  const noRpc = await answerWith(echo, { rpc: false }, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/proto" },
    body: ["x"],
  });
  assert.equal(noRpc.status, 404);
  const down = await answerWith(echo, { serving: () => false }, {
    method: "HEAD",
    path: "/healthz",
  });
  assert.equal(down.status, 503);
  const up = await answer(echo, { method: "HEAD", path: "/healthz" });
  assert.equal(up.status, 200);
  const staticRoot = new URL("../../web/", import.meta.url);
  const page = await answerWith(echo, { staticRoot }, { method: "GET", path: "/index.html" });
  assert.equal(page.status, 200);
  assert.match(page.text(), /<html/i);
  const missing = await answerWith(echo, { staticRoot }, { method: "GET", path: "/no-such.js" });
  assert.equal(missing.status, 404);
  assert.match(missing.text(), /no such path: \/no-such\.js/);
  const post = await answerWith(echo, { staticRoot }, { method: "POST", path: "/index.html" });
  assert.equal(post.status, 404);
});

Deno.test("only /package.Service/Method paths are RPCs: others are 404, not RPC errors", async () => {
  using echo = startEcho();
  for (
    const path of [
      "/test.Echo/Unary/more",
      "/test.Echo",
      "/1test.Echo/Unary",
      "/test.Echo/Un-ary",
      "//Unary",
    ]
  ) {
    const got = await answer(echo, {
      path,
      headers: { "content-type": "application/proto" },
      body: ["x"],
    });
    assert.equal(got.status, 404, path);
  }
  // A well-formed path the server lacks is the protocol's unimplemented.
  const unknown = await answer(echo, {
    path: "/test.Echo/Missing_1",
    headers: { "content-type": "application/proto" },
    body: ["x"],
  });
  assert.equal(unknown.status, 501);
});

Deno.test("answers are compressed from 1 KiB by default: a smaller one goes as it is", async () => {
  using echo = startEcho();
  const handler = createWebHandler({ dispatch: echo.dispatch, methods: echo.methods });
  const call = async (size: number) => {
    const fake = fakeExchange({
      path: "/test.Echo/Unary",
      headers: { "content-type": "application/proto", "accept-encoding": "gzip" },
      body: [new Uint8Array(size)],
    });
    handler(fake.exchange);
    return (await within(fake.answer, 5000, "the answer")).headers["content-encoding"];
  };
  assert.equal(await call(1023), undefined);
  assert.equal(await call(1024), "gzip");
});

Deno.test("a GET on an RPC path with any of Connect's query parameters is a call, not a page path", async () => {
  using echo = startEcho();
  for (const query of ["message=x", "connect=v1", "encoding=proto"]) {
    const got = await answer(echo, { method: "GET", path: `/test.Echo/Unary?${query}` });
    assert.notEqual(got.status, 404, `${query}: ${got.text()}`);
  }
});

Deno.test("a message flagged compressed under grpc-encoding identity is INTERNAL (13), as the gRPC spec says", async () => {
  using echo = startEcho();
  const got = await answer(echo, {
    path: "/test.Echo/Unary",
    headers: { "content-type": "application/grpc-web", "grpc-encoding": "identity" },
    body: [envelope(1, "x")],
  });
  assert.equal(parseTrailerBlock(envelopes(got.body)[0].data)["grpc-status"], "13");
});

/** The echo's methods, with JSON conversions that mark what they touched. */
function markingJson(echo: ReturnType<typeof startEcho>): MethodTable {
  const mark = (tag: string) => (bytes: Uint8Array) =>
    new TextEncoder().encode(`${tag}(${new TextDecoder().decode(bytes)})`);
  return {
    lookup(path) {
      const info = echo.methods.lookup(path);
      return info &&
        { ...info, requestFromJson: mark("in"), responseToJson: mark("out") };
    },
  };
}

Deno.test("only the JSON codec converts, both ways: binary bodies and GETs pass as they are", async () => {
  using echo = startEcho();
  const methods = markingJson(echo);
  const call = (request: FakeRequest) => answerWith(echo, { methods }, request);
  const unary = "/test.Echo/Unary";
  const proto = await call({
    path: unary,
    headers: { "content-type": "application/proto" },
    body: ["x"],
  });
  assert.equal(proto.text(), "x");
  const json = await call({
    path: unary,
    headers: { "content-type": "application/json" },
    body: ["{}"],
  });
  assert.equal(json.text(), "out(in({}))");
  const grpcJson = await call({
    path: unary,
    headers: { "content-type": "application/grpc+json" },
    body: [envelope(0, "{}")],
  });
  assert.equal(new TextDecoder().decode(envelopes(grpcJson.body)[0].data), "out(in({}))");
  const getProto = await call({ method: "GET", path: `${unary}?encoding=proto&message=x` });
  assert.equal(getProto.text(), "x");
  const getJson = await call({ method: "GET", path: `${unary}?encoding=json&message=%7B%7D` });
  assert.equal(getJson.text(), "out(in({}))");
});

Deno.test("a POST's query string is not part of its RPC path; HEAD with Connect's query is a call (405), not a page", async () => {
  using echo = startEcho();
  const post = await answer(echo, {
    path: "/test.Echo/Unary?x=1",
    headers: { "content-type": "application/proto" },
    body: ["x"],
  });
  assert.deepEqual([post.status, post.text()], [200, "x"]);
  const head = await answer(echo, {
    method: "HEAD",
    path: "/test.Echo/Unary?encoding=json&message=%7B%7D",
  });
  assert.equal(head.status, 405);
  const json = await answer(echo, {
    path: "/test.Echo/Missing",
    headers: { "content-type": "application/json" },
    body: ["{}"],
  });
  assert.equal(json.status, 501);
});

Deno.test("maxMessageBytes limits a POST's message; compressMinBytes sets where compression starts", async () => {
  using echo = startEcho();
  const post = (bytes: number) =>
    answerWith(echo, { maxMessageBytes: 10 }, {
      path: "/test.Echo/Unary",
      headers: { "content-type": "application/proto" },
      body: [new Uint8Array(bytes)],
    });
  assert.equal((await post(10)).status, 200);
  assert.equal((await post(11)).status, 429);
  const compressed = async (bytes: number) =>
    (await answerWith(echo, { compressMinBytes: 2000 }, {
      path: "/test.Echo/Unary",
      headers: { "content-type": "application/proto", "accept-encoding": "gzip" },
      body: [new Uint8Array(bytes)],
    })).headers["content-encoding"];
  assert.equal(await compressed(1999), undefined);
  assert.equal(await compressed(2000), "gzip");
});

Deno.test("a method the table does not know is grpc-js's unimplemented (501), in either codec; HEAD on an RPC path without a query is a page path", async () => {
  using echo = startEcho();
  for (const [type, body] of [["application/proto", "x"], ["application/json", "{}"]]) {
    const got = await answer(echo, {
      path: "/other.Service/Method",
      headers: { "content-type": type },
      body: [body],
    });
    assert.equal(got.status, 501, `${type}: ${got.text()}`);
    assert.equal(JSON.parse(got.text()).code, "unimplemented");
  }
  const head = await answer(echo, { method: "HEAD", path: "/test.Echo/Unary" });
  assert.equal(head.status, 404);
});
