/**
 * Encode once: the features of a database never change after start-up, so
 * the protobuf bytes of each `Feature` reply are made by the normal
 * serializer the first time that feature is sent and kept for every later
 * GetFeature and ListFeatures reply. The bytes live in a few large chunks
 * (no object per feature), under a byte budget; past it, features are
 * encoded on every call as before. A reply that is not a stored feature
 * (GetFeature's unnamed echo of an unknown point) is always encoded.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Feature, FeatureDb } from "../core/feature_index.ts";

/** Options for {@linkcode createFeatureBytes}. */
export interface FeatureBytesOptions {
  /** The features whose replies are kept. */
  db: FeatureDb;
  /** The normal serializer of a `Feature` (the method definition's `responseSerialize`). */
  encode: (feature: Feature) => Buffer;
  /**
   * Most bytes of encoded features kept; features past it are encoded on
   * every call (at most 1 GiB). About 40 bytes a feature: the default holds
   * a million.
   * @default {67108864}
   */
  maxBytes?: number;
  /**
   * Size of one chunk of kept bytes; a feature longer than this is never kept.
   * @default {1048576}
   */
  chunkBytes?: number;
}

/** A serializer of `Feature` replies that encodes each stored feature once. */
export interface FeatureBytes {
  /** The reply's bytes: kept ones for a stored feature, else freshly encoded. */
  encode(feature: Feature): Buffer;
  /** Bytes of encoded features kept so far. */
  readonly keptBytes: number;
}

/**
 * Creates the encode-once serializer for the features of `options.db`.
 *
 * @example
 * ```ts ignore
 * const bytes = createFeatureBytes({ db, encode: definition.GetFeature.responseSerialize });
 * const reply: Buffer = bytes.encode(db.at(0)); // encoded now, kept for next time
 * ```
 */
export function createFeatureBytes(options: FeatureBytesOptions): FeatureBytes {
  const { db, encode } = options;
  // Positions are kept in 32-bit integers.
  const maxBytes = Math.min(options.maxBytes ?? 64 * 1024 * 1024, 1024 * 1024 * 1024);
  const chunkBytes = Math.min(options.chunkBytes ?? 1024 * 1024, 64 * 1024 * 1024);
  // Per feature: where its bytes start (chunk * chunkBytes + offset, plus
  // one, so that 0 means "not kept yet") and how long they are. Zero-filled
  // typed arrays take memory only where written.
  let starts: Int32Array | undefined;
  let lengths: Int32Array | undefined;
  const chunks: Buffer[] = [];
  let used = chunkBytes; // in the last chunk; full until the first is made
  let kept = 0;

  /** Keeps `bytes` as feature `i`'s, if the budget allows. */
  function keep(i: number, bytes: Buffer): void {
    const length = bytes.byteLength;
    if (length > chunkBytes || kept + length > maxBytes) return;
    if (used + length > chunkBytes) {
      if (chunks.length * chunkBytes >= maxBytes) return;
      // Its own memory, not the shared pool: it lives as long as the server.
      chunks.push(Buffer.allocUnsafeSlow(chunkBytes));
      used = 0;
    }
    bytes.copy(chunks[chunks.length - 1], used);
    starts ??= new Int32Array(db.size);
    lengths ??= new Int32Array(db.size);
    starts[i] = (chunks.length - 1) * chunkBytes + used + 1;
    lengths[i] = length;
    used += length;
    kept += length;
  }

  return {
    encode(feature) {
      const { latitude, longitude } = feature.location;
      const i = db.indexOf(latitude, longitude);
      // Only the stored feature itself: an echo at the same point with another
      // name (none today) must not get the stored bytes.
      if (i < 0 || db.nameAt(i) !== feature.name) return encode(feature);
      const start = starts === undefined ? 0 : starts[i];
      if (start !== 0) {
        const chunk = Math.floor((start - 1) / chunkBytes);
        const offset = start - 1 - chunk * chunkBytes;
        return chunks[chunk].subarray(offset, offset + lengths![i]);
      }
      const bytes = encode(feature);
      keep(i, bytes);
      return bytes;
    },
    get keptBytes() {
      return kept;
    },
  };
}
