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
  // lib/web/bridge.ts. The abort listener: an AbortSignal fires 'abort' once, so `once` only
  // lets go of the listener sooner. (`once: false` is as equivalent, but not listed: matched by
  // its code, `true` → `false`, the entry would also hide six real mutants of the module.)
  {
    file: "lib/web/bridge.ts",
    mutator: "ObjectLiteral",
    original: "{ once: true }",
    replacement: "{}",
    kind: "memory released",
  },
  // resume() while flowing: the body is read already (or there is none) and is never paused
  // while flowing (only #deliver pauses it, when not flowing), so resumeBody() and a second
  // #deliver() (nothing waits; 'end' is emitted once) do nothing.
  {
    file: "lib/web/bridge.ts",
    mutator: "ConditionalExpression",
    original: "this.#flowing",
    replacement: "false",
    kind: "guard whose absence does nothing twice",
  },
  // #enqueue: a message grpc-js's envelope came with is queued as that envelope; built anew
  // from the message, it is the same five-byte prefix and the same bytes.
  {
    file: "lib/web/bridge.ts",
    mutator: "ConditionalExpression",
    original: "framed !== undefined",
    replacement: "false",
    kind: "fast path: the slow path gives the same answer",
  },
  {
    file: "lib/web/bridge.ts",
    mutator: "BlockStatement",
    original:
      "{\n      this.#queue.push(Buffer.from(framed.buffer, framed.byteOffset, framed.byteLength));…",
    replacement: "{}",
    kind: "fast path: the slow path gives the same answer",
  },
  // #deliver: one waiting envelope emitted as it is, or copied by Buffer.concat: the same bytes.
  {
    file: "lib/web/bridge.ts",
    mutator: "ConditionalExpression",
    original: "queue.length === 1",
    replacement: "false",
    kind: "fast path: the slow path gives the same answer",
  },
  // #deliver: after its loop, flowing and not closed, the queue is always empty (the loop only
  // stops then when it is).
  {
    file: "lib/web/bridge.ts",
    mutator: "ConditionalExpression",
    original: "this.#queue.length === 0",
    replacement: "true",
    kind: "guard against a value that cannot occur",
  },
  // lib/web/compression.ts. pickEncoding: an empty entry ("gzip,,br") skipped or rated under
  // the name "": only "*", "gzip" and "br" are ever read from the ratings.
  {
    file: "lib/web/compression.ts",
    mutator: "ConditionalExpression",
    original: 'name === ""',
    replacement: "false",
    kind: "entry never read",
  },
  // compress: brotli at its default quality (11) instead of 4, without the size hint: other
  // bytes, as valid, that decompress to the same message; only CPU time and size differ.
  {
    file: "lib/web/compression.ts",
    mutator: "ObjectLiteral",
    original: "{\n    params: {…",
    replacement: "{}",
    kind: "compression effort only",
  },
  {
    file: "lib/web/compression.ts",
    mutator: "ObjectLiteral",
    original: "{\n      // Quality 11, the default…",
    replacement: "{}",
    kind: "compression effort only",
  },
  // lib/web/connect.ts. The unary decoder: a body of one piece used as it is, or copied by
  // Buffer.concat: the same bytes.
  {
    file: "lib/web/connect.ts",
    mutator: "ConditionalExpression",
    original: "pieces.length === 1",
    replacement: "false",
    kind: "fast path: the slow path gives the same answer",
  },
  // lib/web/cors.ts. With "*" the set of allowed origins is never read (allowOrigin answers "*"
  // first), so what it holds then does not matter.
  {
    file: "lib/web/cors.ts",
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: '["Stryker was here"]',
    kind: "entry never read",
  },
  // lib/web/handler.ts. A POST's query is not parsed: negotiate() reads the query only for a GET
  // (Connect GET), so parsing it for a POST as well changes nothing.
  {
    file: "lib/web/handler.ts",
    mutator: "ConditionalExpression",
    original: 'exchange.method === "POST"',
    replacement: "false",
    kind: "fast path: the slow path gives the same answer",
  },
  // Static files for GET and HEAD only: the static-files handler refuses any other method
  // itself (returns false), which gets the same 404.
  ...[
    'exchange.method !== "GET" && exchange.method !== "HEAD"',
    'exchange.method !== "GET"',
    'exchange.method !== "HEAD"',
  ]
    .map((original) => ({
      file: "lib/web/handler.ts",
      mutator: "ConditionalExpression",
      original,
      replacement: "false",
      kind: "guard repeated where it is needed",
    })),
  // serveRpc: a decoder made for a method the table does not know: grpc-js answers such a call
  // `unimplemented` from its headers, before any body is read, so the decoder never runs.
  {
    file: "lib/web/handler.ts",
    mutator: "ConditionalExpression",
    original: "method === undefined",
    replacement: "false",
    kind: "guard repeated where it is needed",
  },
  // lib/web/grpc_web.ts, Base64Stream.push. Whitespace removed run by run or one by one: the
  // same text. The loop one step past the end, or treating every group as a segment's end:
  // 4-character groups decode on their own, so the bytes are the same. The third clause of the
  // padding check is dead there (text[at + 3] is "=" when it runs; "AB=A" is refused by the
  // check after the loop). A last empty segment, or one part copied by Buffer.concat: the same.
  ...[
    ["Regex", "/\\s+/g", "/\\s/g"],
    ["EqualityOperator", "at < text.length", "at <= text.length"],
    ["ConditionalExpression", 'text[at + 3] !== "="', "false"],
    [
      "ConditionalExpression",
      'text[at + 2] === "=" && text[at + 3] !== "="',
      "false",
    ],
    ["ConditionalExpression", 'text[at + 2] === "="', "true"],
    ["EqualityOperator", 'text[at + 2] === "="', 'text[at + 2] !== "="'],
    ["ArithmeticOperator", "at + 2", "at - 2"],
    ["EqualityOperator", "start < text.length", "start <= text.length"],
    ["ConditionalExpression", "start < text.length", "true"],
    ["ConditionalExpression", "parts.length === 1", "false"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/web/grpc_web.ts",
    mutator,
    original,
    replacement,
    kind: "fast path: the slow path gives the same answer",
  })),
  // The plain OK trailers block made once, or built each time: the same bytes.
  ...[
    ["ConditionalExpression", "isPlainOk(status, trailers)", "false"],
    ["BlockStatement", "{\n  if (status.code !== Status.OK…", "{}"],
    [
      "ConditionalExpression",
      'status.code !== Status.OK || status.message !== "" || status.detailsBin !== undefined',
      "true",
    ],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/web/grpc_web.ts",
    mutator,
    original,
    replacement,
    kind: "fast path: the slow path gives the same answer",
  })),
  // lib/web/from_http2.ts. Our HTTP/2 server gives a field as an array only when it is
  // repeated, and String() of two or more values has a comma, which the digits-only pattern
  // refuses: the typeof check changes nothing.
  {
    file: "lib/web/from_http2.ts",
    mutator: "ConditionalExpression",
    original: 'typeof connect === "string"',
    replacement: "true",
    kind: "guard repeated where it is needed",
  },
  // write() on an ended or closed stream: the transport drops bytes for a stream that is
  // ending or gone and still calls their done (the wrapper drops its error), and returns true.
  ...[
    ["ConditionalExpression", "ended || stream.closed", "false"],
    ["LogicalOperator", "ended || stream.closed", "ended && stream.closed"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/web/from_http2.ts",
    mutator,
    original,
    replacement,
    kind: "guard repeated where it is needed",
  })),
  // end(): an empty last chunk written (an empty DATA frame), or the end sent as an empty
  // trailer section: the same response in HTTP terms (RFC 9113 §8.1; RFC 9110 §6.5).
  ...[
    ["ConditionalExpression", "chunk.length > 0", "true"],
    ["EqualityOperator", "chunk.length > 0", "chunk.length >= 0"],
    ["ConditionalExpression", "trailers === undefined", "false"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/web/from_http2.ts",
    mutator,
    original,
    replacement,
    kind: "the same message on the wire in other frames",
  })),
  // plainHeaders: our HTTP/2 server never gives a header an undefined value (it builds the
  // object from the decoded fields).
  {
    file: "lib/web/from_http2.ts",
    mutator: "ConditionalExpression",
    original: "value === undefined",
    replacement: "false",
    kind: "guard against a value that cannot occur",
  },
  // lib/http1/exchange.ts. resumeBody() when not paused: one more pump of a connection that is
  // pumping already reads nothing new.
  {
    file: "lib/http1/exchange.ts",
    mutator: "ConditionalExpression",
    original: "!this.#paused",
    replacement: "false",
    kind: "guard whose absence does nothing twice",
  },
  // lib/web/status_details.ts. connectDetailsFromStatusBin: without the early return for a
  // value that is not base64, reading `undefined` throws inside the try, whose catch gives the
  // same [].
  {
    file: "lib/web/status_details.ts",
    mutator: "ConditionalExpression",
    original: "bytes === undefined",
    replacement: "false",
    kind: "guard repeated where it is needed",
  },
  // decodeBase64: the pattern admits "=" only at the end, so stripping the first run of "=" is
  // stripping the last; stripping one "=" of "==" lets a 4k+1 length through this check, but
  // the padded length is then 4k+3, refused by the next one.
  ...["/=+/", "/=$/"].map((replacement) => ({
    file: "lib/web/status_details.ts",
    mutator: "Regex",
    original: "/=+$/",
    replacement,
    kind: "guard repeated where it is needed",
  })),
  // lib/web/static_files.ts. The root's path is resolved by Deno.realPath, which drops trailing
  // slashes itself; the extension regex is greedy from the start either way; with the `s`
  // flag `.*` reaches the end either way.
  ...[
    ["/\\/+$/", "/\\/$/"],
    ["/^.*\\./", "/.*\\./"],
    ["/[?#].*$/s", "/[?#].*/s"],
  ].map(([original, replacement]) => ({
    file: "lib/web/static_files.ts",
    mutator: "Regex",
    original,
    replacement,
    kind: "guard repeated where it is needed",
  })),
  // Any read error (not only NotFound) forgetting the root's resolved path: it is resolved
  // again on the next request, to the same path.
  {
    file: "lib/web/static_files.ts",
    mutator: "ConditionalExpression",
    original: "error instanceof Deno.errors.NotFound",
    replacement: "true",
    kind: "fast path: the slow path gives the same answer",
  },
  // The ETag is an opaque validator (RFC 9110 §8.8.3): the whole SHA-256 or its first 22
  // characters identify the file as well.
  {
    file: "lib/web/static_files.ts",
    mutator: "MethodExpression",
    original: 'createHash("sha256").update(body).digest("base64url").slice(0, 22)',
    replacement: 'createHash("sha256").update(body).digest("base64url")',
    kind: "another encoding as good",
  },
];
