/**
 * Message compression for the web protocols (`grpc-encoding`,
 * `content-encoding`, `connect-content-encoding`): gzip, which the Connect
 * protocol requires, and brotli, through `node:zlib`'s synchronous calls
 * (messages are small and already whole in memory).
 *
 * Decompression is bounded: the message-size limit applies to the
 * decompressed bytes, and zlib stops at the limit (`maxOutputLength`)
 * instead of inflating a bomb and measuring it afterwards.
 *
 * Known gap: Deno 2.9.3's `brotliDecompressSync` returns what it decoded so
 * far, without an error, for a truncated or garbage brotli stream (Node
 * throws). Such a message then fails to parse as protobuf or JSON, so it is
 * still refused, but with a less precise message.
 *
 * @module
 */

import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  gunzipSync,
  gzipSync,
} from "node:zlib";

/** The encodings served, by their names in `*-encoding` headers. */
export type Encoding = "gzip" | "br" | "identity";

/** A message larger than the limit once decompressed (`resource_exhausted`). */
export class MessageTooLargeError extends Error {
  /** Makes the error; `name` reads `MessageTooLargeError`. */
  constructor(message: string) {
    super(message);
    this.name = "MessageTooLargeError";
  }
}

/** Compressed bytes that do not decompress (`invalid_argument`). */
export class DecompressionError extends Error {
  /** Makes the error; `name` reads `DecompressionError`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DecompressionError";
  }
}

/**
 * The encoding a request's `*-encoding` header names: no header (or an empty
 * one) is `identity`; a name not served is `undefined` (the caller answers
 * `unimplemented` with the accepted list). Case-insensitive.
 */
export function parseEncoding(name: string | undefined): Encoding | undefined {
  if (name === undefined) return "identity";
  const lower = name.trim().toLowerCase();
  if (lower === "" || lower === "identity") return "identity";
  return lower === "gzip" || lower === "br" ? lower : undefined;
}

/**
 * The encoding for a response, from the client's accept list
 * (`grpc-accept-encoding`, `connect-accept-encoding`, `accept-encoding`;
 * `name;q=x` entries, `*` included): the best-rated of gzip and br with a
 * q above 0, gzip on a tie (it costs less CPU), else `identity`.
 */
export function pickEncoding(acceptEncoding: string | undefined): Encoding {
  if (acceptEncoding === undefined) return "identity";
  const ratings = new Map<string, number>();
  for (const entry of acceptEncoding.split(",")) {
    const [name, ...params] = entry.split(";").map((part) => part.trim().toLowerCase());
    if (name === "") continue;
    const q = params.find((param) => param.startsWith("q="));
    const rating = q === undefined ? 1 : Number(q.slice(2));
    ratings.set(name, Number.isFinite(rating) ? rating : 0);
  }
  const wildcard = ratings.get("*") ?? 0;
  const gzip = ratings.get("gzip") ?? wildcard;
  const br = ratings.get("br") ?? wildcard;
  if (gzip <= 0 && br <= 0) return "identity";
  return br > gzip ? "br" : "gzip";
}

/**
 * Decompresses `bytes`; throws {@linkcode MessageTooLargeError} as soon as
 * the output would pass `maxBytes` (the rest is never inflated), and
 * {@linkcode DecompressionError} for corrupt input.
 */
export function decompress(encoding: Encoding, bytes: Uint8Array, maxBytes: number): Uint8Array {
  const tooLarge = () =>
    new MessageTooLargeError(`message is larger than the limit of ${maxBytes} bytes`);
  if (encoding === "identity") {
    if (bytes.length > maxBytes) throw tooLarge();
    return bytes;
  }
  // zlib refuses a maxOutputLength below 1; a limit of 0 is checked below.
  const options = { maxOutputLength: Math.max(1, maxBytes) };
  let output: Uint8Array;
  try {
    output = encoding === "gzip"
      ? gunzipSync(bytes, options)
      : brotliDecompressSync(bytes, options);
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge();
    const reason = error instanceof Error ? error.message : String(error);
    throw new DecompressionError(`invalid ${encoding} data: ${reason}`, { cause: error });
  }
  if (output.length > maxBytes) throw tooLarge();
  // A plain Uint8Array view, so that callers see no Buffer methods or pooling.
  return new Uint8Array(output.buffer, output.byteOffset, output.length);
}

/** Compresses `bytes` (returned as they are for `identity`). */
export function compress(encoding: Encoding, bytes: Uint8Array): Uint8Array {
  if (encoding === "identity") return bytes;
  const output = encoding === "gzip" ? gzipSync(bytes) : brotliCompressSync(bytes, {
    params: {
      // Quality 11, the default, is meant for static assets compressed once;
      // per message it costs tens of times the CPU of 4 for a few % of size.
      [constants.BROTLI_PARAM_QUALITY]: 4,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  return new Uint8Array(output.buffer, output.byteOffset, output.length);
}
