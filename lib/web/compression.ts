/**
 * STAND-IN for the `webparts` branch's compression.ts (same API); replaced on merge.
 *
 * @module
 */

import { gunzipSync, gzipSync } from "node:zlib";

/** A message encoding. */
export type Encoding = "gzip" | "br" | "identity";

/** A message too large once decompressed. */
export class MessageTooLargeError extends Error {}

/** An encoding name as served, `undefined` when not supported. */
export function parseEncoding(name: string | undefined): Encoding | undefined {
  const value = (name ?? "identity").trim().toLowerCase();
  return value === "gzip" || value === "identity" ? value : undefined;
}

/** The encoding to answer with. */
export function pickEncoding(acceptEncoding: string | undefined): Encoding {
  return (acceptEncoding ?? "").toLowerCase().includes("gzip") ? "gzip" : "identity";
}

/** Decompresses, refusing more than `maxBytes`. */
export function decompress(encoding: Encoding, bytes: Uint8Array, maxBytes: number): Uint8Array {
  if (encoding === "identity") return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new MessageTooLargeError(`decompressed, the message is more than ${maxBytes} bytes`);
    }
    throw error;
  }
}

/** Compresses. */
export function compress(encoding: Encoding, bytes: Uint8Array): Uint8Array {
  return encoding === "gzip" ? gzipSync(bytes) : bytes;
}
