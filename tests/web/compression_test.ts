/**
 * `lib/web/compression.ts`: encoding names as the Connect and gRPC specs
 * spell them, the q-values of RFC 9110 §12.5.3, gzip per RFC 1952, and
 * decompression bounded by the message limit, bombs included.
 *
 * @module
 */

import assert from "node:assert/strict";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import {
  compress,
  decompress,
  DecompressionError,
  MessageTooLargeError,
  parseEncoding,
  pickEncoding,
} from "../../lib/web/compression.ts";

const MiB = 1024 * 1024;

// "hi" as one gzip member (RFC 1952) holding a stored deflate block (RFC 1951
// §3.2.4): header, BFINAL=1 BTYPE=00, LEN 2, NLEN ~2, the bytes, CRC-32, ISIZE.
const GZIP_HI = Uint8Array.of(
  0x1f,
  0x8b,
  8,
  0,
  0,
  0,
  0,
  0,
  0,
  0xff,
  0x01,
  0x02,
  0x00,
  0xfd,
  0xff,
  0x68,
  0x69,
  0xac,
  0x2a,
  0x93,
  0xd8,
  0x02,
  0,
  0,
  0,
);

Deno.test("parseEncoding() knows gzip, br and identity; no header is identity", () => {
  assert.equal(parseEncoding(undefined), "identity");
  assert.equal(parseEncoding("identity"), "identity");
  assert.equal(parseEncoding("gzip"), "gzip");
  assert.equal(parseEncoding("GZIP"), "gzip");
  assert.equal(parseEncoding("br"), "br");
  for (const name of ["deflate", "snappy", "zstd", "gzip, br", "x-gzip"]) {
    assert.equal(parseEncoding(name), undefined, name);
  }
});

Deno.test("pickEncoding() takes gzip or br when accepted, honours q=0, else identity", () => {
  assert.equal(pickEncoding(undefined), "identity");
  assert.equal(pickEncoding(""), "identity");
  assert.equal(pickEncoding("identity"), "identity");
  assert.equal(pickEncoding("gzip"), "gzip");
  assert.equal(pickEncoding("br"), "br");
  assert.equal(pickEncoding("identity, deflate, gzip"), "gzip");
  assert.equal(pickEncoding("gzip;q=0, br"), "br");
  assert.equal(pickEncoding("gzip; q=0.5, br;q=0.9"), "br");
  assert.equal(pickEncoding("gzip;q=0, br;q=0"), "identity");
  assert.equal(pickEncoding("gzip;q=0.000"), "identity");
  assert.equal(pickEncoding("*"), "gzip");
  assert.equal(pickEncoding("*;q=0"), "identity");
  assert.equal(pickEncoding("gzip;q=0, *"), "br");
  assert.equal(pickEncoding("deflate, snappy"), "identity");
});

Deno.test("decompress() reads a hand-made RFC 1952 member, and round-trips compress()", () => {
  assert.deepEqual(decompress("gzip", GZIP_HI, 2), new TextEncoder().encode("hi"));
  const message = new TextEncoder().encode("a feature named ".repeat(100));
  for (const encoding of ["gzip", "br", "identity"] as const) {
    const compressed = compress(encoding, message);
    if (encoding !== "identity") assert.ok(compressed.length < message.length / 5, encoding);
    assert.deepEqual(decompress(encoding, compressed, message.length), message, encoding);
  }
});

Deno.test("decompress() allows exactly maxBytes and refuses one byte more", () => {
  assert.equal(decompress("gzip", GZIP_HI, 2).length, 2);
  assert.throws(() => decompress("gzip", GZIP_HI, 1), MessageTooLargeError);
  assert.throws(() => decompress("gzip", GZIP_HI, 0), MessageTooLargeError);
  const hundred = new Uint8Array(100);
  assert.throws(() => decompress("br", brotliCompressSync(hundred), 99), MessageTooLargeError);
  assert.equal(decompress("br", brotliCompressSync(hundred), 100).length, 100);
  assert.throws(() => decompress("identity", hundred, 99), MessageTooLargeError);
  assert.equal(decompress("identity", hundred, 100).length, 100);
});

Deno.test("corrupt gzip is a DecompressionError, not a crash or a size error", () => {
  const flipped = Uint8Array.from(GZIP_HI);
  flipped[17] ^= 1; // the CRC-32
  for (const bytes of [Uint8Array.of(1, 2, 3, 4, 5), GZIP_HI.subarray(0, 12), flipped]) {
    assert.throws(() => decompress("gzip", bytes, MiB), (error: unknown) => {
      assert.ok(error instanceof DecompressionError, String(error));
      assert.match(error.message, /gzip/);
      return true;
    });
  }
});

/** Runs `bomb` and asserts it is refused as too large with RSS growing less than 32 MB. */
function assertRefusedCheaply(name: string, bomb: Uint8Array, limit: number): void {
  const before = Deno.memoryUsage().rss;
  const started = performance.now();
  assert.throws(() => decompress(name as "gzip" | "br", bomb, limit), MessageTooLargeError);
  const grown = Deno.memoryUsage().rss - before;
  assert.ok(grown < 32 * MiB, `${name}: RSS grew ${(grown / MiB).toFixed(1)} MiB`);
  // Generous, for a busy machine: stopping at 4 MiB takes milliseconds; inflating the whole of
  // the 20 GiB bomb below would take tens of seconds.
  assert.ok(
    performance.now() - started < 10_000,
    `${name}: took ${performance.now() - started} ms`,
  );
}

Deno.test("a 10 MB gzip bomb of zeros is refused at 4 MiB without inflating the rest", () => {
  const bomb = gzipSync(new Uint8Array(10 * 1024 * 1024));
  assert.ok(bomb.length < 16 * 1024, `${bomb.length} bytes compressed`);
  assertRefusedCheaply("gzip", bomb, 4 * MiB);
});

Deno.test("a 20 GiB gzip bomb (20,480 members of 1 MiB) is refused with bounded RSS, at once", () => {
  // Multi-member gzip (RFC 1952 §2.2) decompresses to the members' concatenation.
  const member = gzipSync(new Uint8Array(MiB));
  const members = 20 * 1024;
  const bomb = new Uint8Array(member.length * members);
  for (let i = 0; i < members; i++) bomb.set(member, i * member.length);
  assertRefusedCheaply("gzip", bomb, 4 * MiB);
});

Deno.test("brotli bombs (10 MB of zeros, 64 MB of one letter) are refused at 4 MiB with bounded RSS", () => {
  const fast = { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } };
  assertRefusedCheaply("br", brotliCompressSync(new Uint8Array(10 * 1024 * 1024), fast), 4 * MiB);
  // Zeros might land in untouched pages; a repeated letter has to be written out.
  const letters = new Uint8Array(64 * MiB).fill(0x61);
  assertRefusedCheaply("br", brotliCompressSync(letters, fast), 4 * MiB);
});
