/**
 * Protobuf wire format by hand (proto3), independent of lib/: for tests that
 * build messages the generated code would refuse to.
 *
 * @module
 */

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
