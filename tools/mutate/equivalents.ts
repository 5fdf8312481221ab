/**
 * Mutants that behave exactly as the original code, so no test can tell
 * them apart. Each is matched by module, mutator, the exact code replaced
 * and the exact replacement; `kind` groups them in docs/mutation.md, which
 * gives the reason for each kind.
 *
 * @module
 */

import type { Equivalent } from "./score.ts";

/** The known equivalent mutants. */
export const EQUIVALENTS: readonly Equivalent[] = [
  // InFlow.consume: `increment` is min(unacked, shortfall) with shortfall > 0 and unacked >= 0
  // (bytes consumed are never negative), so it is 0 or more; for 0, returning early or going
  // on (available += 0, return 0) is the same.
  {
    file: "lib/http2/flow.ts",
    mutator: "ConditionalExpression",
    original: "increment <= 0",
    replacement: "false",
    kind: "guard against a value that cannot occur",
  },
  {
    file: "lib/http2/flow.ts",
    mutator: "EqualityOperator",
    original: "increment <= 0",
    replacement: "increment < 0",
    kind: "guard against a value that cannot occur",
  },
  // At the boundary both branches give the same value.
  // toE7: degrees 0 (or -0) rounds to e7 0, and `e7 !== 0` is false either way.
  {
    file: "lib/core/geo.ts",
    mutator: "EqualityOperator",
    original: "degrees < 0",
    replacement: "degrees <= 0",
    kind: "boundary where both branches agree",
  },
  // saturateInt32: at INT32_MAX exactly, Math.trunc(INT32_MAX) is INT32_MAX.
  {
    file: "lib/core/geo.ts",
    mutator: "EqualityOperator",
    original: "value >= INT32_MAX",
    replacement: "value > INT32_MAX",
    kind: "boundary where both branches agree",
  },
  // routeChat's fast path: a message of n UTF-16 units has at most 3n UTF-8 bytes, so below the
  // limit it skips encoding. Always encoding (true), or encoding at exactly 3n = limit (where the
  // bytes cannot exceed it), gives the same answer, only slower.
  {
    file: "lib/core/handlers.ts",
    mutator: "ConditionalExpression",
    original: "message.length * 3 > maxNoteBytes",
    replacement: "true",
    kind: "fast path: the slow path gives the same answer",
  },
  {
    file: "lib/core/handlers.ts",
    mutator: "EqualityOperator",
    original: "message.length * 3 > maxNoteBytes",
    replacement: "message.length * 3 >= maxNoteBytes",
    kind: "fast path: the slow path gives the same answer",
  },
  // lib/notes/memory.ts. A place already the newest, unlinked and linked again, stays newest.
  {
    file: "lib/notes/memory.ts",
    mutator: "ConditionalExpression",
    original: "place !== newestPlace",
    replacement: "true",
    kind: "fast path: the slow path gives the same answer",
  },
  // The array of notes preallocated or grown as filled: the same array.
  {
    file: "lib/notes/memory.ts",
    mutator: "ArrayDeclaration",
    original: "new Array<RouteNote>(messages.length)",
    replacement: "new Array()",
    kind: "fast path: the slow path gives the same answer",
  },
  // The numeric location key is a fast path beside the string key: any mutant that only sends
  // more locations (or other ones within range) to the string key keys them as well.
  ...[
    [
      "(latitude | 0) !== latitude || (longitude | 0) !== longitude ||\n" +
      "      latitude < -MAX_LATITUDE_E7 || latitude > MAX_LATITUDE_E7",
      "true",
    ],
    ["-MAX_LATITUDE_E7", "+MAX_LATITUDE_E7"],
    ["latitude < -MAX_LATITUDE_E7", "latitude <= -MAX_LATITUDE_E7"],
    ["latitude > MAX_LATITUDE_E7", "latitude >= MAX_LATITUDE_E7"],
  ].map(([original, replacement]) => ({
    file: "lib/notes/memory.ts",
    mutator: replacement === "true"
      ? "ConditionalExpression"
      : replacement.startsWith("+")
      ? "UnaryOperator"
      : "EqualityOperator",
    original,
    replacement,
    kind: "fast path: the slow path gives the same answer",
  })),
  // Offsetting the latitude by -2^30 instead of +2^30 still gives every valid latitude its own
  // high half, and none of them makes a NaN or infinite double.
  {
    file: "lib/notes/memory.ts",
    mutator: "ArithmeticOperator",
    original: "latitude + 2 ** 30",
    replacement: "latitude - 2 ** 30",
    kind: "another encoding as good",
  },
  // close() empties the Map: only memory use shows it (a closed store is not used again).
  {
    file: "lib/notes/memory.ts",
    mutator: "BlockStatement",
    original: "{\n      byKey.clear();…",
    replacement: "{}",
    kind: "memory released",
  },
  {
    file: "lib/notes/memory.ts",
    mutator: "CallExpression",
    original: "byKey.clear();",
    replacement: ";",
    kind: "memory released",
  },
  // lib/grpc/call_registry.ts. A second settle() of a settled call: without the early return it
  // runs #onSettled again, whose delete finds nothing and whose wake-up finds no waiter (they
  // remove themselves, and idle() adds none when nothing is in flight), and it completes nothing.
  {
    file: "lib/grpc/call_registry.ts",
    mutator: "ConditionalExpression",
    original: 'this.#state === "settled"',
    replacement: "false",
    kind: "guard whose absence does nothing twice",
  },
  // A waiter left in the set after it woke: woken again later, resolve() is a no-op; only
  // memory shows it.
  {
    file: "lib/grpc/call_registry.ts",
    mutator: "CallExpression",
    original: "this.#idleWaiters.delete(wake);",
    replacement: ";",
    kind: "memory released",
  },
  // lib/http2/huffman.ts (reasons in docs/mutation.md, by kind).
  {
    file: "lib/http2/huffman.ts",
    mutator: "ArithmeticOperator",
    original: "a - b",
    replacement: "a + b",
    kind: "stable sort tie-break",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "EqualityOperator",
    original: "i < symbols.length",
    replacement: "i <= symbols.length",
    kind: "one step past a typed array's end",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "EqualityOperator",
    original: "symbol < CODE_LENGTHS.length",
    replacement: "symbol <= CODE_LENGTHS.length",
    kind: "one step past a typed array's end",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "EqualityOperator",
    original: "nibble < 16",
    replacement: "nibble <= 16",
    kind: "one step past a typed array's end",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "ArithmeticOperator",
    original: "bytes.length * 8 / 5",
    replacement: "bytes.length * 8 * 5",
    kind: "buffer size or reuse only",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "ConditionalExpression",
    original: "scratch !== undefined && scratch.length >= maxLength",
    replacement: "false",
    kind: "buffer size or reuse only",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "EqualityOperator",
    original: "scratch.length >= maxLength",
    replacement: "scratch.length > maxLength",
    kind: "buffer size or reuse only",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "EqualityOperator",
    original: "length > 24",
    replacement: "length >= 24",
    kind: "fast path: the slow path gives the same answer",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "EqualityOperator",
    original: "pending >= 8",
    replacement: "pending > 8",
    kind: "fast path: the slow path gives the same answer",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "AssignmentOperator",
    original: "acc &= (1 << pending) - 1",
    replacement: "acc |= (1 << pending) - 1",
    kind: "bits that are ones already",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "ConditionalExpression",
    original: "bytes.length <= CHUNK",
    replacement: "false",
    kind: "fast path: the slow path gives the same answer",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "EqualityOperator",
    original: "bytes.length <= CHUNK",
    replacement: "bytes.length < CHUNK",
    kind: "fast path: the slow path gives the same answer",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "BlockStatement",
    original: "{\n    return String.fromCharCode.apply(null, bytes as unknown as number[]);\n  }",
    replacement: "{}",
    kind: "fast path: the slow path gives the same answer",
  },
  {
    file: "lib/http2/huffman.ts",
    mutator: "EqualityOperator",
    original: "i < bytes.length",
    replacement: "i <= bytes.length",
    kind: "one step past a typed array's end",
  },
  // feature_scan.ts: the read buffer's first size. space() grows a buffer without room for a
  // chunk and the end marker before it hands it out, so a smaller first buffer reads the same.
  {
    file: "lib/core/feature_scan.ts",
    mutator: "ArithmeticOperator",
    original: "chunkBytes + 1",
    replacement: "chunkBytes - 1",
    kind: "buffer size or reuse only",
  },
  // feature_scan.ts space(): with nothing read yet (#start 0), moving the unread bytes is a copy onto themselves.
  {
    file: "lib/core/feature_scan.ts",
    mutator: "ConditionalExpression",
    original: "this.#start > 0",
    replacement: "true",
    kind: "buffer size or reuse only",
  },
  {
    file: "lib/core/feature_scan.ts",
    mutator: "EqualityOperator",
    original: "this.#start > 0",
    replacement: "this.#start >= 0",
    kind: "buffer size or reuse only",
  },
  // feature_scan.ts space(): growing also when the room is exactly one chunk: a larger buffer reads the same.
  {
    file: "lib/core/feature_scan.ts",
    mutator: "EqualityOperator",
    original: "this.#buffer.length - 1 - this.#end < this.#chunkBytes",
    replacement: "this.#buffer.length - 1 - this.#end <= this.#chunkBytes",
    kind: "buffer size or reuse only",
  },
  // feature_index.ts (found by planting by hand; not yet reported by a Stryker run): strips of at most 16
  // features instead of at least 16 (sqrt(n)); every query still visits each strip its latitudes touch.
  {
    file: "lib/core/feature_index.ts",
    mutator: "MethodExpression",
    original: "Math.max(16, Math.ceil(Math.sqrt(n)))",
    replacement: "Math.min(16, Math.ceil(Math.sqrt(n)))",
    kind: "buffer size or reuse only",
  },
  // feature_index.ts (planted by hand): the columns sliced even when nothing was dropped, a copy of the same values.
  {
    file: "lib/core/feature_index.ts",
    mutator: "ConditionalExpression",
    original: "size === count",
    replacement: "false",
    kind: "buffer size or reuse only",
  },
  // feature_scan.ts: names not decoded into a piece every 256 KiB but at the end: the names buffer grows to hold them all (memory), the names are the same.
  {
    file: "lib/core/feature_scan.ts",
    mutator: "CallExpression",
    original: "this.#names.flushWhenLarge();",
    replacement: ";",
    kind: "buffer size or reuse only",
  },
  // --- lib/core/feature_index.ts, from the Stryker run of 2026-12-08 (helper killcore) ---
  // buildFeatureDb(): the longitude column left unsliced after duplicates were dropped (or sliced
  // when nothing was). Every reader bounds itself by the latitude column's length (`size`,
  // buildStripIndex's n, the indices it yields): the longer column only keeps the input's memory.
  ...[
    ["ConditionalExpression", "size === count", "true"],
    ["EqualityOperator", "size === count", "size !== count"],
    ["MethodExpression", "longitudes.slice(0, size)", "longitudes"],
    // keptNames(): one name more than the kept features (sourceIndex has count > size entries
    // whenever names are rebuilt); no index past size - 1 is ever asked for.
    ["EqualityOperator", "k < size", "k <= size"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/core/feature_index.ts",
    mutator,
    original,
    replacement,
    kind: "memory released",
  })),
  // One step past a typed array's end: the extra step reads `undefined` (so the loop's other test
  // is false, or a typed array's lookup of the key "undefined" finds nothing and a write there
  // sets a plain property no one reads), writes past the end (ignored), or writes stripStart[strips],
  // which is set to n right after the loop.
  ...[
    ["i < count", "i <= count"], // identity()
    ["i < values.length", "i <= values.length"], // PositionSorter.sort(), keys and positions
    ["d < 65537", "d <= 65537"], // the prefix sums of a pass
    ["k < n", "k <= n"], // buildStripIndex(): stripOf, order, sortedLongitudes
    ["s < strips", "s <= strips"], // buildStripIndex()'s strips; indicesWithin()'s strip loop
  ].map(([original, replacement]) => ({
    file: "lib/core/feature_index.ts",
    mutator: "EqualityOperator",
    original,
    replacement,
    kind: "one step past a typed array's end",
  })),
  // indicesWithin(): at s === strips, stripMinLatitude[s] is undefined and `undefined <= x` is
  // false, so forcing `s < strips` true ends the loop there all the same.
  {
    file: "lib/core/feature_index.ts",
    mutator: "ConditionalExpression",
    original: "s < strips",
    replacement: "true",
    kind: "one step past a typed array's end",
  },
  // PointTable: a table of twice the size when the capacity is a power of two: more empty slots.
  {
    file: "lib/core/feature_index.ts",
    mutator: "EqualityOperator",
    original: "size < capacity * 2",
    replacement: "size <= capacity * 2",
    kind: "buffer size or reuse only",
  },
  // indicesWithin()'s strip pruning: starting at strip 0 (the binary search never moving up), or
  // going on past the last strip whose latitudes touch the range, visits more strips, and each
  // feature is still checked against the latitude range before it is yielded.
  ...[
    ["ConditionalExpression", "stripMaxLatitude[mid] < minLatitude", "false"],
    [
      "LogicalOperator",
      "s < strips && stripMinLatitude[s] <= maxLatitude",
      "s < strips || stripMinLatitude[s] <= maxLatitude",
    ],
    ["ConditionalExpression", "stripMinLatitude[s] <= maxLatitude", "true"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/core/feature_index.ts",
    mutator,
    original,
    replacement,
    kind: "fast path: the slow path gives the same answer",
  })),
  // --- lib/core/feature_scan.ts, planted by hand on 2026-12-08 (helper killcore): the Stryker
  // run had not reached these lines by then. Sizes of buffers and columns only: every buffer grows
  // to what it must hold before it is written (reserve(), space(), #push()).
  ...[
    [
      "MethodExpression",
      "Math.ceil(sizeHint / 96)",
      "Math.floor(sizeHint / 96)",
    ],
    [
      "ArithmeticOperator",
      "bytes.length - nameFrom",
      "bytes.length + nameFrom",
    ],
    [
      "EqualityOperator",
      "this.#length + extra <= this.#bytes.length",
      "this.#length + extra < this.#bytes.length",
    ],
    [
      "ArithmeticOperator",
      "this.#bytes.length * 1.5",
      "this.#bytes.length / 1.5",
    ],
    // A piece cut one byte later: each piece still holds whole names.
    [
      "EqualityOperator",
      "this.#length >= PIECE_BYTES",
      "this.#length > PIECE_BYTES",
    ],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/core/feature_scan.ts",
    mutator,
    original,
    replacement,
    kind: "buffer size or reuse only",
  })),
  // copyPlainString(): a byte 0x80 taken as plain. Any other byte >= 0x80 still makes the name
  // special, so 0x80 here is a lone continuation byte, after ASCII or another 0x80: decoding the
  // piece turns it into one U+FFFD (one UTF-16 unit for its one byte, as the plain path counts),
  // as the special path and decoding the whole file do.
  {
    file: "lib/core/feature_scan.ts",
    mutator: "EqualityOperator",
    original: "b >= 0x80",
    replacement: "b > 0x80",
    kind: "another encoding as good",
  },
  // A position is -1 or just past a pattern, a string or an integer, never 0, in #feature() and
  // integerEnd() (matchPattern()'s own `pos < 0` may see 0 and its `<=` is killed: the match is
  // by code, so this entry covers it too should it ever survive).
  {
    file: "lib/core/feature_scan.ts",
    mutator: "EqualityOperator",
    original: "pos < 0",
    replacement: "pos <= 0",
    kind: "guard against a value that cannot occur",
  },
  // The guards against -1 in matchPattern() and integerEnd(), and #feature()'s after the name and
  // after the longitude: going on from -1 reads bytes[-1], `undefined`, which every pattern's
  // first fixed byte and every digit test refuse (so -1 comes out again); after the name, byte 0
  // of the buffer is where a unit starts (whitespace, `{` or `[`), never the `,` the latitude's
  // pattern needs; after the longitude, the separator read at -1 fails, and nothing is kept.
  // #feature()'s first guard (before the name) is killed: "declines a unit that is not a feature
  // even where its buffer starts".
  {
    file: "lib/core/feature_scan.ts",
    mutator: "ConditionalExpression",
    original: "pos < 0",
    replacement: "false",
    kind: "guard against a value that cannot occur",
  },
  // --- lib/server/listener.ts, planted by hand on 2026-12-08 (helper killcore). sniff(): the
  // first chunk concatenated onto the empty buffer instead of taken as it is: the same bytes.
  {
    file: "lib/server/listener.ts",
    mutator: "ConditionalExpression",
    original: "seen.length === 0",
    replacement: "false",
    kind: "buffer size or reuse only",
  },
  // feature_scan.ts NameBuffer: the count of names pending in the buffer is only compared with 0
  // and set back to 0, so counting down from 0 is as good as counting up.
  {
    file: "lib/core/feature_scan.ts",
    mutator: "UpdateOperator",
    original: "this.#pending++",
    replacement: "this.#pending--",
    kind: "another encoding as good",
  },
];
