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
  const scanner = createFeatureScanner({ chunkBytes: Math.max(1, bytes.length) });
  scanner.space().set(bytes);
  return scanner.add(bytes.length) ? scanner.finish() : undefined;
}

// Bytes of JSON's syntax.
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
// Each key with its quotes, from the opening quote on.
const NAME_KEY = ascii('"name"');
const LOCATION_KEY = ascii('"location"');
const LATITUDE_KEY = ascii('"latitude"');
const LONGITUDE_KEY = ascii('"longitude"');

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
  // The last number read, set by #integer(); the last name, set by #name().
  #value = 0;
  #nameFrom = 0;
  #nameTo = 0;
  #nameText: string | undefined;

  constructor(chunkBytes: number, maxFeatureBytes: number, sizeHint: number) {
    this.#chunkBytes = chunkBytes;
    this.#maxFeatureBytes = maxFeatureBytes;
    this.#buffer = new Uint8Array(chunkBytes);
    this.#bytes = this.#buffer;
    // About 100 bytes a feature in the usual files; the columns grow when needed.
    const guess = Math.max(16, Math.ceil(sizeHint / 96));
    this.#latitudes = new Int32Array(guess);
    this.#longitudes = new Int32Array(guess);
    // Names are about a third of the usual files.
    this.#names = new NameBuffer(Math.max(64, Math.ceil(sizeHint / 3)), guess);
  }

  space(): Uint8Array {
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#buffer.length - this.#end < this.#chunkBytes) {
      const larger = new Uint8Array(this.#end + this.#chunkBytes);
      larger.set(this.#buffer.subarray(0, this.#end));
      this.#buffer = larger;
    }
    return this.#buffer.subarray(this.#end);
  }

  add(length: number): boolean {
    this.#end += length;
    this.#steps();
    // The rest is an unfinished unit, unless it is too long to be one.
    return this.#end - this.#start <= this.#maxFeatureBytes;
  }

  finish(): FeatureColumns | undefined {
    this.#steps();
    this.#bytes = this.#buffer.subarray(0, this.#end);
    this.#pos = this.#start;
    this.#skipSpace();
    if (this.#phase !== AFTER_ARRAY || this.#pos !== this.#end) return undefined;
    const n = this.#count;
    return {
      latitudes: n === this.#latitudes.length ? this.#latitudes : this.#latitudes.slice(0, n),
      longitudes: n === this.#longitudes.length ? this.#longitudes : this.#longitudes.slice(0, n),
      names: this.#names.pack(),
    };
  }

  /** Reads units until the bytes run out (or are not of the usual shape). */
  #steps(): void {
    // Reads past the end find `undefined`, which matches nothing.
    this.#bytes = this.#buffer.subarray(0, this.#end);
    for (;;) {
      this.#pos = this.#start;
      if (this.#phase === BEFORE_ARRAY) {
        if (!this.#opening()) return;
      } else if (this.#phase === IN_ARRAY) {
        if (!this.#feature() || !this.#separator()) return;
        this.#commit();
      } else {
        return;
      }
      this.#start = this.#pos;
    }
  }

  /** `[`, then `]` at once for an empty array. */
  #opening(): boolean {
    if (!this.#byte(OPEN_BRACKET)) return false;
    this.#skipSpace();
    const next = this.#bytes[this.#pos];
    if (next === undefined) return false;
    if (next === CLOSE_BRACKET) {
      this.#pos++;
      this.#phase = AFTER_ARRAY;
    } else {
      this.#phase = IN_ARRAY;
    }
    return true;
  }

  /** `,` or `]` after a feature. */
  #separator(): boolean {
    if (this.#byte(COMMA)) return true;
    if (this.#bytes[this.#pos] !== CLOSE_BRACKET) return false;
    this.#pos++;
    this.#phase = AFTER_ARRAY;
    return true;
  }

  /** `{"name": …, "location": {"latitude": …, "longitude": …}}` */
  #feature(): boolean {
    if (!this.#byte(OPEN_BRACE) || !this.#key(NAME_KEY) || !this.#name()) return false;
    if (!this.#byte(COMMA) || !this.#key(LOCATION_KEY) || !this.#byte(OPEN_BRACE)) {
      return false;
    }
    if (!this.#key(LATITUDE_KEY) || !this.#integer(MAX_LATITUDE_E7)) return false;
    const latitude = this.#value;
    if (!this.#byte(COMMA) || !this.#key(LONGITUDE_KEY)) return false;
    if (!this.#integer(MAX_LONGITUDE_E7)) return false;
    if (!this.#byte(CLOSE_BRACE) || !this.#byte(CLOSE_BRACE)) return false;
    this.#push(latitude, this.#value);
    return true;
  }

  /** Keeps the name of the feature just read (read again if its unit was not complete). */
  #commit(): void {
    const names = this.#names;
    if (this.#nameText === undefined) names.addAscii(this.#bytes, this.#nameFrom, this.#nameTo);
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

  #skipSpace(): void {
    const bytes = this.#bytes;
    let pos = this.#pos;
    for (;;) {
      const b = bytes[pos];
      if (b !== SPACE && b !== NEWLINE && b !== RETURN && b !== TAB) break;
      pos++;
    }
    this.#pos = pos;
  }

  /** Whitespace, then this byte. */
  #byte(expected: number): boolean {
    this.#skipSpace();
    if (this.#bytes[this.#pos] !== expected) return false;
    this.#pos++;
    return true;
  }

  /** Whitespace, the quoted key, whitespace, a colon. */
  #key(key: Uint8Array): boolean {
    this.#skipSpace();
    const bytes = this.#bytes;
    const pos = this.#pos;
    for (let k = 0; k < key.length; k++) if (bytes[pos + k] !== key[k]) return false;
    this.#pos = pos + key.length;
    return this.#byte(COLON);
  }

  /** Whitespace, then a JSON integer within ±limit, left in #value. */
  #integer(limit: number): boolean {
    this.#skipSpace();
    const bytes = this.#bytes;
    let pos = this.#pos;
    const negative = bytes[pos] === MINUS;
    if (negative) pos++;
    const first = pos;
    let value = 0;
    // Ten digits at most: more would be out of range anyway (and leave float64 exactness).
    for (
      let b = bytes[pos];
      b >= ZERO && b <= NINE && pos - first < 10;
      b = bytes[++pos]
    ) {
      value = value * 10 + (b - ZERO);
    }
    const digits = pos - first;
    // JSON forbids leading zeros; "-0" is left to the general parser too.
    if (digits === 0 || (bytes[first] === ZERO && (digits > 1 || negative))) return false;
    if (value > limit) return false;
    this.#value = negative ? -value : value;
    this.#pos = pos;
    return true;
  }

  /** Whitespace, then a JSON string, appended to the names. */
  #name(): boolean {
    this.#skipSpace();
    const bytes = this.#bytes;
    if (bytes[this.#pos] !== QUOTE) return false;
    const start = this.#pos + 1;
    let plain = true;
    let pos = start;
    for (let b = bytes[pos]; b !== QUOTE; b = bytes[++pos]) {
      // Control characters must be escaped in JSON (and `undefined` past the end fails here too).
      if (!(b >= SPACE)) return false;
      if (b === BACKSLASH) return this.#escapedName(start);
      if (b >= 0x80) plain = false;
    }
    this.#nameFrom = start;
    this.#nameTo = pos;
    this.#nameText = plain ? undefined : new TextDecoder().decode(bytes.subarray(start, pos));
    this.#pos = pos + 1;
    return true;
  }

  /** A string with escapes, from the byte after its opening quote, read by `JSON.parse`. */
  #escapedName(start: number): boolean {
    const bytes = this.#bytes;
    let pos = start;
    for (let b = bytes[pos]; b !== QUOTE; b = bytes[++pos]) {
      if (!(b >= SPACE)) return false;
      if (b === BACKSLASH) pos++;
    }
    let name: unknown;
    try {
      name = JSON.parse(new TextDecoder().decode(bytes.subarray(start - 1, pos + 1)));
    } catch {
      return false;
    }
    this.#nameText = name as string;
    this.#pos = pos + 1;
    return true;
  }
}

function grown(column: Int32Array): Int32Array {
  const larger = new Int32Array(column.length * 2);
  larger.set(column);
  return larger;
}

/**
 * Names collected as bytes, decoded once at the end: one string for all
 * of them and their offsets, instead of a string each. Names that are
 * not plain ASCII are stored as the UTF-8 of their decoded text, so the
 * buffer is always valid UTF-8 and offsets can be counted in UTF-16 units.
 */
class NameBuffer {
  #bytes: Uint8Array;
  #length = 0;
  // Byte offset where each name ends.
  #ends: Uint32Array;
  #count = 0;
  #ascii = true;

  constructor(capacity: number, count: number) {
    this.#bytes = new Uint8Array(capacity);
    this.#ends = new Uint32Array(count);
  }

  addAscii(source: Uint8Array, from: number, to: number): void {
    const length = this.#length;
    this.#reserve(to - from);
    // A loop, not set(subarray()): names are short, and a view each costs more.
    const bytes = this.#bytes;
    for (let k = from; k < to; k++) bytes[length + k - from] = source[k];
    this.#end(length + to - from);
  }

  addString(name: string): void {
    const encoded = new TextEncoder().encode(name);
    this.#reserve(encoded.length);
    this.#bytes.set(encoded, this.#length);
    if (encoded.length !== name.length) this.#ascii = false;
    this.#end(this.#length + encoded.length);
  }

  pack(): PackedNames {
    const bytes = this.#bytes.subarray(0, this.#length);
    const text = new TextDecoder().decode(bytes);
    const starts = new Uint32Array(this.#count + 1);
    if (this.#ascii) {
      starts.set(this.#ends.subarray(0, this.#count), 1);
    } else {
      utf16Offsets(bytes, this.#ends, starts);
    }
    return { text, starts };
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const larger = new Uint8Array(Math.max(this.#bytes.length * 1.5, this.#length + extra) | 0);
    larger.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = larger;
  }

  #end(length: number): void {
    if (this.#count === this.#ends.length) {
      const larger = new Uint32Array(this.#ends.length * 2);
      larger.set(this.#ends);
      this.#ends = larger;
    }
    this.#length = length;
    this.#ends[this.#count++] = length;
  }
}

/** Converts byte end offsets in valid UTF-8 into UTF-16 start offsets (`starts[i + 1]` is name i's end). */
function utf16Offsets(bytes: Uint8Array, ends: Uint32Array, starts: Uint32Array): void {
  let units = 0;
  let pos = 0;
  for (let i = 0; i + 1 < starts.length; i++) {
    const end = ends[i];
    for (; pos < end; pos++) {
      const b = bytes[pos];
      // A lead byte starts a character: four-byte ones are two UTF-16 units.
      if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
    }
    starts[i + 1] = units;
  }
}
