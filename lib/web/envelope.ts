/**
 * The 5-byte-prefixed envelope shared by gRPC, gRPC-Web and the Connect
 * protocol's streams: one flags byte, a big-endian 32-bit length, then the
 * payload. {@linkcode EnvelopeReader} takes bytes as they arrive, in pieces
 * of any size, and refuses a declared length over the limit before
 * buffering any of it.
 *
 * @module
 */

import { Status, WebError } from "./codes.ts";

/** One envelope: its flags byte and payload. */
export interface Envelope {
  /** The flags byte (`0x01` compressed, `0x02` Connect end-of-stream, `0x80` gRPC-Web trailers). */
  readonly flags: number;
  /** The payload. */
  readonly data: Uint8Array;
  /** The whole envelope, prefix and payload, when it arrived in one piece (a view, no copy). */
  readonly whole?: Uint8Array;
}

/** An envelope's bytes: the prefix, then `data`. */
export function encodeEnvelope(flags: number, data: Uint8Array): Uint8Array {
  const length = data.length;
  const out = new Uint8Array(5 + length);
  out[0] = flags;
  // By hand: a DataView per envelope costs more than the four bytes.
  out[1] = length >>> 24;
  out[2] = (length >>> 16) & 0xff;
  out[3] = (length >>> 8) & 0xff;
  out[4] = length & 0xff;
  out.set(data, 5);
  return out;
}

/**
 * A string's bytes in UTF-8: by hand for ASCII (the short header-like
 * lines of trailers, always ASCII here), which costs less than a
 * `TextEncoder` call; through it otherwise.
 */
export function utf8Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return ENCODER.encode(text);
    out[i] = code;
  }
  return out;
}

const ENCODER = new TextEncoder();

/** Options for {@linkcode EnvelopeReader}. */
export interface EnvelopeReaderOptions {
  /**
   * Largest payload accepted; a longer declared length is `resource_exhausted`.
   * @default {4194304}
   */
  maxBytes?: number;
  /**
   * What the envelopes are, for error messages ("request message").
   * @default {"message"}
   */
  what?: string;
}

/** Reads envelopes from bytes that arrive in pieces. */
export class EnvelopeReader {
  readonly #maxBytes: number;
  readonly #what: string;
  // Made when an envelope's prefix is split across pieces, rarely.
  #header?: Uint8Array;
  #headerBytes = 0;
  #flags = 0;
  #body?: Uint8Array;
  #bodyBytes = 0;

  /** A reader with the limit of `options`. */
  constructor(options: EnvelopeReaderOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.#what = options.what ?? "message";
  }

  /** Whether part of an envelope is waiting for more bytes. */
  get partial(): boolean {
    return this.#headerBytes > 0;
  }

  /** Takes the next piece; returns the envelopes it completes. Throws a {@linkcode WebError} on an oversized one. */
  push(chunk: Uint8Array): Envelope[] {
    const out: Envelope[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#headerBytes < 5) {
        // The fast case: a whole envelope in this piece, kept as a view.
        if (this.#headerBytes === 0 && chunk.length - at >= 5) {
          const length = this.#lengthAt(chunk, at);
          if (chunk.length - at - 5 >= length) {
            out.push({
              flags: chunk[at],
              data: chunk.subarray(at + 5, at + 5 + length),
              whole: chunk.subarray(at, at + 5 + length),
            });
            at += 5 + length;
            continue;
          }
        }
        const take = Math.min(5 - this.#headerBytes, chunk.length - at);
        const header = this.#header ??= new Uint8Array(5);
        header.set(chunk.subarray(at, at + take), this.#headerBytes);
        this.#headerBytes += take;
        at += take;
        if (this.#headerBytes < 5) break;
        const length = this.#lengthAt(header, 0);
        this.#flags = header[0];
        this.#body = new Uint8Array(length);
        this.#bodyBytes = 0;
      }
      const body = this.#body!;
      const take = Math.min(body.length - this.#bodyBytes, chunk.length - at);
      body.set(chunk.subarray(at, at + take), this.#bodyBytes);
      this.#bodyBytes += take;
      at += take;
      if (this.#bodyBytes === body.length) {
        out.push({ flags: this.#flags, data: body });
        this.#headerBytes = 0;
        this.#body = undefined;
      }
    }
    return out;
  }

  /** Checks the bytes ended between envelopes; throws `invalid_argument` if one was cut off. */
  end(): void {
    if (this.#headerBytes === 0) return;
    const detail = this.#headerBytes < 5
      ? `${this.#headerBytes} of its 5 prefix bytes`
      : `${this.#bodyBytes} of its ${this.#body!.length} bytes`;
    throw new WebError(
      Status.INVALID_ARGUMENT,
      `the ${this.#what} stream ended in the middle of an envelope (${detail} arrived)`,
    );
  }

  /** The declared length at `at`, refused when over the limit. */
  #lengthAt(bytes: Uint8Array, at: number): number {
    const length = (bytes[at + 1] * 0x1000000) + (bytes[at + 2] << 16) + (bytes[at + 3] << 8) +
      bytes[at + 4];
    if (length > this.#maxBytes) {
      throw new WebError(
        Status.RESOURCE_EXHAUSTED,
        `the ${this.#what} is ${length} bytes, more than the limit of ${this.#maxBytes}`,
      );
    }
    return length;
  }
}

/** How {@linkcode createEnvelopeDecoder} turns each payload into a gRPC message. */
export interface EnvelopeDecoderOptions extends EnvelopeReaderOptions {
  /** Decompresses a payload whose flags say compressed; `undefined`: the request named no encoding. */
  decompress?: (data: Uint8Array) => Uint8Array;
  /** Turns a payload into binary proto (the JSON codec's conversion), throwing a `WebError`. */
  convert?: (data: Uint8Array) => Uint8Array;
}

/** A request body of envelopes → gRPC messages (decompressed, converted), as a bridge's decoder. */
export function createEnvelopeDecoder(options: EnvelopeDecoderOptions = {}): {
  push(chunk: Uint8Array, out: (message: Uint8Array, framed?: Uint8Array) => void): void;
  end(out: (message: Uint8Array) => void): void;
} {
  const reader = new EnvelopeReader(options);
  const what = options.what ?? "message";
  const payload = (envelope: Envelope): Uint8Array => {
    if ((envelope.flags & ~1) !== 0) {
      throw new WebError(
        Status.INVALID_ARGUMENT,
        `a ${what} envelope has flags 0x${
          envelope.flags.toString(16)
        }: only 0x01 (compressed) is allowed`,
      );
    }
    let data = envelope.data;
    if ((envelope.flags & 1) !== 0) {
      if (options.decompress === undefined) {
        throw new WebError(
          Status.INTERNAL,
          `a ${what} is marked compressed but the request names no message encoding`,
        );
      }
      data = options.decompress(data);
    }
    return options.convert === undefined ? data : options.convert(data);
  };
  return {
    push(chunk, out) {
      for (const envelope of reader.push(chunk)) {
        // A plain binary message goes on in the envelope it came in.
        if (envelope.flags === 0 && options.convert === undefined) {
          out(envelope.data, envelope.whole);
        } else out(payload(envelope));
      }
    },
    end() {
      reader.end();
    },
  };
}

/** How answers are compressed: the encoding's name and function, and the least size worth it. */
export interface ResponseCompression {
  /** The encoding's name, as headers give it (`gzip`). */
  readonly name: string;
  /** Compresses a payload. */
  compress(data: Uint8Array): Uint8Array;
  /** Payloads smaller than this are sent uncompressed (not worth it). */
  readonly minBytes: number;
}

/**
 * A message's envelope, compressed (flag `0x01`) when `compression` is
 * given and it is large enough; `framed`, when given, is `data` already in
 * an uncompressed envelope.
 */
export function messageEnvelope(
  data: Uint8Array,
  compression: ResponseCompression | undefined,
  framed?: Uint8Array,
): Uint8Array {
  if (compression === undefined || data.length < compression.minBytes) {
    // An uncompressed envelope of these very bytes is already at hand: no copy.
    return framed ?? encodeEnvelope(0, data);
  }
  return encodeEnvelope(1, compression.compress(data));
}
