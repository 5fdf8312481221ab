/**
 * Protobuf wire format by hand (proto3), independent of lib/: for tests that
 * build messages the generated code would refuse to, or read answers
 * without our own decoder.
 *
 * @module
 */

import assert from "node:assert/strict";

/**
 * A varint (protobuf encoding §Base 128 varints); a negative int32 takes ten
 * bytes, as two's complement on 64 bits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { varint } from "./_proto.ts";
 * assert.deepEqual(varint(300), [0xac, 0x02]);
 * assert.deepEqual(varint(-1), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
 * ```
 */
export function varint(value: number): number[] {
  let n = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (n > 0x7fn) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return out;
}

/** The bytes of `Point { latitude = 1; longitude = 2; }`. */
export function pointBytes(latitude: number, longitude: number): Uint8Array {
  return new Uint8Array([0x08, ...varint(latitude), 0x10, ...varint(longitude)]);
}

/**
 * A Point {latitude: 1} followed by an unknown length-delimited field 15 of
 * `padding` bytes: a message as large as wanted that a parser skips over.
 */
export function paddedPoint(padding: number): Uint8Array {
  const head = new Uint8Array([0x08, 0x01, (15 << 3) | 2, ...varint(padding)]);
  const out = new Uint8Array(head.length + padding);
  out.set(head);
  out.fill(0x61, head.length);
  return out;
}

/** Reads a message's fields: varints as int32, length-delimited ones as bytes. */
export function fields(bytes: Uint8Array): Map<number, number | Uint8Array> {
  const out = new Map<number, number | Uint8Array>();
  let at = 0;
  const readVarint = () => {
    let n = 0n;
    for (let shift = 0n;; shift += 7n) {
      assert.ok(at < bytes.length, "a varint runs past the end of the message");
      const b = bytes[at++];
      n |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return n;
    }
  };
  while (at < bytes.length) {
    const key = Number(readVarint());
    const [field, wire] = [key >> 3, key & 7];
    if (wire === 0) {
      out.set(field, Number(BigInt.asIntN(32, readVarint())));
    } else if (wire === 2) {
      const length = Number(readVarint());
      out.set(field, bytes.slice(at, at + length));
      at += length;
    } else {
      assert.fail(`unexpected wire type ${wire} for field ${field}`);
    }
  }
  return out;
}
