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
