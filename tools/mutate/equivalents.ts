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
  // lib/http2/connection.ts, frames.ts, hpack.ts (reasons by kind in docs/mutation.md). Each
  // was a survivor of the 2026-12-08 run that no test can kill; the others got tests.
  // validName/validValue: charCodeAt one past a string's end is NaN, which fails every test.
  ...[
    ["i < name.length", "i <= name.length"],
    ["i < n", "i <= n"],
  ].map(([original, replacement]) => ({
    file: "lib/http2/connection.ts",
    mutator: "EqualityOperator",
    original,
    replacement,
    kind: "one step past a string's end",
  })),
  // validValue(""): first and last are NaN, the loop runs no turn: true either way.
  {
    file: "lib/http2/connection.ts",
    mutator: "ConditionalExpression",
    original: "n === 0",
    replacement: "false",
    kind: "fast path: the slow path gives the same answer",
  },
  // receive(): a read that only ends the preface has no frames after it and no stream lingers
  // yet; the whole read as a view of itself is the same bytes; no lingering stream, nothing to stop.
  ...[
    ["ConditionalExpression", "at === bytes.length", "false", undefined],
    [
      "ConditionalExpression",
      "at === 0",
      "false",
      "this.#reader.push(at === 0",
    ],
    ["ConditionalExpression", "this.#lingering.size > 0", "true", undefined],
    [
      "EqualityOperator",
      "this.#lingering.size > 0",
      "this.#lingering.size >= 0",
      undefined,
    ],
    ["ConditionalExpression", "events.length === 0", "false", undefined],
    ["ConditionalExpression", "done.length > 0", "true", undefined],
    ["EqualityOperator", "done.length > 0", "done.length >= 0", undefined],
    ["ConditionalExpression", "chunk.at === 0", "true", undefined],
    ["EqualityOperator", "chunk.at === 0", "chunk.at !== 0", undefined],
  ].map(([mutator, original, replacement, line]) => ({
    file: "lib/http2/connection.ts",
    mutator: mutator!,
    original: original!,
    replacement: replacement!,
    ...(line === undefined ? {} : { line }),
    kind: "fast path: the slow path gives the same answer",
  })),
  // The output buffer: replaced after a flush when large (or always, or never), grown at an
  // exact fit or to just what is needed: the same bytes go out.
  ...[
    ["ConditionalExpression", "this.#out.length > OUTPUT_KEEP", "true"],
    ["ConditionalExpression", "this.#out.length > OUTPUT_KEEP", "false"],
    [
      "EqualityOperator",
      "this.#out.length > OUTPUT_KEEP",
      "this.#out.length <= OUTPUT_KEEP",
    ],
    [
      "EqualityOperator",
      "this.#out.length > OUTPUT_KEEP",
      "this.#out.length >= OUTPUT_KEEP",
    ],
    [
      "EqualityOperator",
      "needed <= this.#out.length",
      "needed < this.#out.length",
    ],
    ["ArithmeticOperator", "this.#out.length * 2", "this.#out.length / 2"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/http2/connection.ts",
    mutator,
    original,
    replacement,
    kind: "buffer size or reuse only",
  })),
  // Stream errors never reach receive()'s catch: #onFrame turns them into RST_STREAM. The
  // connection window cannot be overrun: the connection gives back what it received at once, at
  // half the window (so more than 32,767 bytes stay open) and frames are at most 16,384 bytes.
  // The HPACK decoder throws nothing but HpackErrors (tests/http2/hpack_test.ts fuzzes it).
  ...[
    ["ConditionalExpression", "error.streamId === undefined", "true"],
    [
      "BlockStatement",
      "{\n      throw new Http2Error(\n        ErrorCode.FLOW_CONTROL_ERROR,\n        `a DATA frame of ${frame.length} bytes over the connection's…",
      "{}",
    ],
    [
      "CallExpression",
      "throw new Http2Error(\n        ErrorCode.FLOW_CONTROL_ERROR,\n        `a DATA frame of ${frame.length} bytes over the connection's…",
      ";",
    ],
    ["ConditionalExpression", "error instanceof HpackError", "true"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/http2/connection.ts",
    mutator,
    original,
    replacement,
    ...(original === "error.streamId === undefined"
      ? {
        line: "if (error instanceof Http2Error && error.streamId === undefined)",
      }
      : {}),
    kind: "guard against a value that cannot occur",
  })),
  // consumed() returns at once for 0 bytes.
  {
    file: "lib/http2/connection.ts",
    mutator: "EqualityOperator",
    original: "padding > 0",
    replacement: "padding >= 0",
    kind: "guard repeated by the callee",
  },
  // The last case of a switch: returning or falling out of the switch ends the same way.
  ...[
    "default:\n          return;",
    "default:\n          // MAX_CONCURRENT_STREAMS…",
  ].map((
    original,
  ) => ({
    file: "lib/http2/connection.ts",
    mutator: "ConditionalExpression",
    original,
    replacement: "default:",
    kind: "the last case of a switch falling out of it",
  })),
  // A stream's record after the connection failed (no frame is read again), and a new stream's
  // waitForTrailers, which respond() sets before anything reads it.
  {
    file: "lib/http2/connection.ts",
    mutator: "BooleanLiteral",
    original: "true",
    replacement: "false",
    line: "code: ErrorCode.CANCEL, byPeer: false, resetByUs: true",
    kind: "a value never read",
  },
  {
    file: "lib/http2/connection.ts",
    mutator: "BooleanLiteral",
    original: "false",
    replacement: "true",
    line: "waitForTrailers: false,",
    kind: "a value never read",
  },
  // Streams woken with nothing to send: the scheduler drops them (queued 0, not ending, or
  // waiting for trailers already asked for); a closed stream left in the set likewise (#close
  // zeroes its queue and it is no longer open). Its emptied queue is not read again.
  ...[
    [
      "ConditionalExpression",
      "stream.queued > 0 || stream.ending",
      "true",
      undefined,
    ],
    [
      "EqualityOperator",
      "stream.queued > 0",
      "stream.queued >= 0",
      "if (stream.queued > 0 || stream.ending)",
    ],
    [
      "ConditionalExpression",
      "stream.queued > 0",
      "true",
      "if (stream.queued > 0) this.#ready",
    ],
    [
      "EqualityOperator",
      "stream.queued > 0",
      "stream.queued >= 0",
      "if (stream.queued > 0) this.#ready",
    ],
    ["CallExpression", "this.#ready.delete(stream);", ";", undefined],
    ["ArrayDeclaration", "[]", '["Stryker was here"]', "stream.queue = [];"],
  ].map(([mutator, original, replacement, line]) => ({
    file: "lib/http2/connection.ts",
    mutator: mutator!,
    original: original!,
    replacement: replacement!,
    ...(line === undefined ? {} : { line }),
    kind: "memory released",
  })),
  // A stream whose data ran out stays for one more pass of the same call, where it ends: its
  // END_STREAM or trailers may follow another stream's DATA instead of preceding it, an order
  // RFC 9113 leaves free (frames of different streams interleave as they may, §5).
  ...[["ConditionalExpression", "true"], [
    "EqualityOperator",
    "stream.queued >= 0",
  ]].map((
    [mutator, replacement],
  ) => ({
    file: "lib/http2/connection.ts",
    mutator,
    original: "stream.queued > 0",
    replacement,
    line: "if (stream.queued > 0) continue;",
    kind: "another order as good",
  })),
  // frames.ts FrameReader: one read alone is copied as if joined to nothing pending; a header
  // of which only a few bytes came is read (a frame too long is the same error, sooner); an
  // empty rest kept is only an empty array in the pending list.
  ...[
    [
      "ConditionalExpression",
      "this.#pendingBytes > 0",
      "true",
      "fast path: the slow path gives the same answer",
    ],
    [
      "EqualityOperator",
      "this.#pendingBytes > 0",
      "this.#pendingBytes >= 0",
      "fast path: the slow path gives the same answer",
    ],
    [
      "ArithmeticOperator",
      "buffer.length - at",
      "buffer.length + at",
      "the same error, sooner",
    ],
    ["ConditionalExpression", "at < buffer.length", "true", "memory released"],
    [
      "EqualityOperator",
      "at < buffer.length",
      "at <= buffer.length",
      "memory released",
    ],
  ].map(([mutator, original, replacement, kind]) => ({
    file: "lib/http2/frames.ts",
    mutator,
    original,
    replacement,
    ...(original === "buffer.length - at"
      ? { line: "while (buffer.length - at >= FRAME_HEADER_BYTES)" }
      : {}),
    kind,
  })),
  // hpack.ts: the dynamic table's ring buffer starting at 0 slots (it doubles from 1 as entries
  // come: still a power of two), the decoder's scratch buffer and the encoder's output buffer
  // sized otherwise; #grow copying one entry past the end into the slot written next; isLatin1
  // one step past its string's end; #forget finding a name's map, which is there for every entry
  // in the table (added with it, dropped only when it holds no value), and keeping an empty one.
  ...[
    [
      "ArrayDeclaration",
      "new Array(16)",
      "new Array()",
      "buffer size or reuse only",
    ],
    [
      "EqualityOperator",
      "i < this.#count",
      "i <= this.#count",
      "a slot written before it is read",
    ],
    [
      "ConditionalExpression",
      "maxLength <= MAX_SCRATCH",
      "true",
      "buffer size or reuse only",
    ],
    [
      "EqualityOperator",
      "maxLength <= MAX_SCRATCH",
      "maxLength < MAX_SCRATCH",
      "buffer size or reuse only",
    ],
    [
      "EqualityOperator",
      "maxLength <= MAX_SCRATCH",
      "maxLength > MAX_SCRATCH",
      "buffer size or reuse only",
    ],
    [
      "ConditionalExpression",
      "this.#scratch.length < maxLength && maxLength <= MAX_SCRATCH",
      "false",
      "buffer size or reuse only",
    ],
    [
      "LogicalOperator",
      "this.#scratch.length < maxLength && maxLength <= MAX_SCRATCH",
      "this.#scratch.length < maxLength || maxLength <= MAX_SCRATCH",
      "buffer size or reuse only",
    ],
    [
      "BlockStatement",
      "{\n      this.#scratch = new Uint8Array(Math.min(maxLength * 2, MAX_SCRATCH));\n    }",
      "{}",
      "buffer size or reuse only",
    ],
    [
      "ArithmeticOperator",
      "maxLength * 2",
      "maxLength / 2",
      "buffer size or reuse only",
    ],
    [
      "MethodExpression",
      "Math.min(maxLength * 2, MAX_SCRATCH)",
      "Math.max(maxLength * 2, MAX_SCRATCH)",
      "buffer size or reuse only",
    ],
    [
      "EqualityOperator",
      "this.offset + n <= this.bytes.length",
      "this.offset + n < this.bytes.length",
      "buffer size or reuse only",
    ],
    [
      "ArithmeticOperator",
      "this.bytes.length * 2",
      "this.bytes.length / 2",
      "buffer size or reuse only",
    ],
    [
      "EqualityOperator",
      "i < text.length",
      "i <= text.length",
      "one step past a string's end",
    ],
    ["ConditionalExpression", "values.size === 0", "false", "memory released"],
    // No (name, value) pair occurs twice in RFC 7541's static table (Appendix A).
    [
      "ConditionalExpression",
      "!entry.values.has(value)",
      "true",
      "guard against a value that cannot occur",
    ],
    [
      "OptionalChaining",
      "values?.get",
      "values.get",
      "guard against a value that cannot occur",
    ],
  ].map(([mutator, original, replacement, kind]) => ({
    file: "lib/http2/hpack.ts",
    mutator,
    original,
    replacement,
    kind,
  })),
  // lib/http2/server.ts (reasons by kind in docs/mutation.md).
  ...[
    // headerList: String() of a string is the string; splicing at the end is pushing.
    [
      "ConditionalExpression",
      'typeof value === "string"',
      "false",
      "fast path: the slow path gives the same answer",
    ],
    [
      "ConditionalExpression",
      "pseudo === out.length",
      "false",
      "fast path: the slow path gives the same answer",
    ],
    ["EqualityOperator", "i < value.length", "i <= value.length", "one step past a string's end"],
    // Deleting a header that is not there.
    [
      "ConditionalExpression",
      'headers["routeguide-web-protocol"] !== undefined',
      "true",
      "fast path: the slow path gives the same answer",
    ],
    // The sweep: a deadline met exactly is met at the next sweep, set for that same time (a
    // millisecond later at most); watchDeadlines(Infinity) returns at once.
    [
      "EqualityOperator",
      "stream.grpcDeadline <= now",
      "stream.grpcDeadline < now",
      "the same, a moment later",
    ],
    [
      "EqualityOperator",
      "stream.resetAt <= now",
      "stream.resetAt < now",
      "the same, a moment later",
    ],
    ["ConditionalExpression", "next !== Infinity", "true", "guard repeated by the callee"],
    ["EqualityOperator", "at >= this.#sweepAt", "at > this.#sweepAt", "the same, a moment later"],
    // A timer not cleared sweeps once more and finds nothing new; a timer of 0, or of more than
    // 2^31 - 1 ms (which fires at once), sweeps again until the time due: the same outcome, polled.
    ["CallExpression", "clearTimeout(this.#sweepTimer);", ";", "a timer that finds nothing to do"],
    [
      "CallExpression",
      "clearTimeout(this.#settingsTimer);",
      ";",
      "a timer that finds nothing to do",
    ],
    [
      "MethodExpression",
      "Math.max(0, at - Date.now())",
      "Math.min(0, at - Date.now())",
      "the same outcome, polled",
    ],
    ["ArithmeticOperator", "at - Date.now()", "at + Date.now()", "the same outcome, polled"],
    // Deno's timers have unref(): the ?. is for runtimes whose timers do not.
    ...["this.#settingsTimer", "this.#sweepTimer", "timer"].map((timer) => [
      "OptionalChaining",
      `(${timer} as { unref?: () => void }).unref?.()`,
      `(${timer} as {\n  unref?: () => void;\n}).unref()`,
      "a guard for other runtimes",
    ]),
    // After a failed write the socket is gone: whether its output counts as sent, no more is sent.
    ["ConditionalExpression", "error == null", "true", "a value never read"],
    // Data and wantTrailers events name open streams, which the session has.
    [
      "OptionalChaining",
      "this.#streams.get(event.streamId)?.pushData",
      "this.#streams.get(event.streamId).pushData",
      "guard against a value that cannot occur",
    ],
    [
      "OptionalChaining",
      "this.#streams.get(event.streamId)?.emit",
      "this.#streams.get(event.streamId).emit",
      "guard against a value that cannot occur",
    ],
    // A failed connection's socket is ended by #flush, which #process schedules after its events.
    ["CallExpression", "this.#endSocket();", ";", "guard repeated by the caller"],
    [
      "ConditionalExpression",
      'case "closed":\n        this.#endSocket();\n        return;',
      'case "closed":',
      "guard repeated by the caller",
    ],
    // Flushes scheduled more than once a turn: the later ones find nothing to write.
    [
      "ConditionalExpression",
      "this.#flushScheduled",
      "false",
      "fast path: the slow path gives the same answer",
    ],
    // After destroy() the socket is ended and not writable: a flush writes nothing; a second
    // destroy() ends nothing more. The sweep sees only open streams; closeWith() is called once
    // per stream (the session forgets a stream as it closes it).
    [
      "ConditionalExpression",
      "this.#destroyed",
      "false",
      "guard repeated by the callee",
      "if (this.#destroyed) return;",
    ],
    [
      "ConditionalExpression",
      "streams.length === 0",
      "false",
      "fast path: the slow path gives the same answer",
    ],
    [
      "ConditionalExpression",
      "callbacks.length === 0",
      "false",
      "fast path: the slow path gives the same answer",
    ],
    // After the socket's close: maps emptied only to free memory.
    ["CallExpression", "this.#streams.clear();", ";", "memory released"],
    ["CallExpression", "this.#pings.clear();", ";", "memory released"],
    // destroy() of a closed stream: reset() of a stream not open does nothing; resume() when
    // flowing: the delivery it schedules finds what the flow delivers anyway.
    ["ConditionalExpression", "!this.#closed", "true", "guard repeated by the callee"],
    [
      "ConditionalExpression",
      "this.#flowing",
      "false",
      "fast path: the slow path gives the same answer",
      "if (this.#flowing) return this;",
    ],
    // The sweep sees only the streams the session holds, which are open.
    [
      "ConditionalExpression",
      "this.#closed",
      "false",
      "guard against a value that cannot occur",
      "if (this.#closed) return;",
    ],
    // A stream listed twice for delivery: the second delivery finds its buffer empty.
    [
      "ConditionalExpression",
      "this.#buffer.length === 0",
      "true",
      "fast path: the slow path gives the same answer",
      "if (this.#buffer.length === 0 && !this.#arrived)",
    ],
    [
      "ConditionalExpression",
      "this.#buffer.length === 0 && !this.#arrived",
      "true",
      "fast path: the slow path gives the same answer",
    ],
  ].map(([mutator, original, replacement, kind, line]) => ({
    file: "lib/http2/server.ts",
    mutator,
    original,
    replacement,
    ...(line === undefined ? {} : { line }),
    kind,
  })),
  // #flush: concatenating with an empty list, or onto an empty one, gives the same callbacks.
  ...[
    ["ConditionalExpression", "due.length === 0", "false"],
    ["ConditionalExpression", "more.length > 0", "true"],
    ["EqualityOperator", "more.length > 0", "more.length >= 0"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/http2/server.ts",
    mutator,
    original,
    replacement,
    // Not `if (due.length === 0) due = NO_CALLBACKS;`, whose mutant a test kills.
    line: "if (more.length > 0) due = due.length === 0 ? more : due.concat(more);",
    kind: "fast path: the slow path gives the same answer",
  })),
  // After the socket's close no 'drain' comes: the emptied list is only memory.
  {
    file: "lib/http2/server.ts",
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: '["Stryker was here"]',
    line: "this.#waitingForDrain = [];",
    kind: "memory released",
  },
  // deliverArrived: #deliverBuffered checks the flow itself, and nothing delivers while a
  // delivery runs (a 'data' listener cannot make the socket's data arrive within it); after its
  // loop, a flowing stream's buffer is empty; one piece is one copy as several are.
  ...[
    ["ConditionalExpression", "this.#flowing && !this.#delivering", "true"],
    ["LogicalOperator", "this.#flowing && !this.#delivering", "this.#flowing || !this.#delivering"],
    ["ConditionalExpression", "buffer.length === 1", "false"],
  ].map(([mutator, original, replacement]) => ({
    file: "lib/http2/server.ts",
    mutator,
    original,
    replacement,
    kind: "guard repeated by the callee",
  })),
  {
    file: "lib/http2/server.ts",
    mutator: "ConditionalExpression",
    original: "this.#buffer.length === 0",
    replacement: "true",
    line: "if (this.#flowing && this.#buffer.length === 0 && this.#remoteEnded)",
    kind: "guard repeated by the callee",
  },
  {
    file: "lib/http2/server.ts",
    mutator: "BooleanLiteral",
    original: "true",
    replacement: "false",
    line: "this.#delivering = true;",
    kind: "guard against a value that cannot occur",
  },
  {
    file: "lib/http2/server.ts",
    mutator: "BooleanLiteral",
    original: "true",
    replacement: "false",
    line: "this.#flushScheduled = true;",
    kind: "fast path: the slow path gives the same answer",
  },
  {
    file: "lib/http2/server.ts",
    mutator: "BooleanLiteral",
    original: "true",
    replacement: "false",
    line: "this.#arrived = true;",
    kind: "fast path: the slow path gives the same answer",
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
