import assert from "node:assert/strict";
import {
  huffmanCode,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  HuffmanError,
} from "../../lib/http2/huffman.ts";
import { seededRandom } from "../_random.ts";
import { hex, randomLatin1 } from "./_hpack.ts";

/** Huffman-encodes `value` into a fresh buffer. */
function encode(value: string): Uint8Array {
  const sink = { bytes: new Uint8Array(huffmanEncodedLength(value)), offset: 0 };
  huffmanEncode(value, sink);
  assert.equal(sink.offset, sink.bytes.length, `encoded length of ${JSON.stringify(value)}`);
  return sink.bytes;
}

/** Huffman-coded strings of RFC 7541 Appendix C.4 and C.6. */
const RFC_STRINGS: [string, string][] = [
  ["www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"],
  ["no-cache", "a8eb 1064 9cbf"],
  ["custom-key", "25a8 49e9 5ba9 7d7f"],
  ["custom-value", "25a8 49e9 5bb8 e8b4 bf"],
  ["302", "6402"],
  ["307", "640e ff"],
  ["private", "aec3 771a 4b"],
  ["Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"],
  ["Mon, 21 Oct 2013 20:13:22 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"],
  ["https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"],
  ["gzip", "9bd9 ab"],
  [
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
  ],
];

Deno.test("huffmanDecode() decodes the Huffman-coded strings of RFC 7541 C.4 and C.6", () => {
  for (const [text, dump] of RFC_STRINGS) assert.equal(huffmanDecode(hex(dump)), text);
});

Deno.test("huffmanEncode() produces the Huffman-coded strings of RFC 7541 C.4 and C.6", () => {
  for (const [text, dump] of RFC_STRINGS) {
    assert.deepEqual(encode(text), hex(dump), text);
    assert.equal(huffmanEncodedLength(text), hex(dump).length, text);
  }
});

Deno.test("huffmanCode() matches RFC 7541 Appendix B at every code length", () => {
  // [symbol, code as hex aligned to LSB, length in bits], one or more per length 5..30.
  const rows: [number, number, number][] = [
    [48, 0x0, 5],
    [116, 0x9, 5],
    [32, 0x14, 6],
    [122, 0x7b, 7],
    [38, 0xf8, 8],
    [90, 0xfd, 8],
    [33, 0x3f8, 10],
    [63, 0x3fc, 10],
    [39, 0x7fa, 11],
    [124, 0x7fc, 11],
    [35, 0xffa, 12],
    [0, 0x1ff8, 13],
    [126, 0x1ffd, 13],
    [94, 0x3ffc, 14],
    [125, 0x3ffd, 14],
    [60, 0x7ffc, 15],
    [123, 0x7ffe, 15],
    [92, 0x7fff0, 19],
    [208, 0x7fff2, 19],
    [128, 0xfffe6, 20],
    [226, 0xfffed, 20],
    [153, 0x1fffdc, 21],
    [230, 0x1fffe8, 21],
    [129, 0x3fffd2, 22],
    [233, 0x3fffeb, 22],
    [1, 0x7fffd8, 23],
    [239, 0x7ffff4, 23],
    [9, 0xffffea, 24],
    [237, 0xfffff5, 24],
    [199, 0x1ffffec, 25],
    [235, 0x1ffffef, 25],
    [192, 0x3ffffe0, 26],
    [255, 0x3ffffee, 26],
    [203, 0x7ffffde, 27],
    [254, 0x7fffff0, 27],
    [2, 0xfffffe2, 28],
    [127, 0xffffffc, 28],
    [249, 0xffffffe, 28],
    [10, 0x3ffffffc, 30],
    [22, 0x3ffffffe, 30],
    [256, 0x3fffffff, 30],
  ];
  for (const [symbol, code, bits] of rows) {
    assert.deepEqual(huffmanCode(symbol), { code, bits }, `symbol ${symbol}`);
  }
});

Deno.test("the Huffman code is complete and prefix-free (Kraft sum of exactly 1)", () => {
  let sum = 0;
  const seen = new Set<string>();
  for (let symbol = 0; symbol <= 256; symbol++) {
    const { code, bits } = huffmanCode(symbol);
    assert.ok(code < 2 ** bits, `symbol ${symbol}: code fits its length`);
    sum += 2 ** -bits;
    seen.add(`${bits}:${code}`);
  }
  assert.equal(sum, 1);
  assert.equal(seen.size, 257);
});

Deno.test("Huffman coding round-trips every octet and random strings", () => {
  const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  assert.equal(huffmanDecode(encode(all)), all);
  assert.equal(huffmanDecode(encode("")), "");
  const random = seededRandom(7541);
  for (let i = 0; i < 2000; i++) {
    const s = randomLatin1(random, 40);
    assert.equal(huffmanDecode(encode(s)), s);
  }
});

Deno.test("huffmanDecode() uses a long enough scratch buffer and ignores a short one", () => {
  const bytes = hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff");
  assert.equal(huffmanDecode(bytes, new Uint8Array(100)), "www.example.com");
  assert.equal(huffmanDecode(bytes, new Uint8Array(1)), "www.example.com");
});

Deno.test("huffmanDecode() rejects EOS, padding over 7 bits and padding that is not all ones", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["EOS (30 ones) then 2 ones of padding", hex("ffff ffff"), /EOS/],
    ["EOS after a symbol", hex("07ff ffff ff"), /EOS/], // '0' (00000), 30 ones, 5 more
    ["8 bits of padding", hex("ff"), /padding/],
    ["'0' then 11 bits of padding", hex("07ff"), /padding/],
    ["'a' (00011) then 000", hex("18"), /padding/],
    ["'a' then 110", hex("1e"), /padding/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => huffmanDecode(bytes), (error: unknown) => {
      assert.ok(error instanceof HuffmanError, `${what}: ${error}`);
      assert.match(error.message, message, what);
      return true;
    });
  }
  // 7 bits of ones is valid padding: 'a' (00011) + 111 is 0x1f.
  assert.equal(huffmanDecode(hex("1f")), "a");
});
