/** Content type → protocol, and the 415 / 405 answers (as connect-es's negotiateProtocol gives them). */

import assert from "node:assert/strict";
import { isRefusal, mediaType, negotiate, protocolOf } from "../../lib/web/negotiate.ts";

Deno.test("protocolOf() maps each web content type (parameters and case aside) to its protocol and codec", () => {
  const cases: [string, string, string, boolean, boolean][] = [
    ["application/grpc-web", "grpc-web", "proto", false, false],
    ["application/grpc-web+proto", "grpc-web", "proto", false, false],
    ["application/grpc-web+json", "grpc-web", "json", false, false],
    ["application/grpc-web-text", "grpc-web", "proto", true, false],
    ["application/grpc-web-text+proto", "grpc-web", "proto", true, false],
    ["application/proto", "connect", "proto", false, false],
    ["application/json; charset=utf-8", "connect", "json", false, false],
    ["Application/Connect+Proto", "connect", "proto", false, true],
    ["application/connect+json", "connect", "json", false, true],
    ["application/grpc+json", "grpc", "json", false, false],
  ];
  for (const [type, protocol, codec, text, streaming] of cases) {
    const found = protocolOf(type);
    assert.deepEqual(
      found && [found.protocol, found.codec, found.text, found.streaming],
      [protocol, codec, text, streaming],
      type,
    );
  }
  for (const type of ["application/grpc", "application/grpc+proto", "text/plain", undefined]) {
    assert.equal(protocolOf(type), undefined, String(type));
  }
  assert.equal(mediaType(" Application/JSON ; charset=utf-8"), "application/json");
});

Deno.test("negotiate(): POST with an unknown content type is 415 naming the accepted types", () => {
  const result = negotiate({ method: "POST", contentType: "text/xml" });
  assert.ok(isRefusal(result));
  assert.equal(result.status, 415);
  assert.match(result.message, /text\/xml/);
  assert.match(result.message, /application\/grpc-web-text/);
  assert.match(result.message, /application\/connect\+json/);
});

Deno.test("negotiate(): GET is Connect's GET for side-effect-free methods, 405 for the others, 415 without an encoding", () => {
  const ok = negotiate({ method: "GET", noSideEffects: true, getEncoding: "json" });
  assert.ok(!isRefusal(ok) && ok.get && ok.codec === "json");
  const refused = negotiate({ method: "GET", noSideEffects: false, getEncoding: "json" });
  assert.ok(isRefusal(refused));
  assert.equal(refused.status, 405);
  assert.equal(refused.headers.allow, "POST");
  const bare = negotiate({ method: "GET", noSideEffects: true, getEncoding: null });
  assert.ok(isRefusal(bare) && bare.status === 415);
});

Deno.test("negotiate(): other HTTP methods on an RPC path are 405 with Allow", () => {
  const put = negotiate({ method: "PUT", contentType: "application/json", noSideEffects: false });
  assert.ok(isRefusal(put));
  assert.equal(put.status, 405);
  assert.equal(put.headers.allow, "POST");
  const del = negotiate({ method: "DELETE", noSideEffects: true });
  assert.ok(isRefusal(del) && del.headers.allow === "GET, POST");
});

Deno.test("mediaType(): a content type that starts with a parameter is empty, not the parameter", () => {
  assert.equal(mediaType(";charset=utf-8"), "");
  assert.equal(mediaType(undefined), "");
});

Deno.test("negotiate(): a Connect GET with encoding=proto is binary; the 415 names the encoding it got, or none", () => {
  const proto = negotiate({ method: "GET", noSideEffects: true, getEncoding: "proto" });
  assert.ok(!isRefusal(proto));
  assert.deepEqual(
    [proto.protocol, proto.codec, proto.text, proto.streaming, proto.get],
    ["connect", "proto", false, false, true],
  );
  const none = negotiate({ method: "GET", noSideEffects: true, getEncoding: null });
  assert.ok(isRefusal(none));
  assert.match(none.message, /\(got none\)$/);
  const xml = negotiate({ method: "GET", noSideEffects: true, getEncoding: "xml" });
  assert.ok(isRefusal(xml));
  assert.match(xml.message, /\(got "xml"\)$/);
});

Deno.test("negotiate(): the 415 for a POST says what it accepts in Accept-Post (RFC 9110 §15.5.16)", () => {
  const result = negotiate({ method: "POST", contentType: "text/xml" });
  assert.ok(isRefusal(result));
  const accepted = String(result.headers["accept-post"]).split(", ");
  assert.ok(accepted.includes("application/grpc-web"));
  assert.ok(accepted.includes("application/json"));
});
