/**
 * HPACK header compression for HTTP/2 (RFC 7541): a decoder and an encoder,
 * each owning one direction's dynamic table.
 *
 * Pure: bytes in, header fields out (and back); no I/O, no timers, no
 * grpc-js. Header names and values are latin1 ("binary") strings: one UTF-16
 * code unit per octet, so `string.length` is the field's length in octets, as
 * the table size arithmetic (§4.1) needs. gRPC metadata is ASCII, and `-bin`
 * values travel base64-encoded, so nothing is lost; a caller wanting UTF-8
 * text converts it itself. The decoder does not lowercase or validate names:
 * that is HTTP/2's job (RFC 9113 §8.2), with a different error.
 *
 * @module
 */

import {
  type ByteSink,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  HuffmanError,
  latin1Decode,
} from "./huffman.ts";

/** One header field: [name, value]. Names are lowercase bytes as received (decoder does not lowercase). */
export type HeaderField = [name: string, value: string];

/** Thrown for any malformed header block (RFC 7541 §2-§6); maps to HTTP/2 COMPRESSION_ERROR. */
export class HpackError extends Error {
  /** Names the error. */
  override name = "HpackError";
}

/** Options of {@linkcode HpackDecoder}. */
export interface HpackDecoderOptions {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the most the peer may set its dynamic table to. @default {4096} */
  maxTableSize?: number;
  /** Decoded header list size (RFC 9113 §6.5.2: sum of name+value+32) above which decode throws HeaderListTooLargeError (after still decoding the whole block so the table stays in sync). @default {Infinity} */
  maxHeaderListSize?: number;
}

/** Thrown by {@linkcode HpackDecoder.decode} when the header list is larger than `maxHeaderListSize`; the table is still in sync. */
export class HeaderListTooLargeError extends Error {
  /** Names the error. */
  override name = "HeaderListTooLargeError";
  /** The decoded header list size (RFC 9113 §6.5.2) in octets. */
  readonly size: number;
  /** The limit it exceeded. */
  readonly limit: number;

  /** Makes the error for a list of `size` octets over `limit`. */
  constructor(size: number, limit: number) {
    super(`Header list size ${size} exceeds the limit of ${limit} octets`);
    this.size = size;
    this.limit = limit;
  }
}

/** Options of {@linkcode HpackEncoder}. */
export interface HpackEncoderOptions {
  /** The most dynamic table the encoder uses, whatever the peer allows. @default {4096} */
  maxTableSize?: number;
  /** Header names whose fields are sent as never-indexed literals (§7.1.3), e.g. `authorization`. @default {[]} */
  sensitive?: readonly string[];
}

/** The protocol's initial SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). */
const DEFAULT_TABLE_SIZE = 4096;
/** Per-entry overhead in the table size (§4.1). */
const ENTRY_OVERHEAD = 32;
/** The bits that start a representation (§6) or string (§5.2), and how many bits of its first octet an integer gets. */
interface Prefix {
  flags: number;
  bits: number;
}
const INDEXED: Prefix = { flags: 0x80, bits: 7 };
const WITH_INDEXING: Prefix = { flags: 0x40, bits: 6 };
const WITHOUT_INDEXING: Prefix = { flags: 0x00, bits: 4 };
const NEVER_INDEXED: Prefix = { flags: 0x10, bits: 4 };
const SIZE_UPDATE: Prefix = { flags: 0x20, bits: 5 };
const RAW_STRING: Prefix = { flags: 0x00, bits: 7 };
const HUFFMAN_STRING: Prefix = { flags: 0x80, bits: 7 };

/** Largest scratch buffer a decoder keeps between strings. */
const MAX_SCRATCH = 64 * 1024;
/** What a decoder holds between blocks instead of the last one. */
const NO_BLOCK = new Uint8Array(0);
/** Largest integer the decoder accepts: nothing in HTTP/2 needs more than 2^31 - 1. */
const MAX_INTEGER = 2 ** 31 - 1;

/** The static table (RFC 7541 Appendix A); index 1 is STATIC_TABLE[0]. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];
const STATIC_COUNT = STATIC_TABLE.length;

/** Static table lookup for the encoder: name → its first index and the index of each value it has. */
const STATIC_INDEX: ReadonlyMap<string, { index: number; values: ReadonlyMap<string, number> }> =
  (() => {
    const map = new Map<string, { index: number; values: Map<string, number> }>();
    STATIC_TABLE.forEach(([name, value], i) => {
      let entry = map.get(name);
      if (entry === undefined) map.set(name, entry = { index: i + 1, values: new Map() });
      if (!entry.values.has(value)) entry.values.set(value, i + 1);
    });
    return map;
  })();

/**
 * A dynamic table (§2.3.2, §4): a ring buffer, newest entry at index 0, so
 * that inserting and evicting are O(1) (amortized over the rare growth).
 * `inserted` counts every entry ever added, giving each one a stable id.
 */
class DynamicTable {
  #names: string[] = new Array(16);
  #values: string[] = new Array(16);
  #oldest = 0; // slot of the oldest entry
  #count = 0;
  #size = 0;
  #capacity: number;
  #inserted = 0;
  #onEvict?: (id: number, entry: HeaderField) => void;

  constructor(capacity: number, onEvict?: (id: number, entry: HeaderField) => void) {
    this.#capacity = capacity;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#size;
  }
  get count(): number {
    return this.#count;
  }
  get capacity(): number {
    return this.#capacity;
  }
  /** Ids of entries run from `inserted - count` (oldest) to `inserted - 1` (newest). */
  get inserted(): number {
    return this.#inserted;
  }

  /** Name of entry `i` (0 = newest); `i` must be below `count`. */
  name(i: number): string {
    return this.#names[(this.#oldest + this.#count - 1 - i) & (this.#names.length - 1)];
  }
  /** Value of entry `i` (0 = newest). */
  value(i: number): string {
    return this.#values[(this.#oldest + this.#count - 1 - i) & (this.#names.length - 1)];
  }

  /** Adds an entry, evicting old ones to make room; an entry larger than the table empties it (§4.4). */
  add(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    this.#evictTo(this.#capacity - entrySize);
    if (entrySize > this.#capacity) return;
    if (this.#count === this.#names.length) this.#grow();
    const slot = (this.#oldest + this.#count) & (this.#names.length - 1);
    this.#names[slot] = name;
    this.#values[slot] = value;
    this.#count++;
    this.#size += entrySize;
    this.#inserted++;
  }

  /** Changes the capacity, evicting entries that no longer fit (§4.3). */
  setCapacity(capacity: number): void {
    this.#capacity = capacity;
    this.#evictTo(capacity);
  }

  #evictTo(size: number): void {
    while (this.#count > 0 && this.#size > size) {
      const slot = this.#oldest;
      const name = this.#names[slot];
      const value = this.#values[slot];
      this.#names[slot] = this.#values[slot] = "";
      this.#size -= name.length + value.length + ENTRY_OVERHEAD;
      this.#oldest = (slot + 1) & (this.#names.length - 1);
      this.#count--;
      this.#onEvict?.(this.#inserted - this.#count - 1, [name, value]);
    }
  }

  #grow(): void {
    const length = this.#names.length;
    const names: string[] = new Array(length * 2);
    const values: string[] = new Array(length * 2);
    for (let i = 0; i < this.#count; i++) {
      names[i] = this.#names[(this.#oldest + i) & (length - 1)];
      values[i] = this.#values[(this.#oldest + i) & (length - 1)];
    }
    this.#names = names;
    this.#values = values;
    this.#oldest = 0;
  }

  entries(): HeaderField[] {
    return Array.from({ length: this.#count }, (_, i) => [this.name(i), this.value(i)]);
  }
}

/**
 * Decodes header blocks from one peer, keeping its dynamic table.
 *
 * @example
 * ```ts
 * import { HpackDecoder } from "./hpack.ts";
 * const decoder = new HpackDecoder();
 * decoder.decode(new Uint8Array([0x82, 0x86, 0x84])); // [[":method", "GET"], [":scheme", "http"], [":path", "/"]]
 * ```
 */
export class HpackDecoder {
  #table: DynamicTable;
  #maxTableSize: number;
  #maxHeaderListSize: number;
  #scratch: Uint8Array = new Uint8Array(256);
  #block: Uint8Array = NO_BLOCK;
  #offset = 0;

  /** Makes a decoder whose dynamic table starts at `maxTableSize`. */
  constructor(options: HpackDecoderOptions = {}) {
    const { maxTableSize = DEFAULT_TABLE_SIZE, maxHeaderListSize = Infinity } = options;
    if (!Number.isInteger(maxTableSize) || maxTableSize < 0 || maxTableSize > 2 ** 32 - 1) {
      throw new RangeError(
        `Cannot create HpackDecoder: maxTableSize must be an integer in [0, 2^32 - 1]: current value is ${maxTableSize}`,
      );
    }
    if (!(maxHeaderListSize >= 0)) {
      throw new RangeError(
        `Cannot create HpackDecoder: maxHeaderListSize must not be negative: current value is ${maxHeaderListSize}`,
      );
    }
    this.#maxTableSize = maxTableSize;
    this.#maxHeaderListSize = maxHeaderListSize;
    this.#table = new DynamicTable(maxTableSize);
  }

  /** Current size of the dynamic table in octets (§4.1), for tests and diagnostics. */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Current maximum size of the dynamic table, as last set by the peer (§4.2). */
  get tableCapacity(): number {
    return this.#table.capacity;
  }

  /** A copy of the dynamic table, newest entry first (index 62 first). */
  tableEntries(): HeaderField[] {
    return this.#table.entries();
  }

  /** Decodes one complete header block (HEADERS+CONTINUATION fragments already joined). Throws HpackError on malformed input. */
  decode(block: Uint8Array): HeaderField[] {
    this.#block = block;
    this.#offset = 0;
    try {
      return this.#decodeFields();
    } finally {
      this.#block = NO_BLOCK;
    }
  }

  #decodeFields(): HeaderField[] {
    const block = this.#block;
    const fields: HeaderField[] = [];
    let listSize = 0;
    let fieldSeen = false;
    while (this.#offset < block.length) {
      const start = this.#offset;
      const byte = block[start];
      let name: string;
      let value: string;
      if (byte & 0x80) {
        // §6.1 Indexed Header Field
        const index = this.#integer(INDEXED.bits);
        if (index === 0) throw this.#error("index 0 is not allowed", start);
        name = this.#name(index, start);
        value = index <= STATIC_COUNT
          ? STATIC_TABLE[index - 1][1]
          : this.#table.value(index - STATIC_COUNT - 1);
      } else if ((byte & 0xe0) === 0x20) {
        // §6.3 Dynamic Table Size Update: only before the first field (§4.2)
        if (fieldSeen) {
          throw this.#error("dynamic table size update after a header field", start);
        }
        const size = this.#integer(SIZE_UPDATE.bits);
        if (size > this.#maxTableSize) {
          throw this.#error(
            `dynamic table size update to ${size} exceeds the limit of ${this.#maxTableSize}`,
            start,
          );
        }
        this.#table.setCapacity(size);
        continue;
      } else {
        // §6.2 Literal Header Field: with incremental indexing (01), without (0000), never (0001)
        const indexing = (byte & 0xc0) === 0x40;
        const index = this.#integer(indexing ? WITH_INDEXING.bits : WITHOUT_INDEXING.bits);
        name = index === 0 ? this.#string() : this.#name(index, start);
        value = this.#string();
        if (indexing) this.#table.add(name, value);
      }
      fieldSeen = true;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize <= this.#maxHeaderListSize) fields.push([name, value]);
    }
    if (listSize > this.#maxHeaderListSize) {
      throw new HeaderListTooLargeError(listSize, this.#maxHeaderListSize);
    }
    return fields;
  }

  #name(index: number, start: number): string {
    if (index <= STATIC_COUNT) return STATIC_TABLE[index - 1][0];
    if (index - STATIC_COUNT > this.#table.count) {
      throw this.#error(
        `index ${index} is out of range (the dynamic table has ${this.#table.count} entries)`,
        start,
      );
    }
    return this.#table.name(index - STATIC_COUNT - 1);
  }

  /** Reads an integer with an `prefixBits`-bit prefix (§5.1) at the current offset. */
  #integer(prefixBits: number): number {
    const block = this.#block;
    const start = this.#offset;
    const mask = (1 << prefixBits) - 1;
    let value = block[this.#offset++] & mask;
    if (value < mask) return value;
    for (let shift = 0;; shift += 7) {
      if (this.#offset >= block.length) throw this.#error("truncated integer", start);
      // Five continuation octets hold 35 bits, more than MAX_INTEGER needs.
      if (shift > 28) throw this.#error("integer has too many octets", start);
      const byte = block[this.#offset++];
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw this.#error("integer exceeds 2^31 - 1", start);
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** Reads a string literal (§5.2) at the current offset. */
  #string(): string {
    const block = this.#block;
    const start = this.#offset;
    if (start >= block.length) throw this.#error("missing string literal", start);
    const huffman = (block[start] & 0x80) !== 0;
    const length = this.#integer(RAW_STRING.bits);
    const end = this.#offset + length;
    if (end > block.length) {
      throw this.#error(
        `string literal of ${length} octets runs past the end of the block (${
          block.length - this.#offset
        } left)`,
        start,
      );
    }
    const bytes = block.subarray(this.#offset, end);
    this.#offset = end;
    if (!huffman) return latin1Decode(bytes);
    // Keep a scratch buffer for the decoded octets, unless one string needs a huge one.
    const maxLength = Math.floor(length * 8 / 5);
    if (this.#scratch.length < maxLength && maxLength <= MAX_SCRATCH) {
      this.#scratch = new Uint8Array(Math.min(maxLength * 2, MAX_SCRATCH));
    }
    try {
      return huffmanDecode(bytes, this.#scratch);
    } catch (error) {
      if (error instanceof HuffmanError) throw this.#error(error.message, start);
      throw error;
    }
  }

  #error(message: string, offset: number): HpackError {
    return new HpackError(`Cannot decode header block: ${message} at offset ${offset}`);
  }
}

/** A byte buffer that grows as the encoder writes into it. */
class Writer implements ByteSink {
  bytes: Uint8Array = new Uint8Array(512);
  offset = 0;

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.offset + n <= this.bytes.length) return;
    const bytes = new Uint8Array(Math.max(this.bytes.length * 2, this.offset + n));
    bytes.set(this.bytes.subarray(0, this.offset));
    this.bytes = bytes;
  }

  /** Writes an integer (§5.1) in the low bits of a first octet that starts with `prefix`. */
  integer(prefix: Prefix, value: number): void {
    this.reserve(6);
    const flags = prefix.flags;
    const mask = (1 << prefix.bits) - 1;
    if (value < mask) {
      this.bytes[this.offset++] = flags | value;
      return;
    }
    this.bytes[this.offset++] = flags | mask;
    value -= mask;
    while (value >= 0x80) {
      this.bytes[this.offset++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.offset++] = value;
  }

  /** Writes a string literal (§5.2), Huffman-coded when that is shorter. */
  string(value: string): void {
    const huffmanLength = huffmanEncodedLength(value);
    if (huffmanLength < value.length) {
      this.integer(HUFFMAN_STRING, huffmanLength);
      this.reserve(huffmanLength);
      huffmanEncode(value, this);
    } else {
      this.integer(RAW_STRING, value.length);
      this.reserve(value.length);
      const bytes = this.bytes;
      let offset = this.offset;
      for (let i = 0; i < value.length; i++) bytes[offset++] = value.charCodeAt(i);
      this.offset = offset;
    }
  }
}

/** Whether every code unit of a string is at most U+00FF, one octet. */
function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return false;
  }
  return true;
}

/**
 * Encodes header lists for one peer, keeping the dynamic table it mirrors.
 * Fields are added to the table (incremental indexing) so that a field sent
 * again, such as `:status: 200` or `grpc-status: 0`, costs one octet.
 *
 * @example
 * ```ts
 * import { HpackDecoder, HpackEncoder } from "./hpack.ts";
 * const encoder = new HpackEncoder();
 * const block = encoder.encode([[":status", "200"], ["content-type", "application/grpc"]]);
 * new HpackDecoder().decode(block); // the same fields
 * ```
 */
export class HpackEncoder {
  #table: DynamicTable;
  #maxTableSize: number;
  #sensitive: ReadonlySet<string>;
  /** name → value → id of the newest dynamic entry with both. */
  #exact = new Map<string, Map<string, number>>();
  /** name → id of the newest dynamic entry with that name. */
  #byName = new Map<string, number>();
  /** Smallest capacity since the last block, when a size update is due. */
  #pendingMinimum: number | undefined;
  #writer = new Writer();

  /** Makes an encoder; the peer's table size starts at the protocol's 4096. */
  constructor(options: HpackEncoderOptions = {}) {
    const { maxTableSize = DEFAULT_TABLE_SIZE, sensitive = [] } = options;
    checkTableSize(maxTableSize, "maxTableSize");
    this.#maxTableSize = maxTableSize;
    this.#sensitive = new Set(sensitive);
    const capacity = Math.min(maxTableSize, DEFAULT_TABLE_SIZE);
    this.#table = new DynamicTable(capacity, (id, entry) => this.#forget(id, entry));
    if (capacity !== DEFAULT_TABLE_SIZE) this.#pendingMinimum = capacity;
  }

  /** Current size of the dynamic table in octets, for tests and diagnostics. */
  get tableSize(): number {
    return this.#table.size;
  }

  /** A copy of the dynamic table, newest entry first. */
  tableEntries(): HeaderField[] {
    return this.#table.entries();
  }

  /** Peer's SETTINGS_HEADER_TABLE_SIZE changed: encoder emits a dynamic table size update at the start of the next block and never uses more than this. */
  setPeerMaxTableSize(size: number): void {
    checkTableSize(size, "peer SETTINGS_HEADER_TABLE_SIZE");
    const capacity = Math.min(size, this.#maxTableSize);
    if (capacity === this.#table.capacity && this.#pendingMinimum === undefined) return;
    this.#pendingMinimum = Math.min(this.#pendingMinimum ?? capacity, capacity);
    this.#table.setCapacity(capacity);
  }

  /** Encodes a header list into one block. Fields named in `sensitive` are never indexed. */
  encode(headers: readonly HeaderField[]): Uint8Array {
    return this.encodeView(headers).slice();
  }

  /**
   * As {@linkcode encode}, but the block is a view of the encoder's own
   * buffer, valid until the next call: copy it before encoding again.
   */
  encodeView(headers: readonly HeaderField[]): Uint8Array {
    // Check everything first: a throw half-way would leave the table out of step with the peer's.
    for (const [name, value] of headers) {
      if (!isLatin1(name) || !isLatin1(value)) {
        const which = isLatin1(name) ? "value" : "name";
        throw new TypeError(
          `Cannot encode header ${
            JSON.stringify(name)
          }: its ${which} has a character above U+00FF, which is not one octet`,
        );
      }
    }
    const writer = this.#writer;
    writer.offset = 0;
    if (this.#pendingMinimum !== undefined) {
      // §4.2: signal the smallest size reached since the last block, then the final one.
      if (this.#pendingMinimum < this.#table.capacity) {
        writer.integer(SIZE_UPDATE, this.#pendingMinimum);
      }
      writer.integer(SIZE_UPDATE, this.#table.capacity);
      this.#pendingMinimum = undefined;
    }
    for (const field of headers) this.#field(field);
    return writer.bytes.subarray(0, writer.offset);
  }

  #field(field: HeaderField): void {
    const [name, value] = field;
    const writer = this.#writer;
    const statics = STATIC_INDEX.get(name);
    const staticExact = statics?.values.get(value);
    if (staticExact !== undefined) return writer.integer(INDEXED, staticExact);
    if (this.#sensitive.has(name)) return this.#literal(NEVER_INDEXED, field);
    const inserted = this.#table.inserted;
    const id = this.#exact.get(name)?.get(value);
    if (id !== undefined) return writer.integer(INDEXED, inserted - id + STATIC_COUNT);
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.#table.capacity) return this.#literal(WITHOUT_INDEXING, field);
    this.#literal(WITH_INDEXING, field);
    this.#table.add(name, value);
    const newId = this.#table.inserted - 1;
    let values = this.#exact.get(name);
    if (values === undefined) this.#exact.set(name, values = new Map());
    values.set(value, newId);
    this.#byName.set(name, newId);
  }

  /** Writes a literal field (§6.2) starting with `prefix`, naming it by index when one exists. */
  #literal(prefix: Prefix, [name, value]: HeaderField): void {
    const writer = this.#writer;
    const staticIndex = STATIC_INDEX.get(name)?.index;
    const id = staticIndex === undefined ? this.#byName.get(name) : undefined;
    const nameIndex = staticIndex ??
      (id === undefined ? 0 : this.#table.inserted - id + STATIC_COUNT);
    writer.integer(prefix, nameIndex);
    if (nameIndex === 0) writer.string(name);
    writer.string(value);
  }

  /** Drops an evicted entry from the lookup maps, unless a newer copy replaced it there. */
  #forget(id: number, [name, value]: HeaderField): void {
    const values = this.#exact.get(name);
    if (values?.get(value) === id) {
      values.delete(value);
      if (values.size === 0) this.#exact.delete(name);
    }
    if (this.#byName.get(name) === id) this.#byName.delete(name);
  }
}

function checkTableSize(size: number, what: string): void {
  if (!Number.isInteger(size) || size < 0 || size > 2 ** 32 - 1) {
    throw new RangeError(
      `Cannot set HPACK table size: ${what} must be an integer in [0, 2^32 - 1]: current value is ${size}`,
    );
  }
}
