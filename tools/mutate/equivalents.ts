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
  // lib/http1/exchange.ts. resumeBody() without a pause: pump() again parses only what the
  // exchange wants (nothing more than the last pump left), and is a no-op while pumping.
  {
    file: "lib/http1/exchange.ts",
    mutator: "ConditionalExpression",
    original: "!this.#paused",
    replacement: "false",
    kind: "guard whose absence does nothing twice",
  },
  // end(chunk) with an empty chunk: writing it queues no byte (a content-length body takes 0
  // bytes, a chunked one queues nothing, since an empty chunk would read as the last).
  {
    file: "lib/http1/exchange.ts",
    mutator: "ConditionalExpression",
    original: "chunk.length > 0",
    replacement: "true",
    kind: "guard whose absence does nothing twice",
  },
  {
    file: "lib/http1/exchange.ts",
    mutator: "EqualityOperator",
    original: "chunk.length > 0",
    replacement: "chunk.length >= 0",
    kind: "guard whose absence does nothing twice",
  },
  // lib/http1/parser.ts. Every step returns the offset after what it took (a line's LF + 1, at +
  // n with n >= 1 body bytes, at + 1 for a chunk's CR or LF) or -1, never 0: `< 0` and `<= 0`,
  // `>= 0` and `> 0` agree on every value that occurs.
  {
    file: "lib/http1/parser.ts",
    mutator: "EqualityOperator",
    original: "at < 0",
    replacement: "at <= 0",
    kind: "guard against a value that cannot occur",
  },
  {
    file: "lib/http1/parser.ts",
    mutator: "EqualityOperator",
    original: "next >= 0",
    replacement: "next > 0",
    kind: "guard against a value that cannot occur",
  },
  {
    file: "lib/http1/parser.ts",
    mutator: "EqualityOperator",
    original: "next < 0",
    replacement: "next <= 0",
    kind: "guard against a value that cannot occur",
  },
  // receive(): only Http1ParseError can come out of parsing a Uint8Array (the one input the type
  // allows); no other error exists to be kept, or not, as the failure.
  {
    file: "lib/http1/parser.ts",
    mutator: "ConditionalExpression",
    original: "error instanceof Http1ParseError",
    replacement: "true",
    kind: "guard against a value that cannot occur",
  },
  // #headers' first value: #onRequestLine() sets a fresh array before any field is read. (The
  // other `[]` of this module, events and framing lists, are killed.)
  {
    file: "lib/http1/parser.ts",
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: '["Stryker was here"]',
    kind: "guard against a value that cannot occur",
  },
  // A Buffer's plain view made for a plain Uint8Array too: the same bytes, one object more.
  {
    file: "lib/http1/parser.ts",
    mutator: "ConditionalExpression",
    original: "Object.getPrototypeOf(bytes) === Uint8Array.prototype",
    replacement: "false",
    kind: "buffer size or reuse only",
  },
  // #takeLine(): a line complete in one read copied through the line buffer anyway; the buffer
  // grown one step early, or only to the size needed: the same bytes, more copying.
  {
    file: "lib/http1/parser.ts",
    mutator: "ConditionalExpression",
    original: "this.#lineLength === 0",
    replacement: "false",
    kind: "buffer size or reuse only",
  },
  {
    file: "lib/http1/parser.ts",
    mutator: "EqualityOperator",
    original: "need > this.#line.length",
    replacement: "need >= this.#line.length",
    kind: "buffer size or reuse only",
  },
  {
    file: "lib/http1/parser.ts",
    mutator: "ArithmeticOperator",
    original: "this.#line.length * 2",
    replacement: "this.#line.length / 2",
    kind: "buffer size or reuse only",
  },
  // An empty line before its LF: its last byte (undefined) is not CR either, and the bare-LF
  // error follows all the same. An empty Transfer-Encoding list: its last element (undefined)
  // is not "chunked" either, the same error.
  {
    file: "lib/http1/parser.ts",
    mutator: "ConditionalExpression",
    original: "line.length === 0",
    replacement: "false",
    kind: "guard whose absence does nothing twice",
  },
  {
    file: "lib/http1/parser.ts",
    mutator: "ConditionalExpression",
    original: "list.length === 0",
    replacement: "false",
    kind: "guard whose absence does nothing twice",
  },
  // The absolute-form target's `$`: the target is checked to be visible ASCII (no line
  // terminator), so `(.*)` takes the rest of it with or without the anchor.
  {
    file: "lib/http1/parser.ts",
    mutator: "Regex",
    original: "/^https?:\\/\\/([^/?]*)(.*)$/i",
    replacement: "/^https?:\\/\\/([^/?]*)(.*)/i",
    kind: "guard against a value that cannot occur",
  },
  // lib/http1/response.ts latin1Bytes(): the extra step writes NaN at the typed array's length,
  // which a typed array ignores.
  {
    file: "lib/http1/response.ts",
    mutator: "EqualityOperator",
    original: "i < text.length",
    replacement: "i <= text.length",
    kind: "one step past a typed array's end",
  },
  // lib/http1/server.ts #flush() on a closed connection: #onClose() has run every waiting done
  // and nothing queues one after it (the exchange's write() returns early once its signal
  // aborted); without the early return the bytes go to a destroyed socket, which drops them.
  // (Its `done();` → `;` is not listed: the same text elsewhere in the module is killed.)
  {
    file: "lib/http1/server.ts",
    mutator: "BlockStatement",
    original: "{\n      for (const done of dones) done();\n      return;\n    }",
    replacement: "{}",
    kind: "guard whose absence does nothing twice",
  },
  // timedOut(): the sweep calls it only for a connection due; one due by its own timer with an
  // exchange still set is ending after a finished or aborted exchange, whose expire() does
  // nothing, so expiring it "always" changes nothing. At now === expireAt exactly, `<` skips it
  // and the sweep sets the timer for that same time (0 ms): it fires one timer turn later.
  {
    file: "lib/http1/server.ts",
    mutator: "ConditionalExpression",
    original: "exchange.expireAt <= now",
    replacement: "true",
    kind: "guard against a value that cannot occur",
  },
  {
    file: "lib/http1/server.ts",
    mutator: "EqualityOperator",
    original: "exchange.expireAt <= now",
    replacement: "exchange.expireAt < now",
    kind: "boundary where both branches agree",
  },
  // The sweep: the earliest time due found with `<=` is the same time; #watch(Infinity) returns
  // at once (Infinity is never earlier than the timer set); the Date text made again within its
  // second is the same text.
  {
    file: "lib/http1/server.ts",
    mutator: "EqualityOperator",
    original: "after < next",
    replacement: "after <= next",
    kind: "boundary where both branches agree",
  },
  {
    file: "lib/http1/server.ts",
    mutator: "ConditionalExpression",
    original: "next !== Infinity",
    replacement: "true",
    kind: "guard whose absence does nothing twice",
  },
  {
    file: "lib/http1/server.ts",
    mutator: "ConditionalExpression",
    original: "second !== this.#dateSecond",
    replacement: "true",
    kind: "fast path: the slow path gives the same answer",
  },
  // start(): every socket accept() takes (node:net's and node:tls's) has setNoDelay, so `?.`
  // never skips it. (Its `true` → `false`, Nagle on: only a latency, is not listed: the
  // module's other `true` → `false` mutants have the same text.)
  {
    file: "lib/http1/server.ts",
    mutator: "OptionalChaining",
    original: "socket.setNoDelay?.(true)",
    replacement: "socket.setNoDelay(true)",
    kind: "guard against a value that cannot occur",
  },
  // mayKeepAlive(): outside a Content-Length body `left` is undefined, and `undefined > n` is
  // false: the undefined check only says so aloud.
  {
    file: "lib/http1/server.ts",
    mutator: "ConditionalExpression",
    original: "left !== undefined",
    replacement: "true",
    kind: "guard whose absence does nothing twice",
  },
  {
    file: "lib/http1/server.ts",
    mutator: "ConditionalExpression",
    original: "!exchange.requestEnded && left !== undefined",
    replacement: "true",
    kind: "guard whose absence does nothing twice",
  },
];
