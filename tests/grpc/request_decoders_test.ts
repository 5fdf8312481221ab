/**
 * `lib/grpc/request_decoders.ts`: for every input, the fast `Point` and
 * `RouteNote` deserializers give exactly what proto-loader's deserializer
 * gives (the same object, or an error where it throws), and they take the
 * usual encodings themselves, leaving the rest to that deserializer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { loadRouteGuidePackage } from "../../lib/grpc/proto.ts";
import {
  type DecodedPoint,
  type DecodedRouteNote,
  pointDeserializer,
  routeNoteDeserializer,
} from "../../lib/grpc/request_decoders.ts";

/** proto-loader's own codecs of `Point` and `RouteNote` (from the RouteGuide methods). */
function normalCodecs() {
  const pkg = grpc.loadPackageDefinition(loadRouteGuidePackage());
  const service = ((pkg.routeguide as grpc.GrpcObject)
    .RouteGuide as grpc.ServiceClientConstructor).service;
  const record = service.RecordRoute as grpc.MethodDefinition<DecodedPoint, unknown>;
  const chat = service.RouteChat as grpc.MethodDefinition<DecodedRouteNote, unknown>;
  return {
    encodePoint: record.requestSerialize,
    decodePoint: record.requestDeserialize,
    encodeNote: chat.requestSerialize,
    decodeNote: chat.requestDeserialize,
  };
}

const normal = normalCodecs();

/** What a deserializer gives for `bytes`: its value, or that it threw. */
function outcome<T>(decode: (bytes: Buffer) => T, bytes: Buffer): { value: T } | { threw: true } {
  try {
    return { value: decode(bytes) };
  } catch {
    return { threw: true };
  }
}

/** A seeded generator (xorshift32), so that a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** Interesting int32 values and random ones. */
function int32s(next: () => number): number[] {
  const edges = [
    0,
    1,
    -1,
    127,
    128,
    -128,
    16383,
    16384,
    2 ** 31 - 1,
    -(2 ** 31),
    900000000,
    -1800000000,
  ];
  return [...edges, ...Array.from({ length: 200 }, () => Math.floor(next() * 2 ** 32) | 0)];
}

/** Counts how often the fallback (the normal deserializer) is asked. */
function counted<T>(decode: (bytes: Buffer) => T) {
  const counter = { calls: 0, decode: (bytes: Buffer) => (counter.calls++, decode(bytes)) };
  return counter;
}

Deno.test("pointDeserializer: every encoded Point as proto-loader decodes it, none by the fallback", () => {
  const next = random(17);
  const fallback = counted(normal.decodePoint);
  const decode = pointDeserializer(fallback.decode);
  const values = int32s(next);
  for (const latitude of values) {
    const longitude = values[Math.floor(next() * values.length)];
    for (const point of [{ latitude, longitude }, { latitude }, { longitude }, {}]) {
      const bytes = normal.encodePoint(point as DecodedPoint);
      assert.deepEqual(decode(bytes), normal.decodePoint(bytes), bytes.toString("hex"));
    }
  }
  assert.equal(fallback.calls, 0);
});

Deno.test("pointDeserializer: unusual encodings and damaged bytes give what proto-loader gives", () => {
  const cases = [
    "1001" + "0802", // fields in the other order
    "0801" + "0802", // a field twice (the last one wins)
    "0801" + "1802", // an unknown field
    "0a0101", // field 1 length-delimited
    "08", // truncated varint
    "0880", // truncated varint
    "08ffffffff0f", // 5-byte varint
    "08ffffffffff", // 5 bytes with a continuation, then nothing
    "08ffffffffffffffffff01", // 10-byte -1
    "08ffffffffff01", // continuation then an early end of the varint
    "08ffffffffff0101010101", // 10 bytes, the last five unusual
    "08ffffffffffffffffffff01", // 11-byte varint
    "00", // tag 0
    "0f", // wire type 7
    "8801" + "01", // a two-byte tag (field 17)
  ];
  const fallback = counted(normal.decodePoint);
  const decode = pointDeserializer(fallback.decode);
  for (const hex of cases) {
    const bytes = Buffer.from(hex, "hex");
    assert.deepEqual(outcome(decode, bytes), outcome(normal.decodePoint, bytes), hex);
  }
  // Random bytes too.
  const next = random(5);
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 14) }, () => {
      const r = next();
      // Mostly the bytes a Point is made of.
      return r < 0.3 ? 0x08 : r < 0.5 ? 0x10 : r < 0.7 ? 0xff : Math.floor(next() * 256);
    }));
    assert.deepEqual(
      outcome(decode, bytes),
      outcome(normal.decodePoint, bytes),
      bytes.toString("hex"),
    );
  }
});

Deno.test("routeNoteDeserializer: every encoded RouteNote as proto-loader decodes it; only non-ASCII text by the fallback", () => {
  const next = random(23);
  const fallback = counted(normal.decodeNote);
  const decode = routeNoteDeserializer(fallback.decode);
  const messages = ["", "a1", "hello world", "x".repeat(300), "~\u007f\t\n"];
  const values = int32s(next);
  for (const latitude of values) {
    const longitude = values[Math.floor(next() * values.length)];
    for (const message of messages) {
      for (
        const note of [
          { location: { latitude, longitude }, message },
          { location: {}, message },
          { message },
          { location: { latitude } },
        ]
      ) {
        const bytes = normal.encodeNote(note as DecodedRouteNote);
        assert.deepEqual(decode(bytes), normal.decodeNote(bytes), bytes.toString("hex"));
      }
    }
  }
  assert.equal(fallback.calls, 0);
  for (const message of ["é", "日本", "a\u{1f600}b"]) {
    const bytes = normal.encodeNote({ location: { latitude: 1, longitude: 2 }, message });
    assert.deepEqual(decode(bytes), normal.decodeNote(bytes));
  }
  assert.equal(fallback.calls, 3);
});

Deno.test("routeNoteDeserializer: unusual encodings and damaged bytes give what proto-loader gives", () => {
  const cases = [
    "12026869" + "0a020801", // fields in the other order
    "0a020801" + "0a021002", // location twice
    "12016112016a", // message twice
    "0a03080110", // a Point whose varint runs past its end
    "0a0508011002", // a Point longer than the bytes left
    "0a0408011801", // an unknown field inside the Point
    "1205616263", // text longer than the bytes left
    "12ff", // truncated length
    "12026869" + "2001", // an unknown field
    "12c3a9", // wrong: length 0xc3 taken as a varint's first byte
    "1202c3a9", // non-ASCII
    "1202fffe", // invalid UTF-8
    "120180", // a lone continuation byte
    "12017f", // the last ASCII byte
    "0801", // field 1 as a varint
    "0a00", // an empty Point
    "1200", // empty text
  ];
  const decode = routeNoteDeserializer(normal.decodeNote);
  for (const hex of cases) {
    const bytes = Buffer.from(hex, "hex");
    assert.deepEqual(outcome(decode, bytes), outcome(normal.decodeNote, bytes), hex);
  }
  const next = random(9);
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 16) }, () => {
      const r = next();
      return r < 0.2
        ? 0x0a
        : r < 0.35
        ? 0x12
        : r < 0.5
        ? 0x08
        : r < 0.6
        ? 0x02
        : Math.floor(next() * 256);
    }));
    assert.deepEqual(
      outcome(decode, bytes),
      outcome(normal.decodeNote, bytes),
      bytes.toString("hex"),
    );
  }
});
