/** gRPC-Web (PROTOCOL-WEB.md): text-mode base64 across chunks, the trailers frame, answers in text. */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  Base64Stream,
  createGrpcWebDecoder,
  createGrpcWebResponder,
  percentEncode,
  trailerBlock,
  wantsText,
} from "../../lib/web/grpc_web.ts";
import { WebError } from "../../lib/web/codes.ts";
import { fakeExchange } from "./_exchange.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

Deno.test("Base64Stream decodes base64 split anywhere, and padded segments back to back", () => {
  const whole = Buffer.from("hello, gRPC-Web text").toString("base64") +
    Buffer.from("ab").toString("base64") + Buffer.from("c").toString("base64");
  for (let cut = 0; cut <= whole.length; cut++) {
    const stream = new Base64Stream();
    const got = Buffer.concat([
      stream.push(ascii(whole.slice(0, cut))),
      stream.push(ascii(whole.slice(cut))),
    ]);
    stream.end();
    assert.equal(got.toString(), "hello, gRPC-Web textabc", `cut at ${cut}`);
  }
});

Deno.test("Base64Stream: a character outside the alphabet, padding mid-group, or a cut-off group is invalid_argument", () => {
  assert.throws(() => new Base64Stream().push(ascii("AA!A")), (e) => (e as WebError).code === 3);
  assert.throws(() => new Base64Stream().push(ascii("A=AA")), /padding/);
  const cut = new Base64Stream();
  cut.push(ascii("AAAAAA"));
  assert.throws(() => cut.end(), /unfinished group/);
});

Deno.test("createGrpcWebDecoder() in text mode decodes base64 then envelopes", () => {
  const body = Buffer.from([0, 0, 0, 0, 2, 7, 9]).toString("base64");
  const out: Uint8Array[] = [];
  const decoder = createGrpcWebDecoder({ text: true });
  for (const ch of body) decoder.push(ascii(ch), (m) => out.push(m));
  decoder.end((m) => out.push(m));
  assert.deepEqual(out.map((m) => [...m]), [[7, 9]]);
});

Deno.test("trailerBlock(): lower-case `name: value` lines, status first, message percent-encoded", () => {
  const block = new TextDecoder().decode(
    trailerBlock({ code: 3, message: "50% off é" }, { "X-Extra": ["a", "b"] }),
  );
  assert.equal(
    block,
    "grpc-status: 3\r\ngrpc-message: 50%25 off %C3%A9\r\nx-extra: a\r\nx-extra: b\r\n",
  );
  assert.equal(percentEncode("plain"), "plain");
});

Deno.test("wantsText(): a text content type or an Accept asking for it", () => {
  assert.ok(wantsText({ "content-type": "application/grpc-web-text" }));
  assert.ok(
    wantsText({ "content-type": "application/grpc-web", accept: "application/grpc-web-text" }),
  );
  assert.ok(!wantsText({ "content-type": "application/grpc-web+proto" }));
});

Deno.test("the text responder base64-encodes each chunk with its own padding; the trailers frame comes last, always", async () => {
  const fake = fakeExchange({ path: "/x.Y/Z" });
  const responder = createGrpcWebResponder({ exchange: fake.exchange, text: true, codec: "proto" });
  responder.headers({ "x-h": ["1"] });
  responder.message(new Uint8Array([1]), () => {});
  responder.end({ code: 0, message: "" }, {});
  const answer = await fake.answer;
  assert.equal(answer.headers["content-type"], "application/grpc-web-text+proto");
  const chunks = fake.writes.map((w) => new TextDecoder().decode(w));
  assert.deepEqual(chunks.map((c) => [...Buffer.from(c, "base64")]), [
    [0, 0, 0, 0, 1, 1],
    [0x80, 0, 0, 0, 16, ...ascii("grpc-status: 0\r\n")],
  ]);
  assert.ok(chunks.every((c) => c.length % 4 === 0), "each chunk padded on its own");
});

Deno.test("an error before any message still answers 200 with the trailers frame", async () => {
  const fake = fakeExchange({ path: "/x.Y/Z" });
  createGrpcWebResponder({ exchange: fake.exchange, text: false, codec: "proto" })
    .end({ code: 12, message: "no" }, {});
  const answer = await fake.answer;
  assert.equal(answer.status, 200);
  assert.deepEqual([...answer.body.subarray(0, 1)], [0x80]);
});

Deno.test("Base64Stream: padding at a group's first or second character is refused; a padded segment may be followed by unpadded groups", () => {
  for (const bad of ["=AA=", "A=A=", "AAAA=AA="]) {
    assert.throws(() => new Base64Stream().push(ascii(bad)), /padding/, bad);
  }
  assert.deepEqual([...new Base64Stream().push(ascii("AA==AAAA"))], [0, 0, 0, 0]);
});

Deno.test("createGrpcWebDecoder() in text mode: a cut-off base64 group or a cut-off envelope is invalid_argument at the end", () => {
  const group = createGrpcWebDecoder({ text: true });
  group.push(ascii("AAAAAA"), () => {});
  assert.throws(() => group.end(() => {}), /unfinished group/);
  const envelope = createGrpcWebDecoder({ text: true });
  envelope.push(ascii("AAAA"), () => {}); // three bytes of a five-byte prefix
  assert.throws(() => envelope.end(() => {}), /middle of an envelope/);
});

Deno.test("wantsText() knows application/grpc-web-text+proto; percentEncode() escapes control characters and keeps ~", () => {
  assert.ok(wantsText({ "content-type": "application/grpc-web-text+proto" }));
  assert.equal(percentEncode("a\nb~"), "a%0Ab~");
});

Deno.test("trailerBlock() and the trailers frame: no message line for an empty message; an error, details or trailers are never the plain OK", async () => {
  assert.equal(
    new TextDecoder().decode(trailerBlock({ code: 3, message: "" }, {})),
    "grpc-status: 3\r\n",
  );
  const frameOf = async (
    status: Parameters<typeof trailerBlock>[0],
    trailers: Record<string, string[]>,
  ) => {
    const fake = fakeExchange({ path: "/x.Y/Z" });
    createGrpcWebResponder({ exchange: fake.exchange, text: false, codec: "proto" }).end(
      status,
      trailers,
    );
    const body = (await fake.answer).body;
    return new TextDecoder().decode(body.subarray(5));
  };
  assert.equal(await frameOf({ code: 3, message: "" }, {}), "grpc-status: 3\r\n");
  assert.equal(
    await frameOf({ code: 0, message: "", detailsBin: "CAA" }, {}),
    "grpc-status: 0\r\ngrpc-status-details-bin: CAA\r\n",
  );
  assert.equal(
    await frameOf({ code: 0, message: "" }, { "x-t": ["1"] }),
    "grpc-status: 0\r\nx-t: 1\r\n",
  );
});

Deno.test("the responder: a message before any headers sends them first; the JSON codec converts each message", async () => {
  const fake = fakeExchange({ path: "/x.Y/Z" });
  const responder = createGrpcWebResponder({
    exchange: fake.exchange,
    text: false,
    codec: "json",
    toJson: (binary) => ascii(`{"n":${binary.length}}`),
  });
  responder.message(new Uint8Array(3), () => {}, Uint8Array.of(0, 0, 0, 0, 3, 0, 0, 0));
  responder.end({ code: 0, message: "" }, {});
  const answer = await fake.answer;
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["content-type"], "application/grpc-web+json");
  const length = answer.body[4];
  assert.equal(new TextDecoder().decode(answer.body.subarray(5, 5 + length)), '{"n":3}');
});
