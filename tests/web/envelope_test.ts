/** The 5-byte-prefixed envelope (gRPC spec "Length-Prefixed-Message"), byte by byte. */

import assert from "node:assert/strict";
import {
  createEnvelopeDecoder,
  encodeEnvelope,
  EnvelopeReader,
  utf8Bytes,
} from "../../lib/web/envelope.ts";
import { WebError } from "../../lib/web/codes.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("encodeEnvelope() writes the flags byte and a big-endian 32-bit length before the payload", () => {
  assert.deepEqual(encodeEnvelope(0x80, bytes(7, 8)), bytes(0x80, 0, 0, 0, 2, 7, 8));
  assert.deepEqual(encodeEnvelope(0, bytes()), bytes(0, 0, 0, 0, 0));
});

Deno.test("EnvelopeReader reads envelopes split at every byte boundary, and several in one piece", () => {
  const stream = bytes(0, 0, 0, 0, 3, 1, 2, 3, 2, 0, 0, 0, 0, 1, 0, 0, 0, 1, 9);
  for (let cut = 0; cut <= stream.length; cut++) {
    const reader = new EnvelopeReader();
    const got = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
    assert.deepEqual(
      got.map((e) => [e.flags, [...e.data]]),
      [[0, [1, 2, 3]], [2, []], [1, [9]]],
      `cut at ${cut}`,
    );
    reader.end();
  }
});

Deno.test("EnvelopeReader: a stream cut off in the prefix or the payload is invalid_argument at its end", () => {
  for (const piece of [bytes(0, 0, 0), bytes(0, 0, 0, 0, 4, 1, 2)]) {
    const reader = new EnvelopeReader();
    assert.deepEqual(reader.push(piece), []);
    assert.throws(
      () => reader.end(),
      (e) => e instanceof WebError && e.code === 3 && /middle of an envelope/.test(e.message),
    );
  }
});

Deno.test("EnvelopeReader: a declared length over the limit is resource_exhausted from the prefix alone", () => {
  const reader = new EnvelopeReader({ maxBytes: 4 });
  assert.deepEqual(reader.push(bytes(0, 0, 0, 0, 4, 1, 2, 3, 4)).length, 1);
  assert.throws(
    () => reader.push(bytes(0, 0, 0, 0, 5)),
    (e) => e instanceof WebError && e.code === 8 && /5 bytes.*limit of 4/.test(e.message),
  );
  // Split prefixes are checked too.
  const split = new EnvelopeReader({ maxBytes: 4 });
  split.push(bytes(0, 0xff));
  assert.throws(() => split.push(bytes(0xff, 0xff, 0xff)), (e) => (e as WebError).code === 8);
});

Deno.test("envelope prefixes: the length is big-endian over all four bytes, high bit included", () => {
  // 0x81020304 and 0x00010203 bytes: every byte of the length counts, the first unsigned.
  assert.throws(
    () => new EnvelopeReader({ maxBytes: 1 }).push(bytes(0, 0x81, 2, 3, 4)),
    (e) => (e as WebError).code === 8 && /2164392708 bytes/.test((e as Error).message),
  );
  const big = encodeEnvelope(0x80, new Uint8Array(0x010203));
  assert.deepEqual([...big.subarray(0, 5)], [0x80, 0, 1, 2, 3]);
  assert.equal(big.length, 5 + 0x010203);
});

Deno.test("utf8Bytes(): ASCII byte for byte, anything else as UTF-8", () => {
  assert.deepEqual([...utf8Bytes("grpc-status: 0\r\n")], [
    ...new TextEncoder().encode("grpc-status: 0\r\n"),
  ]);
  assert.deepEqual([...utf8Bytes("x: é€")], [0x78, 0x3a, 0x20, 0xc3, 0xa9, 0xe2, 0x82, 0xac]);
  assert.deepEqual([...utf8Bytes("")], []);
});

Deno.test("createEnvelopeDecoder() refuses flags other than 0x01, and 0x01 without an encoding", () => {
  const out: Uint8Array[] = [];
  const decoder = createEnvelopeDecoder();
  assert.throws(
    () => decoder.push(bytes(0x80, 0, 0, 0, 0), (m) => out.push(m)),
    (e) => (e as WebError).code === 3 && /flags 0x80/.test((e as Error).message),
  );
  assert.throws(
    () => createEnvelopeDecoder().push(bytes(1, 0, 0, 0, 0), (m) => out.push(m)),
    (e) => (e as WebError).code === 13,
  );
  const converted = createEnvelopeDecoder({
    decompress: (d) => d.map((b) => b + 1),
    convert: (d) => d.map((b) => b * 10),
  });
  converted.push(bytes(1, 0, 0, 0, 1, 4), (m) => out.push(m));
  assert.deepEqual(out, [bytes(50)]);
});

Deno.test("EnvelopeReader: by default a declared length of 4 MiB is allowed and one byte more refused, from the prefix alone", () => {
  assert.deepEqual(new EnvelopeReader().push(bytes(0, 0, 0x40, 0, 0)), []);
  assert.throws(
    () => new EnvelopeReader().push(bytes(0, 0, 0x40, 0, 1)),
    (e) =>
      e instanceof WebError && e.code === 8 &&
      /^the message is 4194305 bytes, more than the limit of 4194304$/.test(e.message),
  );
});

Deno.test("EnvelopeReader and createEnvelopeDecoder name what they read in their errors", () => {
  const what = "request message";
  assert.throws(
    () => new EnvelopeReader({ what, maxBytes: 1 }).push(bytes(0, 0, 0, 0, 2)),
    /WebError: the request message is 2 bytes/,
  );
  assert.throws(
    () => createEnvelopeDecoder({ what }).push(bytes(0x80, 0, 0, 0, 0), () => {}),
    /WebError: a request message envelope has flags 0x80/,
  );
  assert.throws(
    () => createEnvelopeDecoder().push(bytes(0x80, 0, 0, 0, 0), () => {}),
    /WebError: a message envelope has flags 0x80/,
  );
});

Deno.test("EnvelopeReader: the end of a cut-off stream says how much of the envelope arrived", () => {
  const prefix = new EnvelopeReader();
  prefix.push(bytes(0, 0, 0));
  assert.throws(() => prefix.end(), /\(3 of its 5 prefix bytes arrived\)/);
  const payload = new EnvelopeReader();
  payload.push(bytes(0, 0, 0, 0, 4, 1, 2));
  assert.throws(() => payload.end(), /\(2 of its 4 bytes arrived\)/);
});

Deno.test("EnvelopeReader.partial: whether part of an envelope waits for more bytes", () => {
  const reader = new EnvelopeReader();
  assert.equal(reader.partial, false);
  reader.push(bytes(0, 0, 0));
  assert.equal(reader.partial, true);
  reader.push(bytes(0, 1));
  assert.equal(reader.partial, true);
  reader.push(bytes(7));
  assert.equal(reader.partial, false);
});

Deno.test("EnvelopeReader: an envelope that arrives in one piece comes with `whole`, a view of that piece; a split one without", () => {
  // Two envelopes (the second empty, exactly 5 bytes) and the start of a third, in one fresh buffer.
  const piece = bytes(0, 0, 0, 0, 2, 7, 8, 2, 0, 0, 0, 0, 1, 0);
  const reader = new EnvelopeReader();
  const [first, second, ...rest] = reader.push(piece);
  assert.deepEqual(rest, []);
  assert.deepEqual(first.whole, bytes(0, 0, 0, 0, 2, 7, 8));
  assert.equal(first.whole?.buffer, piece.buffer);
  assert.equal(first.data.buffer, piece.buffer);
  assert.deepEqual(second.whole, bytes(2, 0, 0, 0, 0));
  const [third] = reader.push(bytes(0, 0, 1, 9));
  assert.deepEqual([third.flags, [...third.data], third.whole], [1, [9], undefined]);
  // An empty envelope that ends its piece, exactly 5 bytes.
  assert.deepEqual(reader.push(bytes(2, 0, 0, 0, 0))[0].whole, bytes(2, 0, 0, 0, 0));
});

Deno.test("createEnvelopeDecoder(): a plain binary message goes on with its envelope; the JSON codec converts uncompressed ones too; a cut-off body is invalid_argument at its end", () => {
  const plain = createEnvelopeDecoder();
  const seen: [number[], number[] | undefined][] = [];
  plain.push(bytes(0, 0, 0, 0, 1, 4), (m, framed) => seen.push([[...m], framed && [...framed]]));
  assert.deepEqual(seen, [[[4], [0, 0, 0, 0, 1, 4]]]);
  const json = createEnvelopeDecoder({ convert: (d) => d.map((b) => b * 10) });
  const converted: [number[], boolean][] = [];
  json.push(bytes(0, 0, 0, 0, 1, 4), (m, framed) => converted.push([[...m], framed === undefined]));
  assert.deepEqual(converted, [[[40], true]]);
  const cut = createEnvelopeDecoder();
  cut.push(bytes(0, 0, 0), () => {});
  assert.throws(() => cut.end(() => {}), (e) => e instanceof WebError && e.code === 3);
});
