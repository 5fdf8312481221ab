/**
 * A fast reader for feature files of the usual shape: it scans the file's
 * bytes, a chunk at a time, straight into columns, without decoding the
 * file into one string or building an object per feature (at a million
 * features, 108 MB of text and a million objects). Anything else, or
 * anything invalid, is left to the general path (`JSON.parse`, then
 * `createFeatureDb`), which gives the same database and the same error
 * messages.
 *
 * @module
 */

import type { FeatureColumns, PackedNames } from "./feature_index.ts";
import { MAX_LATITUDE_E7, MAX_LONGITUDE_E7 } from "./geo.ts";

/** Reads a feature file fed to it in chunks; see {@linkcode createFeatureScanner}. */
export interface FeatureScanner {
  /** Where to put the next bytes of the file (a view of the scanner's buffer). */
  space(): Uint8Array;
  /**
   * Takes the `length` bytes just written into {@linkcode FeatureScanner.space}
   * and reads every complete feature in them. `false`: the file is not of
   * the usual shape (stop feeding it and use the general parser).
   */
  add(length: number): boolean;
  /** At the end of the file: the features, or `undefined` when it is not of the usual shape. */
  finish(): FeatureColumns | undefined;
}

/** Options of {@linkcode createFeatureScanner}. */
export interface FeatureScannerOptions {
  /**
   * Bytes read at a time. Small, so that the buffer is reused rather than
   * the whole file held in fresh memory (touching 108 MB of new pages costs
   * more than scanning them).
   * @default 65536
   */
  chunkBytes?: number;
  /**
   * Longest feature (with the whitespace around it) the scanner waits for;
   * a longer one is left to the general parser.
   * @default 1048576
   */
  maxFeatureBytes?: number;
  /**
   * The file's size when known, to size the columns once.
   * @default 0
   */
  sizeHint?: number;
}

/**
 * A scanner for a JSON array of `{"name": STRING, "location": {"latitude":
 * INT, "longitude": INT}}` objects: keys in that order, any JSON whitespace
 * between tokens, every point in range. For anything else (other key
 * orders, missing or extra keys, numbers with a fraction or exponent,
 * invalid JSON or points) it answers "not the usual shape", and the caller
 * reads the file with `parseFeatureDb`, which accepts or rejects it with
 * its own message.
 *
 * @example
 * ```ts
 * import { createFeatureScanner } from "./feature_scan.ts";
 * import assert from "node:assert/strict";
 * const scanner = createFeatureScanner();
 * const text = '[{"name": "Origin", "location": {"latitude": 0, "longitude": 0}}]';
 * const length = new TextEncoder().encodeInto(text, scanner.space()).written;
 * assert.ok(scanner.add(length));
 * assert.deepEqual(scanner.finish()?.latitudes, new Int32Array([0]));
 * ```
 */
export function createFeatureScanner(options: FeatureScannerOptions = {}): FeatureScanner {
  return new ChunkScanner(
    options.chunkBytes ?? 65536,
    options.maxFeatureBytes ?? 1048576,
    options.sizeHint ?? 0,
  );
}

/**
 * Reads whole bytes at once with a {@linkcode createFeatureScanner} scanner:
 * the columns, or `undefined` when the bytes are not of the usual shape.
 */
export function scanFeatureBytes(bytes: Uint8Array): FeatureColumns | undefined {
  const scanner = createFeatureScanner({
    chunkBytes: Math.max(1, bytes.length),
    maxFeatureBytes: bytes.length,
  });
  scanner.space().set(bytes);
  return scanner.add(bytes.length) ? scanner.finish() : undefined;
}

// Bytes of JSON's syntax.
const SENTINEL = 0;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;

/** Marks where a pattern allows JSON whitespace. */
const ANY_SPACE = 0;
/** A pattern of fixed bytes, with {@linkcode ANY_SPACE} for each space between two tokens. */
const pattern = (text: string) =>
  Uint8Array.from(text, (c) => c === " " ? ANY_SPACE : c.charCodeAt(0));
// A feature is these patterns, a string after the first, an integer after the second and third.
const BEFORE_NAME = pattern(' { "name" : "');
const BEFORE_LATITUDE = pattern(' , "location" : { "latitude" : ');
const BEFORE_LONGITUDE = pattern(' , "longitude" : ');
const AFTER_LONGITUDE = pattern(" } }");

/** Where the scanner is in the file's grammar. */
const BEFORE_ARRAY = 0;
const IN_ARRAY = 1;
const AFTER_ARRAY = 2;

/**
 * The scanner: a buffer holding the unread part of the file; each step
 * reads one unit (the array's opening, or one feature with the comma or
 * bracket after it) and is retried with more bytes when the buffer ends
 * inside it. `false` from a parsing method means "not here": too few bytes
 * so far, or not the usual shape.
 */
class ChunkScanner implements FeatureScanner {
  readonly #chunkBytes: number;
  readonly #maxFeatureBytes: number;
  #buffer: Uint8Array;
  // The unread bytes are #buffer[#start, #end).
  #start = 0;
  #end = 0;
  #phase = BEFORE_ARRAY;
  #bytes: Uint8Array;
  #pos = 0;
  #count = 0;
  #latitudes: Int32Array;
  #longitudes: Int32Array;
  #names: NameBuffer;
  // The last name: its length, copied to the end of #names, or its text when it had escapes or
  // non-ASCII bytes.
  #nameLength = 0;
  #nameText: string | undefined;

  constructor(chunkBytes: number, maxFeatureBytes: number, sizeHint: number) {
    this.#chunkBytes = chunkBytes;
    this.#maxFeatureBytes = maxFeatureBytes;
    // One byte more than a chunk, for the sentinel.
    this.#buffer = new Uint8Array(chunkBytes + 1);
    this.#bytes = this.#buffer;
    // About 100 bytes a feature in the usual files; the columns grow when needed.
    const guess = Math.max(16, Math.ceil(sizeHint / 96));
    this.#latitudes = new Int32Array(guess);
    this.#longitudes = new Int32Array(guess);
    this.#names = new NameBuffer(PIECE_BYTES + chunkBytes, guess);
  }

  space(): Uint8Array {
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#buffer.length - 1 - this.#end < this.#chunkBytes) {
      const larger = new Uint8Array(this.#end + this.#chunkBytes + 1);
      larger.set(this.#buffer.subarray(0, this.#end));
      this.#buffer = larger;
    }
    return this.#buffer.subarray(this.#end, this.#buffer.length - 1);
  }

  add(length: number): boolean {
    this.#end += length;
    this.#steps();
    // The rest is an unfinished unit, unless it is too long to be one.
    return this.#end - this.#start <= this.#maxFeatureBytes;
  }

  finish(): FeatureColumns | undefined {
    this.#steps();
    const rest = skipSpace(this.#bytes, this.#start);
    if (this.#phase !== AFTER_ARRAY || rest !== this.#end) return undefined;
    const n = this.#count;
    // Views, not copies: the pages past the end were never written, so they take no memory.
    return {
      latitudes: this.#latitudes.subarray(0, n),
      longitudes: this.#longitudes.subarray(0, n),
      names: this.#names.pack(),
    };
  }

  /** Reads units until the bytes run out (or are not of the usual shape). */
  #steps(): void {
    // A zero byte after the bytes read so far matches nothing, so every step fails there (as it
    // does at a zero byte inside the file, which is never valid JSON) and no read goes past the
    // end: an out-of-bounds read makes V8 recompile every load for `undefined` (measured at a
    // million features: 600 ms of CPU for the scan instead of 270-450 ms).
    this.#buffer[this.#end] = SENTINEL;
    this.#bytes = this.#buffer.subarray(0, this.#end + 1);
    for (;;) {
      this.#pos = this.#start;
      if (this.#phase === BEFORE_ARRAY) {
        if (!this.#opening()) return;
      } else if (this.#phase === IN_ARRAY) {
        if (!this.#feature() || !this.#separator()) break;
        this.#commit();
      } else {
        break;
      }
      this.#start = this.#pos;
    }
    this.#names.flushWhenLarge();
  }

  /** `[`, then `]` at once for an empty array. */
  #opening(): boolean {
    const bytes = this.#bytes;
    let pos = skipSpace(bytes, this.#pos);
    if (bytes[pos] !== OPEN_BRACKET) return false;
    pos = skipSpace(bytes, pos + 1);
    const next = bytes[pos];
    if (next === SENTINEL) return false;
    if (next === CLOSE_BRACKET) {
      pos++;
      this.#phase = AFTER_ARRAY;
    } else {
      this.#phase = IN_ARRAY;
    }
    this.#pos = pos;
    return true;
  }

  /** `,` or `]` after a feature. */
  #separator(): boolean {
    const bytes = this.#bytes;
    const pos = skipSpace(bytes, this.#pos);
    if (bytes[pos] === COMMA) {
      this.#pos = pos + 1;
      return true;
    }
    if (bytes[pos] !== CLOSE_BRACKET) return false;
    this.#pos = pos + 1;
    this.#phase = AFTER_ARRAY;
    return true;
  }

  /**
   * `{"name": …, "location": {"latitude": …, "longitude": …}}`. Positions
   * stay in locals and every helper is a plain function of (bytes, position),
   * so the whole feature compiles into one loop body.
   */
  #feature(): boolean {
    const bytes = this.#bytes;
    let pos = matchPattern(bytes, this.#pos, BEFORE_NAME);
    if (pos < 0) return false;
    const nameFrom = pos;
    // Copied while it is checked; kept only if the whole feature is read.
    const names = this.#names;
    names.reserve(bytes.length - nameFrom);
    pos = copyPlainString(bytes, nameFrom, names.bytes, names.length);
    this.#nameText = undefined;
    if (pos === SPECIAL) pos = this.#specialName(nameFrom);
    if (pos < 0) return false;
    this.#nameLength = pos - nameFrom;
    const latitudeFrom = matchPattern(bytes, pos + 1, BEFORE_LATITUDE);
    pos = integerEnd(bytes, latitudeFrom);
    const longitudeFrom = matchPattern(bytes, pos, BEFORE_LONGITUDE);
    pos = matchPattern(bytes, integerEnd(bytes, longitudeFrom), AFTER_LONGITUDE);
    if (pos < 0) return false;
    const latitude = integerValue(bytes, latitudeFrom);
    const longitude = integerValue(bytes, longitudeFrom);
    if (Math.abs(latitude) > MAX_LATITUDE_E7 || Math.abs(longitude) > MAX_LONGITUDE_E7) {
      return false;
    }
    this.#push(latitude, longitude);
    this.#pos = pos;
    return true;
  }

  /** Keeps the name of the feature just read (read again if its unit was not complete). */
  #commit(): void {
    const names = this.#names;
    if (this.#nameText === undefined) names.addCopied(this.#nameLength);
    else names.addString(this.#nameText);
    this.#count++;
  }

  #push(latitude: number, longitude: number): void {
    const n = this.#count;
    if (n === this.#latitudes.length) {
      this.#latitudes = grown(this.#latitudes);
      this.#longitudes = grown(this.#longitudes);
    }
    this.#latitudes[n] = latitude;
    this.#longitudes[n] = longitude;
  }

  /**
   * A string with escapes or non-ASCII bytes, from the byte after its
   * opening quote: decoded (invalid UTF-8 replaced, as decoding the whole
   * file would) and read by `JSON.parse`, kept in #nameText. Returns the
   * closing quote's position, or -1.
   */
  #specialName(start: number): number {
    const bytes = this.#bytes;
    let pos = start;
    for (let b = bytes[pos]; b !== QUOTE; b = bytes[++pos]) {
      // Control characters must be escaped in JSON (and the sentinel stops here too).
      if (!(b >= SPACE)) return -1;
      if (b === BACKSLASH) pos++;
    }
    try {
      this.#nameText = JSON.parse(new TextDecoder().decode(bytes.subarray(start - 1, pos + 1)));
    } catch {
      return -1;
    }
    return pos;
  }
}

/** Bytes of names decoded into one piece of the packed names. */
const PIECE_BYTES = 256 * 1024;

/** What {@linkcode copyPlainString} returns for a string with escapes or non-ASCII bytes. */
const SPECIAL = -2;

/** The position after whitespace from `pos` (-1 stays -1). */
function skipSpace(bytes: Uint8Array, pos: number): number {
  let b = bytes[pos];
  while (b === SPACE || b === NEWLINE || b === RETURN || b === TAB) b = bytes[++pos];
  return pos;
}

/** The position after `pattern` at `pos` (any whitespace where it has {@linkcode ANY_SPACE}), or -1. */
function matchPattern(bytes: Uint8Array, pos: number, pattern: Uint8Array): number {
  if (pos < 0) return -1;
  for (let k = 0; k < pattern.length; k++) {
    const expected = pattern[k];
    if (expected === ANY_SPACE) {
      let b = bytes[pos];
      while (b === SPACE || b === NEWLINE || b === RETURN || b === TAB) b = bytes[++pos];
    } else if (bytes[pos] === expected) {
      pos++;
    } else {
      return -1;
    }
  }
  return pos;
}

/**
 * The closing quote's position of a string of printable ASCII without
 * escapes from `pos` (after the opening quote), copied to `out` from
 * `outPos` on; {@linkcode SPECIAL} for other strings, -1 for a control
 * character or the end of the bytes.
 */
function copyPlainString(bytes: Uint8Array, pos: number, out: Uint8Array, outPos: number): number {
  for (let b = bytes[pos]; b !== QUOTE; b = bytes[++pos]) {
    if (b < SPACE) return -1;
    if (b === BACKSLASH || b >= 0x80) return SPECIAL;
    out[outPos++] = b;
  }
  return pos;
}

/**
 * The position after a JSON integer at `pos`, or -1. Leading zeros are
 * invalid JSON, and "-0" is left to the general parser; so are a fraction
 * or an exponent, as the pattern after the number does not match them.
 * Too many digits are caught by the range check on the value.
 */
function integerEnd(bytes: Uint8Array, pos: number): number {
  if (pos < 0) return -1;
  const negative = bytes[pos] === MINUS;
  const first = negative ? pos + 1 : pos;
  let end = first;
  for (let b = bytes[end]; b >= ZERO && b <= NINE; b = bytes[++end]);
  if (end === first || (bytes[first] === ZERO && (end - first > 1 || negative))) return -1;
  return end;
}

/** The value of the integer at `from`, as {@linkcode integerEnd} found it. */
function integerValue(bytes: Uint8Array, from: number): number {
  const negative = bytes[from] === MINUS;
  let pos = negative ? from + 1 : from;
  let value = 0;
  for (let b = bytes[pos]; b >= ZERO && b <= NINE; b = bytes[++pos]) value = value * 10 + b - ZERO;
  return negative ? -value : value;
}

function grown(column: Int32Array): Int32Array {
  const larger = new Int32Array(column.length * 2);
  larger.set(column);
  return larger;
}

/**
 * Names collected as ASCII bytes in a small buffer, decoded every 256 KiB
 * into a piece of the packed names (no string per name, no fresh memory
 * for a buffer of them all). A name with escapes or other characters comes
 * as a string: it ends the piece before it and is a piece of its own, so
 * every name is kept exactly as `JSON.parse` gives it, lone surrogates
 * included.
 */
class NameBuffer {
  #bytes: Uint8Array;
  #length = 0;
  // Names in the buffer (some may be empty).
  #pending = 0;
  readonly #pieces: string[] = [];
  readonly #pieceStarts: number[] = [];
  // Per name: its piece, and where it ends in the sequence of all names (UTF-16 units).
  #pieceOf: Uint32Array;
  #ends: Uint32Array;
  #count = 0;
  #units = 0;

  constructor(capacity: number, count: number) {
    this.#bytes = new Uint8Array(capacity);
    this.#pieceOf = new Uint32Array(count);
    this.#ends = new Uint32Array(count);
  }

  /** The buffer, to copy a name to its end (after {@linkcode NameBuffer.reserve}). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Bytes in use: where the next name goes. */
  get length(): number {
    return this.#length;
  }

  /** Keeps the `length` ASCII bytes copied to the end of the buffer as the next name. */
  addCopied(length: number): void {
    this.#length += length;
    this.#pending++;
    this.#end(length);
  }

  /** Adds a name that is not plain ASCII. */
  addString(name: string): void {
    this.flush();
    this.#end(name.length);
    this.#pieceStarts.push(this.#units - name.length);
    this.#pieces.push(name);
  }

  pack(): PackedNames {
    this.flush();
    const n = this.#count;
    const starts = new Uint32Array(n + 1);
    starts.set(this.#ends.subarray(0, n), 1);
    return {
      pieces: this.#pieces,
      pieceStarts: Uint32Array.from(this.#pieceStarts),
      // A view, not a copy: the pages past the end were never written.
      pieceOf: this.#pieceOf.subarray(0, n),
      starts,
    };
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const larger = new Uint8Array(Math.max(this.#bytes.length * 1.5, this.#length + extra) | 0);
    larger.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = larger;
  }

  /**
   * Ends the piece once it is large enough to be allocated straight in
   * V8's large-object space (above 128 KiB), where no young-generation
   * collection copies it. The buffer stays small and is reused: fresh
   * memory costs a page fault a page.
   */
  flushWhenLarge(): void {
    if (this.#length >= PIECE_BYTES) this.flush();
  }

  /** Ends the piece of the names in the buffer. */
  flush(): void {
    if (this.#pending === 0) return;
    this.#pending = 0;
    this.#pieceStarts.push(this.#units - this.#length);
    this.#pieces.push(new TextDecoder().decode(this.#bytes.subarray(0, this.#length)));
    this.#length = 0;
  }

  /** Ends a name of `units` UTF-16 units, in the piece being built. */
  #end(units: number): void {
    if (this.#count === this.#ends.length) {
      this.#ends = grownUint32(this.#ends);
      this.#pieceOf = grownUint32(this.#pieceOf);
    }
    this.#units += units;
    this.#pieceOf[this.#count] = this.#pieces.length;
    this.#ends[this.#count++] = this.#units;
  }
}

function grownUint32(array: Uint32Array): Uint32Array {
  const larger = new Uint32Array(array.length * 2);
  larger.set(array);
  return larger;
}
