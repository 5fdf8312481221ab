/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B): a table-driven
 * decoder that consumes four bits per step, and an encoder.
 *
 * Strings are latin1 ("binary"): one byte per UTF-16 code unit, so a
 * string's length is its length in octets. Pure: no I/O, no dependencies.
 *
 * @module
 */

/**
 * Code length in bits of each symbol 0..255 and EOS (256), from RFC 7541
 * Appendix B. The code is canonical: within one length, codes are
 * consecutive in symbol order, and each length starts where the shorter one
 * ended, shifted left; so the lengths alone give every code (and the codes
 * computed below match the hex column of Appendix B, checked in the tests).
 */
// deno-fmt-ignore
const CODE_LENGTHS: readonly number[] = [
  // 0-31: control characters
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 32-63: ' ' to '?'
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 64-95: '@' to '_'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 96-127: '`' to DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 128-255
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // 256: EOS
  30,
];

/** The EOS symbol, which must never appear inside a Huffman-coded string. */
const EOS = 256;

/** Code of each symbol (aligned to the least significant bit), derived canonically. */
const CODES: Uint32Array = (() => {
  const symbols = Array.from(CODE_LENGTHS.keys());
  symbols.sort((a, b) => CODE_LENGTHS[a] - CODE_LENGTHS[b] || a - b);
  const codes = new Uint32Array(CODE_LENGTHS.length);
  let code = 0;
  let length = CODE_LENGTHS[symbols[0]];
  for (let i = 0; i < symbols.length; i++) {
    const symbolLength = CODE_LENGTHS[symbols[i]];
    if (i > 0) code = (code + 1) * 2 ** (symbolLength - length);
    length = symbolLength;
    codes[symbols[i]] = code;
  }
  return codes;
})();

/** Entry flags of the decoding table. */
const EMIT = 0x100;
const FAIL = 0x20000;

/**
 * The decoder as a finite-state machine over the code tree: a state is an
 * internal node (256 of them for 257 leaves), and `TRANSITIONS[state * 16 +
 * nibble]` gives the node reached after four more bits, `EMIT | symbol << 9`
 * when a leaf was passed on the way (at most one: no code is shorter than five
 * bits), and FAIL when the bits spell EOS. `ACCEPTS[state]` says whether a
 * string may end in that state: the bits since the last symbol are padding,
 * which must be at most seven bits, all ones (§5.2).
 */
const { TRANSITIONS, ACCEPTS } = (() => {
  const LEAF = 0x1000;
  const children: number[][] = [[0, 0]];
  const accepts: boolean[] = [true];
  for (let symbol = 0; symbol < CODE_LENGTHS.length; symbol++) {
    const length = CODE_LENGTHS[symbol];
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const b = Math.floor(CODES[symbol] / 2 ** bit) & 1;
      if (bit === 0) {
        children[node][b] = LEAF | symbol;
      } else {
        if (children[node][b] === 0) {
          children[node][b] = children.length;
          children.push([0, 0]);
          accepts.push(accepts[node] && b === 1 && length - bit <= 7);
        }
        node = children[node][b];
      }
    }
  }
  const transitions = new Uint32Array(children.length * 16);
  for (let state = 0; state < children.length; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[node][(nibble >> bit) & 1];
        if (child & LEAF) {
          const symbol = child & 0x1ff;
          if (symbol === EOS) entry |= FAIL;
          entry |= EMIT | ((symbol & 0xff) << 9);
          node = 0;
        } else {
          node = child;
        }
      }
      transitions[state * 16 + nibble] = entry | node;
    }
  }
  return { TRANSITIONS: transitions, ACCEPTS: Uint8Array.from(accepts, Number) };
})();

/** Thrown by {@linkcode huffmanDecode} for bytes that are not a valid Huffman-coded string. */
export class HuffmanError extends Error {
  /** Names the error. */
  override name = "HuffmanError";
}

/** Returns the Huffman code of `symbol` (0..256) and its length in bits, as in RFC 7541 Appendix B. */
export function huffmanCode(symbol: number): { code: number; bits: number } {
  return { code: CODES[symbol], bits: CODE_LENGTHS[symbol] };
}

/**
 * Decodes a Huffman-coded string to latin1. `scratch`, when at least
 * `bytes.length * 8 / 5` long, is used for the decoded octets instead of a new
 * buffer.
 *
 * @example
 * ```ts
 * import { huffmanDecode } from "./huffman.ts";
 * huffmanDecode(new Uint8Array([0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf])); // "no-cache"
 * ```
 */
export function huffmanDecode(bytes: Uint8Array, scratch?: Uint8Array): string {
  const maxLength = Math.floor(bytes.length * 8 / 5);
  const out = scratch !== undefined && scratch.length >= maxLength
    ? scratch
    : new Uint8Array(maxLength);
  let length = 0;
  let state = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    let entry = TRANSITIONS[(state << 4) | (byte >> 4)];
    if (entry & EMIT) {
      if (entry & FAIL) throw new HuffmanError(`EOS symbol in Huffman-coded string at byte ${i}`);
      out[length++] = entry >> 9;
    }
    entry = TRANSITIONS[((entry & 0xff) << 4) | (byte & 0xf)];
    if (entry & EMIT) {
      if (entry & FAIL) throw new HuffmanError(`EOS symbol in Huffman-coded string at byte ${i}`);
      out[length++] = entry >> 9;
    }
    state = entry & 0xff;
  }
  if (!ACCEPTS[state]) {
    throw new HuffmanError(
      "Huffman-coded string has invalid padding (more than 7 bits, or not all ones)",
    );
  }
  return latin1Decode(out.subarray(0, length));
}

/** Returns how many octets {@linkcode huffmanEncode} writes for `value` (latin1). */
export function huffmanEncodedLength(value: string): number {
  let bits = 0;
  for (let i = 0; i < value.length; i++) bits += CODE_LENGTHS[value.charCodeAt(i) & 0xff];
  return (bits + 7) >> 3;
}

/** A byte buffer with a write position, big enough for what is written into it. */
export interface ByteSink {
  /** The buffer. */
  bytes: Uint8Array;
  /** Where the next byte goes; advanced by writers. */
  offset: number;
}

/**
 * Writes the Huffman code of `value` (latin1) into `sink`, padded with ones
 * to a whole octet; `sink` must have room for {@linkcode huffmanEncodedLength} octets.
 */
export function huffmanEncode(value: string, sink: ByteSink): void {
  const out = sink.bytes;
  let offset = sink.offset;
  let acc = 0; // the low `pending` bits are not written yet
  let pending = 0;
  for (let i = 0; i < value.length; i++) {
    const symbol = value.charCodeAt(i) & 0xff;
    let code = CODES[symbol];
    let length = CODE_LENGTHS[symbol];
    if (length > 24) {
      // Keep acc within 31 bits: push the high part first.
      acc = (acc << (length - 8)) | (code >>> 8);
      pending += length - 8;
      while (pending >= 8) {
        pending -= 8;
        out[offset++] = acc >>> pending;
      }
      acc &= (1 << pending) - 1;
      code &= 0xff;
      length = 8;
    }
    acc = (acc << length) | code;
    pending += length;
    while (pending >= 8) {
      pending -= 8;
      out[offset++] = acc >>> pending;
    }
    acc &= (1 << pending) - 1;
  }
  if (pending > 0) out[offset++] = (acc << (8 - pending)) | (0xff >> pending);
  sink.offset = offset;
}

/** Returns the latin1 string of `bytes`: one UTF-16 code unit per octet. */
export function latin1Decode(bytes: Uint8Array): string {
  // TextDecoder's "latin1" is windows-1252, which remaps 0x80-0x9f: not usable here.
  const CHUNK = 4096;
  if (bytes.length <= CHUNK) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  let result = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    result += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return result;
}
