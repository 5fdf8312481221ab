/**
 * Response heads and body framing as bytes (RFC 9112 §4, §6, §7): the
 * framing chosen per version, method and status, the Connection field,
 * chunks, and headers that cannot be written throwing instead of being
 * escaped.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { chunkFrame, plainErrorResponse, serializeHead } from "../../lib/http1/response.ts";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
const v11 = { version: "1.1" as const, method: "GET", keepAlive: true };

Deno.test("serializeHead: a content-length answer on 1.1 keeps alive and adds nothing", () => {
  const head = serializeHead(200, { "Content-Length": "5", "x-a": ["1", "2"] }, v11);
  assert.equal(
    text(head.bytes),
    "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: 1\r\nx-a: 2\r\n\r\n",
  );
  assert.deepEqual([head.framing, head.length, head.keepAlive], ["length", 5, true]);
});

Deno.test("serializeHead: without content-length 1.1 chunks and 1.0 closes (RFC 9112 §6.3, §7)", () => {
  const a = serializeHead(200, {}, v11);
  assert.equal(text(a.bytes), "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
  const b = serializeHead(200, {}, { version: "1.0", method: "GET", keepAlive: true });
  assert.equal(text(b.bytes), "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
  assert.deepEqual([b.framing, b.keepAlive], ["close", false]);
  const c = serializeHead(200, { "content-length": "0" }, {
    version: "1.0",
    method: "GET",
    keepAlive: true,
  });
  assert.match(text(c.bytes), /connection: keep-alive\r\n/);
});

Deno.test("serializeHead: HEAD, 204 and 304 have no body, whatever the headers say (RFC 9110 §6.4.1)", () => {
  assert.equal(
    serializeHead(200, { "content-length": "9" }, { ...v11, method: "HEAD" }).framing,
    "none",
  );
  assert.equal(serializeHead(204, {}, v11).framing, "none");
  assert.equal(serializeHead(304, {}, v11).framing, "none");
});

Deno.test("serializeHead: Connection: close from the handler or the context closes; a date is added unless given", () => {
  const a = serializeHead(200, { connection: "close", "content-length": "0" }, v11);
  assert.equal(a.keepAlive, false);
  assert.equal(text(a.bytes).match(/connection/g)?.length, 1);
  const b = serializeHead(200, { "content-length": "0" }, {
    ...v11,
    date: "Tue, 08 Dec 2026 00:00:00 GMT",
  });
  assert.match(text(b.bytes), /\r\ndate: Tue, 08 Dec 2026 00:00:00 GMT\r\n/);
  const c = serializeHead(200, { date: "x", "content-length": "0" }, { ...v11, date: "y" });
  assert.doesNotMatch(text(c.bytes), /date: y/);
});

Deno.test("serializeHead: CR, LF or NUL in a value, a bad name, transfer-encoding or a bad status throw", () => {
  assert.throws(() => serializeHead(200, { "x-a": "a\r\nx-b: b" }, v11), /x-a has a control/);
  assert.throws(() => serializeHead(200, { "x-a": "a\nb" }, v11), TypeError);
  assert.throws(() => serializeHead(200, { "x-a": "\0" }, v11), TypeError);
  assert.throws(() => serializeHead(200, { "x a": "v" }, v11), /invalid response header name/);
  assert.throws(
    () => serializeHead(200, { "transfer-encoding": "chunked" }, v11),
    /transfer-encoding/,
  );
  assert.throws(() => serializeHead(200, { "content-length": "-1" }, v11), /content-length/);
  assert.throws(() => serializeHead(1000, {}, v11), RangeError);
});

Deno.test("chunkFrame: hex size, CRLF, bytes, CRLF (RFC 9112 §7.1)", () => {
  const frame = Buffer.concat(chunkFrame(new Uint8Array(26).fill(0x61)));
  assert.equal(text(frame), "1a\r\n" + "a".repeat(26) + "\r\n");
});

Deno.test("plainErrorResponse: status, Connection: close, and the message as one text/plain line", () => {
  const bytes = text(plainErrorResponse(431, "more than 100 header fields"));
  assert.match(bytes, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(bytes, /\r\nconnection: close\r\n/);
  assert.match(bytes, /\r\ncontent-type: text\/plain; charset=utf-8\r\n/);
  assert.match(bytes, /\r\n\r\nmore than 100 header fields\n$/);
});

Deno.test("serializeHead: a status is three digits, 100 to 999 (RFC 9110 §15); an interim one has no body and no Connection field", () => {
  for (const bad of [99, 0, -200, 1000, 200.5, NaN]) {
    assert.throws(() => serializeHead(bad, {}, v11), /invalid response status/, String(bad));
  }
  const interim = serializeHead(103, { link: "</a.css>; rel=preload" }, v11);
  // The reason phrase is for people (RFC 9112 §4): any.
  assert.match(
    text(interim.bytes),
    /^HTTP\/1\.1 103 [^\r\n]*\r\nlink: <\/a\.css>; rel=preload\r\n\r\n$/,
  );
  assert.equal(interim.framing, "none");
  assert.equal(serializeHead(100, {}, v11).framing, "none");
  assert.equal(serializeHead(199, { "content-length": "3" }, v11).framing, "none");
  assert.equal(serializeHead(999, {}, v11).framing, "chunked");
  assert.equal(serializeHead(200, {}, v11).framing, "chunked");
});

Deno.test("serializeHead: only a Connection field listing close closes, in any of its list forms (RFC 9110 §7.6.1, §5.6.1)", () => {
  const other = serializeHead(200, { "x-note": "close", "content-length": "0" }, v11);
  assert.equal(other.keepAlive, true);
  assert.match(text(other.bytes), /\r\nx-note: close\r\n/);
  assert.doesNotMatch(text(other.bytes), /connection/);
  for (const value of ["keep-alive, close", "close , foo", "Close", ["keep-alive", "close"]]) {
    const head = serializeHead(200, { connection: value, "content-length": "0" }, v11);
    assert.equal(head.keepAlive, false, JSON.stringify(value));
    assert.match(text(head.bytes), /\r\nconnection: close\r\n\r\n$/);
  }
  const kept = serializeHead(200, { connection: "keep-alive", "content-length": "0" }, v11);
  assert.equal(kept.keepAlive, true);
  // An interim response says nothing about the connection.
  assert.doesNotMatch(
    text(serializeHead(100, {}, { ...v11, keepAlive: false }).bytes),
    /connection/,
  );
  assert.doesNotMatch(
    text(serializeHead(103, {}, { version: "1.0", method: "GET", keepAlive: true }).bytes),
    /connection/,
  );
});

Deno.test("serializeHead: a content-length must be one decimal number", () => {
  for (const bad of [["5", "5"], [], "5x", "12abc", " 5", "0x10", "1".repeat(16)]) {
    assert.throws(
      () => serializeHead(200, { "content-length": bad }, v11),
      /invalid response content-length/,
      JSON.stringify(bad),
    );
  }
  assert.equal(serializeHead(200, { "content-length": ["7"] }, v11).length, 7);
});

Deno.test("plainErrorResponse: a run of CR and LF in the message is one space; the date given is sent", () => {
  const bytes = text(
    plainErrorResponse(400, "bad\r\n\r\nthing\nhere", "Tue, 08 Dec 2026 00:00:00 GMT"),
  );
  assert.match(bytes, /\r\n\r\nbad thing here\n$/);
  assert.match(bytes, /\r\ncontent-length: 15\r\n/);
  assert.match(bytes, /\r\ndate: Tue, 08 Dec 2026 00:00:00 GMT\r\n/);
});
