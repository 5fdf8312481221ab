/**
 * Request deserializers for the streamed messages (RecordRoute's `Point`s,
 * RouteChat's `RouteNote`s) that read the usual encoding straight into the
 * plain object proto-loader's deserializer makes, without protobufjs's
 * message instance and its `toObject()` copy. Anything else (another field,
 * another wire type, an overlong or truncated varint,
 * non-ASCII text) goes to the normal deserializer, so every input gives
 * exactly what it gave before, errors included.
 *
 * @module
 */

import type { Buffer } from "node:buffer";

/** A decoded `Point`, as proto-loader's deserializer gives it (defaults filled in). */
export interface DecodedPoint {
  /** Field 1. */
  latitude: number;
  /** Field 2. */
  longitude: number;
}

/** A decoded `RouteNote`, as proto-loader's deserializer gives it (defaults filled in). */
export interface DecodedRouteNote {
  /** Field 1; `null` when unset. */
  location: DecodedPoint | null;
  /** Field 2. */
  message: string;
}

/** A deserializer of request bytes (grpc-js hands it a `Buffer`). */
export type Deserialize<T> = (bytes: Buffer) => T;

/** Tag of field 1 as a varint (`1 << 3 | 0`). */
const TAG_1_VARINT = 0x08;
/** Tag of field 2 as a varint. */
const TAG_2_VARINT = 0x10;
/** Tag of field 1, length-delimited (`1 << 3 | 2`). */
const TAG_1_BYTES = 0x0a;
/** Tag of field 2, length-delimited. */
const TAG_2_BYTES = 0x12;

/**
 * A cursor over one message's bytes. `read*` methods return `undefined`
 * (and leave the cursor anywhere) on anything the fast path does not take.
 */
class Cursor {
  bytes: Uint8Array = new Uint8Array(0);
  at = 0;
  end = 0;

  /** An int32 varint: up to 5 bytes, or 10 for a negative value; low 32 bits, signed. */
  int32(): number | undefined {
    const bytes = this.bytes;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.at >= this.end) return undefined;
      const byte = bytes[this.at++];
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
    // A negative int32 takes 10 bytes, the last five carrying bits past
    // the 32nd (dropped). protobufjs skips those five whatever they hold;
    // only their usual form is taken here, so both read the same bytes.
    if (this.at + 5 > this.end) return undefined;
    for (let extra = 0; extra < 4; extra++) {
      if (bytes[this.at++] < 0x80) return undefined;
    }
    return bytes[this.at++] < 0x80 ? value : undefined;
  }

  /** A length that fits in what is left of the bytes. */
  length(): number | undefined {
    const length = this.int32();
    if (length === undefined || length < 0 || length > this.end - this.at) return undefined;
    return length;
  }

  /** An embedded `Point` of `length` bytes at the cursor. */
  point(length: number): DecodedPoint | undefined {
    const end = this.at + length;
    const outer = this.end;
    this.end = end;
    const point = readPoint(this);
    this.end = outer;
    return point;
  }

  /** `length` bytes of ASCII text at the cursor. */
  ascii(length: number): string | undefined {
    const bytes = this.bytes;
    const end = this.at + length;
    let text = "";
    for (let i = this.at; i < end; i++) {
      const byte = bytes[i];
      if (byte >= 0x80) return undefined;
      text += String.fromCharCode(byte);
    }
    this.at = end;
    return text;
  }
}

/** Reads `Point` fields up to the cursor's end (a field given twice: the last, as protobufjs). */
function readPoint(cursor: Cursor): DecodedPoint | undefined {
  let latitude: number | undefined;
  let longitude: number | undefined;
  while (cursor.at < cursor.end) {
    const tag = cursor.bytes[cursor.at++];
    if (tag === TAG_1_VARINT) {
      if ((latitude = cursor.int32()) === undefined) return undefined;
    } else if (tag === TAG_2_VARINT) {
      if ((longitude = cursor.int32()) === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  return { latitude: latitude ?? 0, longitude: longitude ?? 0 };
}

/** Reads `RouteNote` fields up to the cursor's end (a field given twice: the last, as protobufjs). */
function readRouteNote(cursor: Cursor): DecodedRouteNote | undefined {
  let location: DecodedPoint | undefined;
  let message: string | undefined;
  while (cursor.at < cursor.end) {
    const tag = cursor.bytes[cursor.at++];
    if (tag === TAG_1_BYTES) {
      const length = cursor.length();
      if (length === undefined) return undefined;
      if ((location = cursor.point(length)) === undefined) return undefined;
    } else if (tag === TAG_2_BYTES) {
      const length = cursor.length();
      if (length === undefined) return undefined;
      if ((message = cursor.ascii(length)) === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  return { location: location ?? null, message: message ?? "" };
}

/** A deserializer that reads with `read`, or hands the bytes to `fallback`. */
function fastOr<T>(read: (cursor: Cursor) => T | undefined, fallback: Deserialize<T>) {
  const cursor = new Cursor();
  return (bytes: Buffer): T => {
    cursor.bytes = bytes;
    cursor.at = 0;
    cursor.end = bytes.length;
    const value = read(cursor);
    cursor.bytes = EMPTY;
    return value === undefined ? fallback(bytes) : value;
  };
}

/** What the cursor holds between messages (nothing of a request). */
const EMPTY = new Uint8Array(0);

/**
 * A `Point` deserializer: the usual encoding read directly, anything else
 * by `fallback` (the method definition's own `requestDeserialize`).
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { pointDeserializer } from "./request_decoders.ts";
 * import assert from "node:assert/strict";
 * const decode = pointDeserializer(() => assert.fail("no fallback expected"));
 * // latitude 150, longitude -1 (ten bytes)
 * const bytes = [0x08, 0x96, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
 * assert.deepEqual(decode(Buffer.from(bytes)), { latitude: 150, longitude: -1 });
 * ```
 */
export function pointDeserializer(fallback: Deserialize<DecodedPoint>): Deserialize<DecodedPoint> {
  return fastOr(readPoint, fallback);
}

/**
 * A `RouteNote` deserializer: the usual encoding (ASCII text) read
 * directly, anything else by `fallback`.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { routeNoteDeserializer } from "./request_decoders.ts";
 * import assert from "node:assert/strict";
 * const decode = routeNoteDeserializer(() => assert.fail("no fallback expected"));
 * const bytes = [0x0a, 0x02, 0x08, 0x01, 0x12, 0x02, 0x68, 0x69]; // {latitude 1}, "hi"
 * assert.deepEqual(decode(Buffer.from(bytes)), {
 *   location: { latitude: 1, longitude: 0 },
 *   message: "hi",
 * });
 * ```
 */
export function routeNoteDeserializer(
  fallback: Deserialize<DecodedRouteNote>,
): Deserialize<DecodedRouteNote> {
  return fastOr(readRouteNote, fallback);
}
