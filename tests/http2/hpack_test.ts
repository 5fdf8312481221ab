import assert from "node:assert/strict";
import {
  type HeaderField,
  HeaderListTooLargeError,
  HpackDecoder,
  HpackEncoder,
  HpackError,
} from "../../lib/http2/hpack.ts";
import { seededRandom } from "../_random.ts";
import { hex, randomLatin1 } from "./_hpack.ts";

/** One header block of an RFC 7541 Appendix C sequence: its bytes, fields and the table after it. */
interface Step {
  dump: string;
  fields: HeaderField[];
  table: HeaderField[];
  size: number;
}

/** Decodes `steps` in order on one decoder, checking fields, table entries and table size after each. */
function decodeSteps(steps: Step[], decoder: HpackDecoder): void {
  steps.forEach((step, i) => {
    assert.deepEqual(decoder.decode(hex(step.dump)), step.fields, `block ${i + 1}: fields`);
    assert.deepEqual(decoder.tableEntries(), step.table, `block ${i + 1}: dynamic table`);
    assert.equal(decoder.tableSize, step.size, `block ${i + 1}: table size`);
  });
}

/** Encodes the fields of `steps` in order on one encoder, checking the bytes and the table after each. */
function encodeSteps(steps: Step[], encoder: HpackEncoder, prefix = ""): void {
  steps.forEach((step, i) => {
    const expected = hex((i === 0 ? prefix : "") + step.dump);
    assert.deepEqual(encoder.encode(step.fields), expected, `block ${i + 1}: bytes`);
    assert.deepEqual(encoder.tableEntries(), step.table, `block ${i + 1}: dynamic table`);
    assert.equal(encoder.tableSize, step.size, `block ${i + 1}: table size`);
  });
}

/** Asserts that decoding `block` throws an HpackError whose message matches `message`. */
function assertHpackError(
  decoder: HpackDecoder,
  block: Uint8Array,
  message: RegExp,
): void {
  assert.throws(() => decoder.decode(block), (error: unknown) => {
    assert.ok(error instanceof HpackError, `expected an HpackError, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

const AUTHORITY: HeaderField = [":authority", "www.example.com"];
const REQUEST_1: HeaderField[] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  AUTHORITY,
];
const REQUEST_2: HeaderField[] = [...REQUEST_1, ["cache-control", "no-cache"]];
const REQUEST_3: HeaderField[] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":path", "/index.html"],
  AUTHORITY,
  ["custom-key", "custom-value"],
];

/** The requests of RFC 7541 C.3 and C.4: fields, then the dynamic table and its size after each. */
const REQUESTS: Omit<Step, "dump">[] = [
  { fields: REQUEST_1, table: [AUTHORITY], size: 57 },
  { fields: REQUEST_2, table: [["cache-control", "no-cache"], AUTHORITY], size: 110 },
  {
    fields: REQUEST_3,
    table: [["custom-key", "custom-value"], ["cache-control", "no-cache"], AUTHORITY],
    size: 164,
  },
];

/** The steps of `expected`, with the hex dump of each block. */
function steps(expected: Omit<Step, "dump">[], dumps: string[]): Step[] {
  assert.equal(dumps.length, expected.length);
  return expected.map((step, i) => ({ ...step, dump: dumps[i] }));
}

/** RFC 7541 C.3: requests without Huffman coding. */
const C3 = steps(REQUESTS, [
  "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
  "8286 84be 5808 6e6f 2d63 6163 6865",
  "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
]);

/** RFC 7541 C.4: the same requests with Huffman coding. */
const C4 = steps(REQUESTS, [
  "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
  "8286 84be 5886 a8eb 1064 9cbf",
  "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
]);

const DATE_1: HeaderField = ["date", "Mon, 21 Oct 2013 20:13:21 GMT"];
const DATE_2: HeaderField = ["date", "Mon, 21 Oct 2013 20:13:22 GMT"];
const LOCATION: HeaderField = ["location", "https://www.example.com"];
const PRIVATE: HeaderField = ["cache-control", "private"];
const COOKIE: HeaderField = [
  "set-cookie",
  "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
];
const RESPONSE_1: HeaderField[] = [[":status", "302"], PRIVATE, DATE_1, LOCATION];
const RESPONSE_2: HeaderField[] = [[":status", "307"], PRIVATE, DATE_1, LOCATION];
const RESPONSE_3: HeaderField[] = [
  [":status", "200"],
  PRIVATE,
  DATE_2,
  LOCATION,
  ["content-encoding", "gzip"],
  COOKIE,
];

/** The responses of RFC 7541 C.5 and C.6 (table size 256, with evictions). */
const RESPONSES: Omit<Step, "dump">[] = [
  { fields: RESPONSE_1, table: [LOCATION, DATE_1, PRIVATE, [":status", "302"]], size: 222 },
  { fields: RESPONSE_2, table: [[":status", "307"], LOCATION, DATE_1, PRIVATE], size: 222 },
  { fields: RESPONSE_3, table: [COOKIE, ["content-encoding", "gzip"], DATE_2], size: 215 },
];

/** RFC 7541 C.5: responses without Huffman coding. */
const C5 = steps(RESPONSES, [
  "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133" +
  "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70" +
  "6c65 2e63 6f6d",
  "4803 3330 37c1 c0bf",
  "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d" +
  "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049" +
  "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e" +
  "3d31",
]);

/** RFC 7541 C.6: the same responses with Huffman coding. */
const C6 = steps(RESPONSES, [
  "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6" +
  "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
  "4883 640e ffc1 c0bf",
  "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab" +
  "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f" +
  "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
]);

Deno.test("HpackDecoder reads the integers of RFC 7541 C.1 (as 5-bit-prefix table size updates)", () => {
  const decoder = new HpackDecoder();
  // C.1.1: 10 on a 5-bit prefix is one octet; 001 marks a dynamic table size update.
  assert.deepEqual(decoder.decode(hex("2a")), []);
  assert.equal(decoder.tableCapacity, 10);
  // C.1.2: 1337 on a 5-bit prefix is 31, then 154 and 10.
  assert.deepEqual(decoder.decode(hex("3f 9a0a")), []);
  assert.equal(decoder.tableCapacity, 1337);
  // C.1.3 (42 on an 8-bit prefix) has no HPACK use; 42 as a 7-bit string length is the one octet 2a.
  const name = "x".repeat(42);
  assert.deepEqual(
    decoder.decode(Uint8Array.of(0x00, 0x2a, ...new TextEncoder().encode(name), 0)),
    [
      [name, ""],
    ],
  );
});

Deno.test("HpackEncoder writes the integers of RFC 7541 C.1 in table size updates", () => {
  const encoder = new HpackEncoder();
  encoder.setPeerMaxTableSize(10);
  assert.deepEqual(encoder.encode([]), hex("2a"));
  encoder.setPeerMaxTableSize(1337);
  assert.deepEqual(encoder.encode([]), hex("3f 9a0a"));
  assert.deepEqual(encoder.encode([]), hex(""), "no update once signalled");
});

Deno.test("HpackDecoder decodes the literal and indexed fields of RFC 7541 C.2", () => {
  const cases: [string, HeaderField[], HeaderField[], number][] = [
    [
      "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
      [["custom-key", "custom-header"]],
      [["custom-key", "custom-header"]],
      55,
    ],
    ["040c 2f73 616d 706c 652f 7061 7468", [[":path", "/sample/path"]], [], 0],
    ["1008 7061 7373 776f 7264 0673 6563 7265 74", [["password", "secret"]], [], 0],
    ["82", [[":method", "GET"]], [], 0],
  ];
  for (const [dump, fields, table, size] of cases) {
    decodeSteps([{ dump, fields, table, size }], new HpackDecoder());
  }
});

Deno.test("HpackDecoder decodes the requests of RFC 7541 C.3 (no Huffman) and C.4 (Huffman)", () => {
  decodeSteps(C3, new HpackDecoder());
  decodeSteps(C4, new HpackDecoder());
});

Deno.test("HpackDecoder decodes the responses of RFC 7541 C.5 and C.6 with evictions at table size 256", () => {
  decodeSteps(C5, new HpackDecoder({ maxTableSize: 256 }));
  decodeSteps(C6, new HpackDecoder({ maxTableSize: 256 }));
});

Deno.test("HpackEncoder encodes the requests of RFC 7541 C.4 byte for byte", () => {
  encodeSteps(C4, new HpackEncoder());
});

Deno.test("HpackEncoder encodes the responses of RFC 7541 C.6 byte for byte after a size update to 256", () => {
  // C.6 assumes both sides already use 256; our encoder signals it: 001 11111, 225 (256 - 31), 1.
  // Huffman is used only when shorter: "307" is 3 octets either way, so it goes raw as in C.5.2.
  const steps = [C6[0], C5[1], C6[2]];
  const encoder = new HpackEncoder();
  encoder.setPeerMaxTableSize(256);
  encodeSteps(steps, encoder, "3fe1 01");
  encodeSteps(steps, new HpackEncoder({ maxTableSize: 256 }), "3fe1 01");
});

Deno.test("HpackDecoder accepts several table size updates at the start of a block", () => {
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(hex("20 3fe101 82")), [[":method", "GET"]]);
  assert.equal(decoder.tableCapacity, 256);
  // A size update evicts what no longer fits.
  decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
  assert.equal(decoder.tableSize, 55);
  decoder.decode(hex("3f19")); // 56
  assert.equal(decoder.tableSize, 55);
  decoder.decode(hex("3f18")); // 55
  assert.equal(decoder.tableSize, 55);
  decoder.decode(hex("3f17")); // 54
  assert.deepEqual(decoder.tableEntries(), []);
  assert.equal(decoder.tableSize, 0);
});

Deno.test("HpackDecoder rejects every malformed block with an HpackError", () => {
  const cases: [string, string, RegExp][] = [
    ["indexed field 0", "80", /index 0 is not allowed/],
    ["index past an empty dynamic table", "be", /index 62 is out of range .*0 entries/],
    ["index one past the dynamic table", "4001 6101 62 bf", /index 63 is out of range .*1 entries/],
    ["literal name index past the table", "7f00 0161", /index 63 is out of range/],
    ["never-indexed name index past the table", "1f2f 0161", /index 62 is out of range/],
    ["size update after a field", "82 20", /size update after a header field/],
    ["size update above the limit (4097)", "3fe2 1f", /4097 exceeds the limit of 4096/],
    ["truncated integer", "ff", /truncated integer/],
    ["truncated integer continuation", "ff80", /truncated integer/],
    ["integer with too many octets", "ff80 8080 8080 00", /too many octets/],
    ["integer above 2^31 - 1", "ff ffff ffff 0f", /exceeds 2\^31 - 1/],
    ["missing name", "40", /missing string literal/],
    ["missing value", "4001 61", /missing string literal/],
    ["name past the end", "400a 61", /10 octets runs past the end .*1 left/],
    ["value past the end", "0001 6105 6263", /5 octets runs past the end .*2 left/],
    ["value one octet past the end", "0001 6102 62", /2 octets runs past the end .*1 left/],
    ["Huffman length past the end", "0001 6185 ff", /runs past the end/],
    ["EOS in a Huffman value", "0001 6184 ffff ffff", /EOS/],
    ["Huffman padding of 8 bits", "0001 6181 ff", /padding/],
    ["Huffman padding not all ones", "0001 6181 18", /padding/],
  ];
  for (const [what, dump, message] of cases) {
    try {
      assertHpackError(new HpackDecoder(), hex(dump), message);
    } catch (error) {
      throw new Error(`${what}: ${error}`);
    }
  }
});

Deno.test("HpackDecoder takes integers up to 2^31 - 1 and no further", () => {
  const decoder = new HpackDecoder({ maxTableSize: 2 ** 31 - 1 });
  // 2^31 - 1 - 31 = 0x7fffffe0: e0 ff ff ff 07.
  decoder.decode(hex("3f e0ff ffff 07"));
  assert.equal(decoder.tableCapacity, 2 ** 31 - 1);
  assertHpackError(decoder, hex("3f e1ff ffff 07"), /exceeds 2\^31 - 1/);
});

Deno.test("HpackDecoder throws HeaderListTooLargeError after decoding the whole block, table in sync", () => {
  // :method: GET is 7 + 3 + 32 = 42 octets; custom-key: custom-header is 10 + 13 + 32 = 55.
  const decoder = new HpackDecoder({ maxHeaderListSize: 96 });
  const customKey = "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572";
  // Over the limit at the third field; the literal after it must still enter the table.
  const block = hex(`82 82 82 ${customKey}`);
  assert.throws(() => decoder.decode(block), (error: unknown) => {
    assert.ok(error instanceof HeaderListTooLargeError, `${error}`);
    assert.equal(error.size, 3 * 42 + 55);
    assert.equal(error.limit, 96);
    assert.match(error.message, /181 exceeds the limit of 96/);
    return true;
  });
  assert.deepEqual(decoder.tableEntries(), [["custom-key", "custom-header"]]);
  assert.deepEqual(decoder.decode(hex("be")), [["custom-key", "custom-header"]]);
  // At the limit exactly is fine.
  const atLimit = new HpackDecoder({ maxHeaderListSize: 97 });
  assert.deepEqual(atLimit.decode(hex(`82 ${customKey}`)), [
    [":method", "GET"],
    ["custom-key", "custom-header"],
  ]);
});

Deno.test("HpackDecoder and HpackEncoder reject bad options with a RangeError", () => {
  for (const maxTableSize of [-1, 1.5, NaN, 2 ** 32]) {
    assert.throws(() => new HpackDecoder({ maxTableSize }), RangeError);
    assert.throws(() => new HpackEncoder({ maxTableSize }), RangeError);
    assert.throws(() => new HpackEncoder().setPeerMaxTableSize(maxTableSize), RangeError);
  }
  assert.throws(() => new HpackDecoder({ maxHeaderListSize: -1 }), RangeError);
  assert.throws(() => new HpackDecoder({ maxHeaderListSize: NaN }), RangeError);
});

/** Bytes of an integer (RFC 7541 §5.1) after the `flags` of its first octet, which leave it `bits` bits; written independently of the encoder. */
function integer([flags, bits]: [flags: number, bits: number], value: number): number[] {
  const mask = 2 ** bits - 1;
  if (value < mask) return [flags | value];
  const bytes = [flags | mask];
  for (value -= mask; value >= 128; value = Math.floor(value / 128)) bytes.push(0x80 | value % 128);
  bytes.push(value);
  return bytes;
}

/** A raw (not Huffman) string literal. */
function literal(s: string): number[] {
  return [...integer([0, 7], s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

Deno.test("HpackDecoder's dynamic table matches a plain array model through random inserts, references and resizes", () => {
  const random = seededRandom(11);
  const decoder = new HpackDecoder();
  let model: HeaderField[] = []; // newest first
  let capacity = 4096;
  const modelSize = () => model.reduce((sum, [n, v]) => sum + n.length + v.length + 32, 0);
  const evictTo = (limit: number) => {
    while (model.length > 0 && modelSize() > limit) model.pop();
  };
  for (let blockIndex = 0; blockIndex < 3000; blockIndex++) {
    const bytes: number[] = [];
    const expected: HeaderField[] = [];
    const updates = random() < 0.1 ? 1 + Math.floor(random() * 2) : 0;
    for (let u = 0; u < updates; u++) {
      capacity = random() < 0.2 ? 0 : Math.floor(random() * 4097);
      bytes.push(...integer([0x20, 5], capacity));
      evictTo(capacity);
    }
    const count = Math.floor(random() * 8);
    for (let f = 0; f < count; f++) {
      const choice = random();
      if (model.length > 0 && choice < 0.3) {
        const i = Math.floor(random() * model.length);
        bytes.push(...integer([0x80, 7], 62 + i));
        expected.push([...model[i]]);
        continue;
      }
      const value = randomLatin1(random, random() < 0.05 ? 300 : 12);
      let name: string;
      const indexing = choice < 0.8;
      const prefix: [number, number] = indexing ? [0x40, 6] : [0x00, 4];
      if (model.length > 0 && choice < 0.5) {
        const i = Math.floor(random() * model.length);
        name = model[i][0];
        bytes.push(...integer(prefix, 62 + i), ...literal(value));
      } else {
        name = randomLatin1(random, 12);
        bytes.push(...integer(prefix, 0), ...literal(name), ...literal(value));
      }
      expected.push([name, value]);
      if (indexing) {
        const size = name.length + value.length + 32;
        evictTo(capacity - size);
        if (size <= capacity) model = [[name, value], ...model];
        else model = [];
      }
    }
    assert.deepEqual(decoder.decode(Uint8Array.from(bytes)), expected, `block ${blockIndex}`);
    assert.deepEqual(decoder.tableEntries(), model, `block ${blockIndex}: table`);
    assert.equal(decoder.tableSize, modelSize(), `block ${blockIndex}: size`);
  }
});

const GRPC_RESPONSE: HeaderField[] = [
  [":status", "200"],
  ["content-type", "application/grpc"],
  ["grpc-accept-encoding", "identity,deflate,gzip"],
  ["grpc-encoding", "identity"],
];
const GRPC_TRAILERS: HeaderField[] = [["grpc-status", "0"], ["grpc-message", ""]];

Deno.test("HpackEncoder sends a repeated gRPC response and trailers as one octet per field", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const first = encoder.encode(GRPC_RESPONSE);
  assert.ok(first.length > GRPC_RESPONSE.length);
  assert.deepEqual(decoder.decode(first), GRPC_RESPONSE);
  assert.deepEqual(decoder.decode(encoder.encode(GRPC_TRAILERS)), GRPC_TRAILERS);
  for (let i = 0; i < 3; i++) {
    const headers = encoder.encode(GRPC_RESPONSE);
    const trailers = encoder.encode(GRPC_TRAILERS);
    assert.equal(headers.length, GRPC_RESPONSE.length);
    assert.equal(trailers.length, GRPC_TRAILERS.length);
    assert.deepEqual(decoder.decode(headers), GRPC_RESPONSE);
    assert.deepEqual(decoder.decode(trailers), GRPC_TRAILERS);
  }
});

Deno.test("HpackEncoder with a peer table size of 0 indexes nothing, and resumes when it grows", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(GRPC_RESPONSE));
  assert.ok(decoder.tableSize > 0);
  encoder.setPeerMaxTableSize(0);
  assert.equal(encoder.tableSize, 0);
  for (let i = 0; i < 2; i++) {
    const block = encoder.encode(GRPC_RESPONSE);
    assert.equal(block[0] === 0x20, i === 0, "a size update to 0 starts the first block only");
    assert.deepEqual(decoder.decode(block), GRPC_RESPONSE);
    assert.deepEqual(decoder.tableEntries(), []);
    assert.deepEqual(encoder.tableEntries(), []);
  }
  encoder.setPeerMaxTableSize(4096);
  const block = encoder.encode(GRPC_RESPONSE);
  assert.deepEqual(block.subarray(0, 3), hex("3fe1 1f"));
  assert.deepEqual(decoder.decode(block), GRPC_RESPONSE);
  assert.equal(decoder.tableCapacity, 4096);
  assert.equal(encoder.encode(GRPC_RESPONSE).length, GRPC_RESPONSE.length);
});

Deno.test("HpackEncoder signals the smallest table size since the last block, then the final one", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(GRPC_RESPONSE));
  encoder.setPeerMaxTableSize(100);
  encoder.setPeerMaxTableSize(4096);
  const block = encoder.encode([]);
  assert.deepEqual(block, hex("3f45 3fe1 1f")); // 100 then 4096
  decoder.decode(block);
  assert.ok(encoder.tableSize <= 100);
  assert.deepEqual(encoder.tableEntries(), decoder.tableEntries());
  // An encoder limit below the peer's is signalled before the first block and never exceeded.
  const small = new HpackEncoder({ maxTableSize: 100 });
  encoder.setPeerMaxTableSize(8192);
  assert.deepEqual(small.encode([]), hex("3f45"));
  small.setPeerMaxTableSize(8192);
  assert.deepEqual(small.encode([]), hex(""), "still 100: nothing to signal");
});

Deno.test("HpackEncoder never indexes sensitive names, nor fields larger than the table", () => {
  const encoder = new HpackEncoder({ sensitive: ["authorization", "x-secret"], maxTableSize: 256 });
  const decoder = new HpackDecoder({ maxTableSize: 256 });
  const fields: HeaderField[] = [["authorization", "Bearer abc"], ["x-secret", "s"]];
  for (let i = 0; i < 2; i++) {
    const block = encoder.encode(fields);
    const start = i === 0 ? 3 : 0; // the size update to 256
    assert.deepEqual(block.subarray(start, start + 2), hex("1f08"), "never indexed, name index 23");
    assert.deepEqual(decoder.decode(block), fields);
    assert.deepEqual(encoder.tableEntries(), []);
  }
  const big: HeaderField[] = [["x-big", "v".repeat(300)]];
  encoder.encode([["x-small", "1"]]);
  const block = encoder.encode(big);
  assert.equal(block[0], 0x00, "literal without indexing, new name");
  assert.deepEqual(decoder.decode(block), big);
  assert.deepEqual(encoder.tableEntries(), [["x-small", "1"]]);
});

Deno.test("HpackEncoder rejects a character above U+00FF before changing its table", () => {
  const encoder = new HpackEncoder();
  assert.throws(
    () => encoder.encode([["a", "b"], ["grpc-message", "caf\u00e9 \u2615"]]),
    (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /"grpc-message".*value has a character above U\+00FF/);
      return true;
    },
  );
  assert.deepEqual(encoder.tableEntries(), []);
  assert.deepEqual(new HpackDecoder().decode(encoder.encode([["a", "\u00e9"]])), [["a", "\u00e9"]]);
});

/** Header fields the round-trip and fuzz tests draw from: gRPC-like repeats and random ones. */
function randomHeaders(random: () => number): HeaderField[] {
  const pool: HeaderField[] = [
    ...GRPC_RESPONSE,
    ...GRPC_TRAILERS,
    [":method", "POST"],
    [":path", "/routeguide.RouteGuide/GetFeature"],
    ["te", "trailers"],
    ["grpc-timeout", `${Math.floor(random() * 100000)}m`],
    ["authorization", "Bearer token"],
    [":status", "404"],
    ["accept-encoding", "gzip, deflate"],
  ];
  const count = Math.floor(random() * 10);
  return Array.from({ length: count }, (): HeaderField => {
    if (random() < 0.6) return [...pool[Math.floor(random() * pool.length)]];
    const value = randomLatin1(random, random() < 0.05 ? 5000 : 30);
    return [random() < 0.5 ? randomLatin1(random, 15) : "x-custom", value];
  });
}

Deno.test("HpackEncoder → HpackDecoder round-trips random header lists through random table size changes", () => {
  const random = seededRandom(2024);
  for (let run = 0; run < 20; run++) {
    const limit = run % 4 === 0 ? 256 : 4096;
    const encoder = new HpackEncoder({
      maxTableSize: run % 3 === 0 ? Math.floor(random() * 5000) : 4096,
      sensitive: run % 2 === 0 ? ["authorization"] : [],
    });
    if (limit !== 4096) encoder.setPeerMaxTableSize(limit);
    const decoder = new HpackDecoder({ maxTableSize: limit });
    for (let i = 0; i < 200; i++) {
      const changes = random() < 0.1 ? 1 + Math.floor(random() * 3) : 0;
      for (let c = 0; c < changes; c++) {
        encoder.setPeerMaxTableSize(random() < 0.2 ? 0 : Math.floor(random() * (limit + 1)));
      }
      const headers = randomHeaders(random);
      const block = encoder.encode(headers);
      assert.deepEqual(decoder.decode(block), headers, `run ${run} block ${i}`);
      assert.deepEqual(decoder.tableEntries(), encoder.tableEntries(), `run ${run} block ${i}`);
      assert.equal(decoder.tableSize, encoder.tableSize);
      assert.ok(decoder.tableSize <= decoder.tableCapacity);
    }
  }
});

Deno.test("HpackDecoder fuzz: random and mutated blocks decode or throw an HPACK error, nothing else", () => {
  const random = seededRandom(99);
  const encoder = new HpackEncoder();
  let decoder = new HpackDecoder();
  const outcomes = { decoded: 0, hpackError: 0, tooLarge: 0 };
  for (let i = 0; i < 20000; i++) {
    if (i % 50 === 0) {
      decoder = new HpackDecoder({
        maxTableSize: random() < 0.5 ? 4096 : Math.floor(random() * 300),
        maxHeaderListSize: random() < 0.7 ? Infinity : Math.floor(random() * 500),
      });
    }
    let block: Uint8Array;
    if (random() < 0.3) {
      block = Uint8Array.from({ length: Math.floor(random() * 40) }, () => random() * 256);
    } else {
      const bytes = Array.from(encoder.encode(randomHeaders(random)));
      const mutations = 1 + Math.floor(random() * 3);
      for (let m = 0; m < mutations && bytes.length > 0; m++) {
        const at = Math.floor(random() * bytes.length);
        const kind = random();
        if (kind < 0.4) bytes[at] ^= 1 << Math.floor(random() * 8);
        else if (kind < 0.6) bytes[at] = Math.floor(random() * 256);
        else if (kind < 0.8) bytes.length = at;
        else bytes.splice(at, 0, Math.floor(random() * 256));
      }
      block = Uint8Array.from(bytes);
    }
    try {
      const fields = decoder.decode(block);
      for (const [name, value] of fields) {
        assert.equal(typeof name, "string");
        assert.equal(typeof value, "string");
      }
      outcomes.decoded++;
    } catch (error) {
      if (error instanceof HeaderListTooLargeError) outcomes.tooLarge++;
      else if (error instanceof HpackError) outcomes.hpackError++;
      else throw new Error(`block ${i} (${Array.from(block)}) threw ${error}`);
    }
    assert.ok(decoder.tableSize <= decoder.tableCapacity);
  }
  assert.ok(outcomes.decoded > 1000, JSON.stringify(outcomes));
  assert.ok(outcomes.hpackError > 1000, JSON.stringify(outcomes));
  assert.ok(outcomes.tooLarge > 30, JSON.stringify(outcomes));
});

Deno.test("HpackDecoder decodes long raw and Huffman-coded strings (past its scratch buffer)", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const huffman: HeaderField = ["x-long", "a".repeat(200_000)]; // 5 bits a character: Huffman wins
  const raw: HeaderField = ["x-raw", "\u00ff".repeat(10_000)]; // 26 bits a character: raw wins
  const block = encoder.encode([huffman, raw]);
  assert.ok(block.length < 200_000 * 5 / 8 + 10_000 + 100);
  assert.deepEqual(decoder.decode(block), [huffman, raw]);
  assert.deepEqual(decoder.decode(encoder.encode([["x-short", "abc"]])), [["x-short", "abc"]]);
});

Deno.test("HpackDecoder and HpackEncoder accept table sizes up to 2^32 - 1 exactly", () => {
  const decoder = new HpackDecoder({ maxTableSize: 2 ** 32 - 1 });
  assert.deepEqual(decoder.decode(new Uint8Array([0x82])), [[":method", "GET"]]);
  const encoder = new HpackEncoder({ maxTableSize: 2 ** 32 - 1 });
  encoder.setPeerMaxTableSize(2 ** 32 - 1);
});

Deno.test("a dynamic table of 40 entries, past its first 16 slots, on both sides (RFC 7541 §2.3.2)", () => {
  const fields: HeaderField[] = Array.from(
    { length: 40 },
    (_, i) => [`x-field-${i}`, `value ${i}`],
  );
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(encoder.encode(fields)), fields);
  const expectedTable = fields.toReversed();
  assert.deepEqual(encoder.tableEntries(), expectedTable);
  assert.deepEqual(decoder.tableEntries(), expectedTable);
  // Sent again, each field is one octet: its index, 62 (newest) to 101 (oldest), §2.3.3.
  const again = encoder.encode(fields);
  assert.deepEqual([...again], fields.map((_, i) => 0x80 | (62 + 39 - i)));
  assert.deepEqual(decoder.decode(again), fields);
});

Deno.test("a string of 255 octets has its length as 7f 80 01 (RFC 7541 §5.1: 255 - 127 = 128)", () => {
  const value = "\x00".repeat(255); // NUL's Huffman code is 13 bits: the raw string is shorter
  const block = new HpackEncoder().encode([["x-a", value]]);
  // 0x40: literal with incremental indexing, new name (§6.2.1); 0x03 "x-a"; then the value's length.
  assert.deepEqual([...block.subarray(0, 8)], [0x40, 0x03, 0x78, 0x2d, 0x61, 0x7f, 0x80, 0x01]);
  assert.equal(block.length, 8 + 255);
  assert.deepEqual(new HpackDecoder().decode(block), [["x-a", value]]);
});

Deno.test("HpackEncoder: evicting one value of a name keeps the others indexed", () => {
  // Entries of 3 + 1 + 32 = 36 octets (§4.1): a 100-octet table holds two.
  const encoder = new HpackEncoder({ maxTableSize: 100 });
  const decoder = new HpackDecoder({ maxTableSize: 100 });
  for (const field of [["x-a", "1"], ["x-a", "2"], ["x-b", "3"]] as HeaderField[]) {
    decoder.decode(encoder.encode([field]));
  }
  assert.deepEqual(encoder.tableEntries(), [["x-b", "3"], ["x-a", "2"]]);
  // ["x-a", "2"] is the second dynamic entry: index 63, one octet.
  const block = encoder.encode([["x-a", "2"]]);
  assert.deepEqual([...block], [0x80 | 63]);
  assert.deepEqual(decoder.decode(block), [["x-a", "2"]]);
});
