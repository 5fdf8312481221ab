import assert from "node:assert/strict";
import {
  buildFeatureDb,
  createFeatureDb,
  type Feature,
  type FeatureColumns,
  type FeatureDbBuild,
} from "../../lib/core/feature_index.ts";
import { createFeatureScanner, scanFeatureBytes } from "../../lib/core/feature_scan.ts";
import { normalizeRectangle } from "../../lib/core/geo.ts";
import { pt, WORLD } from "../_geo.ts";
import { seededRandom } from "../_random.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** The database the general path builds: the text decoded, parsed, then checked object by object. */
function general(bytes: Uint8Array): FeatureDbBuild {
  return createFeatureDb(JSON.parse(new TextDecoder().decode(bytes)));
}

/** Scans `bytes` fed `chunk` bytes at a time; `undefined` when the scanner declines. */
function scanInChunks(bytes: Uint8Array, chunk: number): FeatureColumns | undefined {
  const scanner = createFeatureScanner({ chunkBytes: chunk });
  for (let at = 0; at < bytes.length; at += chunk) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + chunk));
    scanner.space().set(piece);
    if (!scanner.add(piece.length)) return undefined;
  }
  return scanner.finish();
}

/** Asserts that two builds hold the same features at the same indices, and answer queries alike. */
function assertSameDb(actual: FeatureDbBuild, expected: FeatureDbBuild): void {
  assert.equal(actual.db.size, expected.db.size);
  assert.deepEqual(actual.duplicates, expected.duplicates);
  for (let i = 0; i < expected.db.size; i++) assert.deepEqual(actual.db.at(i), expected.db.at(i));
  assert.deepEqual([...actual.db.indicesWithin(WORLD)], [...expected.db.indicesWithin(WORLD)]);
  const box = normalizeRectangle(pt(400000000, -750000000), pt(410000000, -740000000));
  assert.deepEqual([...actual.db.indicesWithin(box)], [...expected.db.indicesWithin(box)]);
}

/** Scans `text` whole and in chunks of several sizes, and compares each with the general path. */
function assertScansLikeGeneral(
  text: string | Uint8Array,
  chunks: readonly number[] = [1, 7, 64, 4096],
): void {
  const bytes = typeof text === "string" ? encode(text) : text;
  const expected = general(bytes);
  const whole = scanFeatureBytes(bytes);
  assert.ok(whole !== undefined, "the scanner declined it");
  assertSameDb(buildFeatureDb(whole), expected);
  for (const chunk of chunks) {
    const columns = scanInChunks(bytes, chunk);
    assert.ok(columns !== undefined, `declined in chunks of ${chunk}`);
    assertSameDb(buildFeatureDb(columns), expected);
  }
}

/** Features with random points (some repeated), names of every kind, as plain objects. */
function randomFeatures(count: number, seed: number): Feature[] {
  const random = seededRandom(seed);
  const names = [
    "",
    "Statue of Liberty, Liberty Island, NY",
    'A "quoted" name',
    "back\\slash / slash",
    "tab\there, newline\nthere",
    "Zürich Hauptbahnhof",
    "東京タワー",
    "emoji 😀 and \u2028 separator",
    "control \u0001 char",
  ];
  const features: Feature[] = [];
  for (let i = 0; i < count; i++) {
    const latitude = Math.round((random() * 2 - 1) * 900000000);
    const longitude = Math.round((random() * 2 - 1) * 1800000000);
    const point = random() < 0.05 && features.length > 0
      ? features[Math.floor(random() * features.length)].location
      : { latitude, longitude };
    const name = random() < 0.5 ? `Place ${i}` : names[Math.floor(random() * names.length)];
    features.push({ name, location: { latitude: point.latitude, longitude: point.longitude } });
  }
  return features;
}

Deno.test("the scanner builds the same database as the general path from the shipped file", async () => {
  const bytes = await Deno.readFile(new URL("../../data/route_guide_db.json", import.meta.url));
  assertScansLikeGeneral(bytes);
});

/** The features in each layout a file may have: make_db.py's, compact, indented, CRLF and tabs. */
function layouts(features: Feature[]): string[] {
  // The layout of the peers' make_db.py: one feature a line, after its comma.
  const makeDb = "[" +
    features.map((f, i) =>
      `${i ? "," : ""}\n{"name": ${
        JSON.stringify(f.name)
      }, "location": {"latitude": ${f.location.latitude}, "longitude": ${f.location.longitude}}}`
    ).join("") + "\n]\n";
  return [
    makeDb,
    JSON.stringify(features),
    JSON.stringify(features, null, 2),
    JSON.stringify(features, null, "\t").replaceAll("\n", "\r\n"),
  ];
}

Deno.test("the scanner builds the same database as the general path from generated files", () => {
  // Every chunk size on a small file (a byte at a time splits every token somewhere); the larger
  // file, with its repeated points and names, in chunks that cross feature boundaries.
  for (const text of layouts(randomFeatures(200, 5))) assertScansLikeGeneral(text);
  for (const text of layouts(randomFeatures(3000, 17))) assertScansLikeGeneral(text, [64, 4096]);
});

Deno.test("the scanner reads every coordinate edge, empty arrays and any whitespace", () => {
  const cases = [
    "[]",
    " \t\r\n[ \t\r\n] \t\r\n",
    '[{"name":"a","location":{"latitude":0,"longitude":0}}]',
    '[{"name":"n","location":{"latitude":900000000,"longitude":1800000000}},' +
    '{"name":"s","location":{"latitude":-900000000,"longitude":-1800000000}},' +
    '{"name":"one","location":{"latitude":-1,"longitude":1}}]',
    '\n[\n\t{ "name" :\t"a" ,\r\n"location"  : {\n"latitude" : 5 ,\n"longitude" : -7 }\n}\n]',
  ];
  for (const text of cases) assertScansLikeGeneral(text);
  const columns = scanFeatureBytes(encode(cases[3]));
  assert.deepEqual(columns?.latitudes, new Int32Array([900000000, -900000000, -1]));
  assert.deepEqual(columns?.longitudes, new Int32Array([1800000000, -1800000000, 1]));
  // Plain names read in one chunk make one piece.
  assert.deepEqual(columns?.names.pieces, ["nsone"]);
});

Deno.test("the scanner decodes escaped and non-ASCII names as JSON.parse does", () => {
  const names = [
    String.raw`"\"\\\/\b\f\n\r\t"`,
    String.raw`"\u00e9\u6771\ud83d\ude00"`,
    '"é東😀"',
    String.raw`"lone \ud800 surrogate"`,
    '""',
  ];
  const text = "[" +
    names.map((name, i) => `{"name": ${name}, "location": {"latitude": ${i}, "longitude": 0}}`)
      .join(",") +
    "]";
  assertScansLikeGeneral(text);
  const { db } = buildFeatureDb(scanFeatureBytes(encode(text))!);
  assert.equal(db.get(pt(0, 0))?.name, '"\\/\b\f\n\r\t');
  assert.equal(db.get(pt(1, 0))?.name, "é東😀");
  assert.equal(db.get(pt(2, 0))?.name, "é東😀");
  assert.equal(db.get(pt(3, 0))?.name, "lone \ud800 surrogate");
  assert.equal(db.get(pt(4, 0))?.name, "");
});

Deno.test("the scanner replaces invalid UTF-8 in a name as decoding the whole file does", () => {
  const bytes = encode('[{"name": "a?b?", "location": {"latitude": 1, "longitude": 2}}]');
  bytes[12] = 0xff; // not UTF-8 at all
  bytes[14] = 0xe6; // a three-byte sequence cut short by the quote
  assertScansLikeGeneral(bytes);
  const { db } = buildFeatureDb(scanFeatureBytes(bytes)!);
  assert.equal(db.get(pt(1, 2))?.name, "a\ufffdb\ufffd");
});

Deno.test("the scanner declines every other shape, valid or not, for the general path", () => {
  const feature = (body: string) => `[${body}]`;
  const usual = '{"name": "a", "location": {"latitude": 1, "longitude": 2}}';
  const cases: [string, string][] = [
    ["not an array", '{"name": "a"}'],
    ["a number", "7"],
    ["empty file", ""],
    ["only whitespace", " \n"],
    ["a byte order mark", "\ufeff[]"],
    [
      "keys in another order",
      feature('{"location": {"latitude": 1, "longitude": 2}, "name": "a"}'),
    ],
    [
      "coordinates in another order",
      feature('{"name": "a", "location": {"longitude": 2, "latitude": 1}}'),
    ],
    ["no name", feature('{"location": {"latitude": 1, "longitude": 2}}')],
    ["no location", feature('{"name": "a"}')],
    ["an extra key", feature('{"name": "a", "location": {"latitude": 1, "longitude": 2}, "x": 1}')],
    [
      "a name that is not a string",
      feature('{"name": 5, "location": {"latitude": 1, "longitude": 2}}'),
    ],
    [
      "a string coordinate",
      feature('{"name": "a", "location": {"latitude": "1", "longitude": 2}}'),
    ],
    ["a fraction", feature('{"name": "a", "location": {"latitude": 1.5, "longitude": 2}}')],
    ["a whole fraction", feature('{"name": "a", "location": {"latitude": 1.0, "longitude": 2}}')],
    ["an exponent", feature('{"name": "a", "location": {"latitude": 1e7, "longitude": 2}}')],
    ["minus zero", feature('{"name": "a", "location": {"latitude": -0, "longitude": 2}}')],
    ["a leading zero", feature('{"name": "a", "location": {"latitude": 01, "longitude": 2}}')],
    ["no number", feature('{"name": "a", "location": {"latitude": , "longitude": 2}}')],
    ["a lone minus", feature('{"name": "a", "location": {"latitude": 1, "longitude": -}}')],
    ["a plus sign", feature('{"name": "a", "location": {"latitude": +1, "longitude": 2}}')],
    [
      "latitude out of range",
      feature('{"name": "a", "location": {"latitude": 900000001, "longitude": 2}}'),
    ],
    [
      "longitude out of range",
      feature('{"name": "a", "location": {"latitude": 1, "longitude": -1800000001}}'),
    ],
    [
      "eleven digits",
      feature('{"name": "a", "location": {"latitude": 00000000001, "longitude": 2}}'),
    ],
    ["a bad escape", feature('{"name": "a\\x", "location": {"latitude": 1, "longitude": 2}}')],
    [
      "a raw control character",
      feature('{"name": "a\tb", "location": {"latitude": 1, "longitude": 2}}'),
    ],
    ["null", "[null]"],
    ["a trailing comma", `[${usual},]`],
    ["a missing comma", `[${usual} ${usual}]`],
    ["something after the array", `[${usual}] x`],
    ["a second array", "[] []"],
    ["a feature after the array", `[${usual}] ${usual}]`],
    ["a feature after an empty array", `[] ${usual}]`],
    ["unterminated", `[${usual}`],
    ["cut inside a feature", `[${usual.slice(0, 30)}`],
  ];
  for (const [what, text] of cases) {
    assert.equal(scanFeatureBytes(encode(text)), undefined, what);
    assert.equal(scanInChunks(encode(text), 3), undefined, `${what}, in chunks`);
  }
});

Deno.test("the scanner declines a feature longer than its limit, and keeps memory bounded", () => {
  const long = "x".repeat(5000);
  const text = `[{"name": "${long}", "location": {"latitude": 1, "longitude": 2}}]`;
  const scanner = createFeatureScanner({ chunkBytes: 512, maxFeatureBytes: 2048 });
  const bytes = encode(text);
  let accepted = true;
  for (let at = 0; at < bytes.length && accepted; at += 512) {
    const piece = bytes.subarray(at, at + 512);
    scanner.space().set(piece);
    accepted = scanner.add(piece.length);
  }
  assert.equal(accepted, false);
  // Below the limit, the same feature is read across many chunks.
  const roomy = createFeatureScanner({ chunkBytes: 512, maxFeatureBytes: 8192 });
  for (let at = 0; at < bytes.length; at += 512) {
    const piece = bytes.subarray(at, at + 512);
    roomy.space().set(piece);
    assert.ok(roomy.add(piece.length));
  }
  assert.equal(buildFeatureDb(roomy.finish()!).db.get(pt(1, 2))?.name, long);
});

Deno.test("buildFeatureDb() keeps the first feature at a point and names the later ones", () => {
  const text = JSON.stringify([
    { name: "first", location: pt(1, 1) },
    { name: "other", location: pt(2, 2) },
    { name: "second", location: pt(1, 1) },
    { name: "third", location: pt(2, 2) },
    { name: "last", location: pt(3, 3) },
  ]);
  const { db, duplicates } = buildFeatureDb(scanFeatureBytes(encode(text))!);
  assert.equal(db.size, 3);
  assert.deepEqual(duplicates.map((d) => [d.index, d.firstIndex]), [[2, 0], [3, 1]]);
  assert.deepEqual([db.nameAt(0), db.nameAt(1), db.nameAt(2)], ["first", "other", "last"]);
  assert.equal(db.get(pt(3, 3))?.name, "last");
});

Deno.test("the scanner waits for a feature exactly as long as its limit, and declines one byte more", () => {
  const feature = '{"name": "a", "location": {"latitude": 1, "longitude": 2}}';
  const length = encode(feature).length;
  // "[" and the whole feature arrive first: the feature is read, its separator is still to come,
  // so the unread part is the feature itself (`length` bytes).
  for (const [limit, accepted] of [[length, true], [length - 1, false]] as const) {
    const scanner = createFeatureScanner({ chunkBytes: length + 1, maxFeatureBytes: limit });
    const first = encode(`[${feature}`);
    scanner.space().set(first);
    assert.equal(scanner.add(first.length), accepted, `limit ${limit}`);
    if (!accepted) continue;
    scanner.space().set(encode("]"));
    assert.ok(scanner.add(1));
    assert.deepEqual(scanner.finish()?.latitudes, new Int32Array([1]));
  }
});

Deno.test("the scanner reads a name larger than its name buffer (500 KB, in 4 KiB chunks)", () => {
  // Under the default 1 MiB feature limit, but more than the 256 KiB of names decoded at a time
  // plus a chunk, and more than half as much again.
  const long = "n".repeat(500_000);
  const text = `[{"name": "a", "location": {"latitude": 1, "longitude": 1}},` +
    `{"name": "${long}", "location": {"latitude": 2, "longitude": 2}},` +
    `{"name": "z", "location": {"latitude": 3, "longitude": 3}}]`;
  const columns = scanInChunks(encode(text), 4096);
  assert.ok(columns !== undefined, "the scanner declined it");
  const { db } = buildFeatureDb(columns);
  assert.deepEqual([db.nameAt(0), db.nameAt(1).length, db.nameAt(2)], ["a", 500_000, "z"]);
  assert.equal(db.nameAt(1), long);
  // With chunks larger than the name buffer's piece, each chunk grows the name by more than half
  // the buffer: the buffer must grow to what the name needs, not only by half.
  const huge = "h".repeat(3_000_000);
  const scanner = createFeatureScanner({ chunkBytes: 1 << 20, maxFeatureBytes: 4 << 20 });
  const bytes = encode(`[{"name": "${huge}", "location": {"latitude": 1, "longitude": 1}}]`);
  for (let at = 0; at < bytes.length; at += 1 << 20) {
    const piece = bytes.subarray(at, at + (1 << 20));
    scanner.space().set(piece);
    assert.ok(scanner.add(piece.length));
  }
  assert.equal(buildFeatureDb(scanner.finish()!).db.nameAt(0), huge);
});

Deno.test("the scanner reuses its buffer: it holds the unread part and one chunk, not the file", () => {
  const features = randomFeatures(2000, 5);
  const bytes = encode(JSON.stringify(features));
  const chunk = 1024;
  const scanner = createFeatureScanner({ chunkBytes: chunk });
  // Room for one chunk ("bytes read at a time") is what it offers.
  assert.equal(scanner.space().length, chunk);
  let largest = 0;
  const buffers = new Set<ArrayBufferLike>();
  for (let at = 0; at < bytes.length; at += chunk) {
    const piece = bytes.subarray(at, Math.min(bytes.length, at + chunk));
    const space = scanner.space();
    largest = Math.max(largest, space.buffer.byteLength);
    buffers.add(space.buffer);
    space.set(piece);
    assert.ok(scanner.add(piece.length));
  }
  assert.equal(scanner.finish()?.latitudes.length, 2000);
  // Every feature here is far shorter than a chunk: unread part + a chunk + the end marker.
  assert.ok(largest <= 2 * chunk + 1, `the buffer grew to ${largest} bytes`);
  assert.ok(bytes.length > 50 * chunk);
  // It grows to the longest unread part plus a chunk once, then is reused.
  assert.ok(
    buffers.size <= 10,
    `${buffers.size} buffers for ${Math.ceil(bytes.length / chunk)} chunks`,
  );
});

Deno.test("the scanner takes the size hint of a million-feature file (108 MB)", () => {
  const text = '[{"name": "a", "location": {"latitude": 1, "longitude": 2}}]';
  const scanner = createFeatureScanner({ sizeHint: 108_000_000 });
  const length = new TextEncoder().encodeInto(text, scanner.space()).written;
  assert.ok(scanner.add(length));
  const columns = scanner.finish();
  assert.deepEqual(columns?.latitudes, new Int32Array([1]));
  assert.deepEqual(columns?.longitudes, new Int32Array([2]));
});

Deno.test("the scanner packs plain names into one piece and each other name into its own, with no empty pieces", () => {
  const text = "[" +
    ["a", "b", "é", "ü", "c"].map((name, i) =>
      `{"name": "${name}", "location": {"latitude": ${i}, "longitude": 0}}`
    ).join(",") + "]";
  const names = scanFeatureBytes(encode(text))!.names;
  assert.deepEqual(names.pieces, ["ab", "é", "ü", "c"]);
  assert.deepEqual([...names.pieceStarts], [0, 2, 3, 4]);
  assert.deepEqual([...names.pieceOf], [0, 0, 1, 2, 3]);
  assert.deepEqual([...names.starts], [0, 1, 2, 3, 4, 5]);
  // A special name last: nothing follows it in a piece of its own.
  const last = scanFeatureBytes(
    encode(
      '[{"name": "x", "location": {"latitude": 1, "longitude": 1}},' +
        '{"name": "\\u00e9", "location": {"latitude": 2, "longitude": 2}}]',
    ),
  )!.names;
  assert.deepEqual(last.pieces, ["x", "é"]);
});

Deno.test("the scanner declines a unit that is not a feature even where its buffer starts", () => {
  // Fed so that the second unit starts at the first byte of the scanner's buffer (the bytes
  // before it are read and dropped): `", "location": …}` there is the tail of a feature without
  // its `{"name": "`, and invalid JSON.
  const first = encode('[{"name": "a", "location": {"latitude": 1, "longitude": 2}},');
  const second = encode('", "location": {"latitude": 3, "longitude": 4}}]');
  const scanner = createFeatureScanner({ chunkBytes: 64 });
  for (const piece of [first, second]) {
    scanner.space().set(piece);
    scanner.add(piece.length);
  }
  assert.equal(scanner.finish(), undefined);
  assert.equal(scanFeatureBytes(concatBytes(first, second)), undefined);
});

/** Two byte arrays as one. */
function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
