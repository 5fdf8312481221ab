/**
 * Bad input, refusals and cancellation on the web protocols, end to end
 * over h2c against the real server: each gets the code and HTTP status the
 * specs give it (PROTOCOL-WEB.md, the Connect protocol) with a message
 * naming what was wrong, and a client that goes away ends its call.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { serveTwoFeatures } from "../_server.ts";
import { waitFor } from "../_async.ts";
import {
  envelope,
  envelopes,
  h2c,
  h2request,
  noteProto,
  parseTrailerBlock,
  pointProto,
  type RawRequest,
} from "../web/_http.ts";

const GET_FEATURE = "/routeguide.RouteGuide/GetFeature";

/** Runs `body` with an h2c session to a fresh server. */
async function withServer(
  body: (send: (request: RawRequest) => ReturnType<typeof h2request>) => Promise<void>,
): Promise<void> {
  const server = await serveTwoFeatures();
  try {
    await using session = h2c(server.port);
    await body((request) => h2request(session, request));
  } finally {
    await server.shutdown(1000);
  }
}

/** The trailers of a binary gRPC-Web answer (its last frame). */
function grpcWebTrailers(body: Uint8Array): Record<string, string> {
  const frames = envelopes(body);
  const last = frames[frames.length - 1];
  assert.equal(last.flags, 0x80);
  return parseTrailerBlock(last.data);
}

Deno.test("Connect JSON: malformed JSON and wrong types are invalid_argument (HTTP 400) naming the problem; unknown fields are ignored", async () => {
  await withServer(async (send) => {
    const json = { "content-type": "application/json" };
    const malformed = await send({ path: GET_FEATURE, headers: json, body: '{"latitude":' });
    assert.equal(malformed.status, 400);
    assert.equal(JSON.parse(malformed.text()).code, "invalid_argument");
    assert.match(JSON.parse(malformed.text()).message, /JSON/);
    const wrong = await send({ path: GET_FEATURE, headers: json, body: '{"latitude":"north"}' });
    assert.equal(wrong.status, 400);
    assert.match(JSON.parse(wrong.text()).message, /latitude.*north/);
    const unknown = await send({
      path: GET_FEATURE,
      headers: json,
      body: '{"latitude":10,"longitude":10,"colour":"red"}',
    });
    assert.equal(unknown.status, 200);
    assert.equal(JSON.parse(unknown.text()).name, "A");
  });
});

Deno.test("Connect GET: the message in the query (JSON and base64 proto) for GetFeature, with Cache-Control; 405 for ListFeatures", async () => {
  await withServer(async (send) => {
    const json = await send({
      method: "GET",
      path: `${GET_FEATURE}?encoding=json&message=${
        encodeURIComponent('{"latitude":20,"longitude":20}')
      }&connect=v1`,
    });
    assert.equal(json.status, 200);
    assert.equal(JSON.parse(json.text()).name, "B");
    assert.ok(json.headers["cache-control"], "a GET answer carries Cache-Control");
    const b64 = Buffer.from(pointProto(10, 10)).toString("base64url");
    const proto = await send({
      method: "GET",
      path: `${GET_FEATURE}?encoding=proto&base64=1&message=${b64}`,
    });
    assert.equal(proto.status, 200);
    assert.equal(proto.headers["content-type"], "application/proto");
    const refused = await send({
      method: "GET",
      path: "/routeguide.RouteGuide/ListFeatures?encoding=json&message=%7B%7D",
    });
    assert.equal(refused.status, 405);
    assert.equal(refused.headers["allow"], "POST");
  });
});

Deno.test("an unknown content type on an RPC path is 415 naming the accepted types; an unknown method is unimplemented in the caller's protocol", async () => {
  await withServer(async (send) => {
    const refused = await send({
      path: GET_FEATURE,
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    assert.equal(refused.status, 415);
    assert.match(refused.text(), /application\/grpc-web/);
    assert.match(refused.text(), /application\/json/);
    const connect = await send({
      path: "/routeguide.RouteGuide/Nope",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(connect.status, 501);
    assert.equal(JSON.parse(connect.text()).code, "unimplemented");
    const web = await send({
      path: "/routeguide.RouteGuide/Nope",
      headers: { "content-type": "application/grpc-web+proto" },
      body: envelope(0, ""),
    });
    assert.equal(web.status, 200);
    assert.equal(grpcWebTrailers(web.body)["grpc-status"], "12");
  });
});

Deno.test("gRPC-Web: bad base64, truncated and oversized envelopes get invalid_argument / resource_exhausted with a message", async () => {
  await withServer(async (send) => {
    const text = await send({
      path: GET_FEATURE,
      headers: { "content-type": "application/grpc-web-text" },
      body: "AAAA!AAA",
    });
    const decoded = Buffer.from(text.text(), "base64");
    const trailers = grpcWebTrailers(decoded);
    assert.equal(trailers["grpc-status"], "3");
    assert.match(trailers["grpc-message"], /base64/);
    const truncated = await send({
      path: GET_FEATURE,
      headers: { "content-type": "application/grpc-web" },
      body: envelope(0, pointProto(10, 10)).subarray(0, 7),
    });
    assert.equal(grpcWebTrailers(truncated.body)["grpc-status"], "3");
    assert.match(grpcWebTrailers(truncated.body)["grpc-message"], /middle of an envelope/);
    // A declared length of 2 GiB is refused from its prefix alone.
    const oversized = await send({
      path: GET_FEATURE,
      headers: { "content-type": "application/grpc-web" },
      body: new Uint8Array([0, 0x7f, 0, 0, 0]),
    });
    assert.equal(grpcWebTrailers(oversized.body)["grpc-status"], "8");
    assert.match(grpcWebTrailers(oversized.body)["grpc-message"], /limit/);
  });
});

Deno.test("Connect streaming: a truncated envelope ends with invalid_argument in the end-of-stream message", async () => {
  await withServer(async (send) => {
    const answer = await send({
      path: "/routeguide.RouteGuide/RecordRoute",
      headers: { "content-type": "application/connect+proto" },
      body: [envelope(0, pointProto(10, 10)), new Uint8Array([0, 0, 0])],
    });
    assert.equal(answer.status, 200);
    const frames = envelopes(answer.body);
    const end = frames[frames.length - 1];
    assert.equal(end.flags, 0x02);
    assert.equal(JSON.parse(new TextDecoder().decode(end.data)).error.code, "invalid_argument");
  });
});

Deno.test("a web client that resets its stream cancels the call: the server's in-flight count goes back to 0", async () => {
  const server = await serveTwoFeatures();
  try {
    await using session = h2c(server.port);
    for (const type of ["application/grpc-web", "application/connect+proto"]) {
      const stream = session.request({
        ":method": "POST",
        ":path": "/routeguide.RouteGuide/RouteChat",
        "content-type": type,
      });
      stream.on("error", () => {});
      stream.write(envelope(0, noteProto(1, 1, "hello")));
      await waitFor(() => server.inFlight === 1, () => `${type}: in flight ${server.inFlight}`);
      stream.close(8);
      await waitFor(() => server.inFlight === 0, () => `${type}: in flight ${server.inFlight}`);
    }
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("deadlines: connect-timeout-ms and gRPC-Web's grpc-timeout end a call that outlives them with deadline_exceeded", async () => {
  const server = await serveTwoFeatures();
  try {
    await using session = h2c(server.port);
    const open = (headers: Record<string, string>) =>
      new Promise<Uint8Array>((resolve, reject) => {
        // RouteChat with the request left open: only the deadline ends it.
        const stream = session.request({
          ":method": "POST",
          ":path": "/routeguide.RouteGuide/RouteChat",
          ...headers,
        });
        const chunks: Uint8Array[] = [];
        stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
        stream.on("end", () => {
          // The answer is whole; stop sending, as a client would.
          stream.close();
          resolve(Buffer.concat(chunks));
        });
        stream.on("error", reject);
        stream.write(envelope(0, noteProto(3, 3, "waiting")));
      });
    const connect = await open({
      "content-type": "application/connect+proto",
      "connect-timeout-ms": "200",
    });
    const end = envelopes(connect).pop()!;
    assert.equal(end.flags, 0x02);
    assert.equal(JSON.parse(new TextDecoder().decode(end.data)).error.code, "deadline_exceeded");
    const web = await open({ "content-type": "application/grpc-web", "grpc-timeout": "200m" });
    assert.equal(grpcWebTrailers(web)["grpc-status"], "4");
    await waitFor(() => server.inFlight === 0, () => `in flight ${server.inFlight}`);
  } finally {
    await server.shutdown(1000);
  }
});
