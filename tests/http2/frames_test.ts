/**
 * Frame decoding on its own (RFC 9113 §4, §6): what each frame type's
 * payload reads as, the size checks of padded and prioritised frames, and
 * the reader's handling of frames split across reads.
 */

import assert from "node:assert/strict";
import { decodeFrame, FrameReader, Http2Error } from "../../lib/http2/frames.ts";
import { concat, ErrorCode, frame, FrameType, pingFrame, settingsFrame } from "../_h2.ts";

const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

/** The Http2Error `decode` throws, with its code and stream (undefined: a connection error). */
function decodeError(decode: () => unknown): { code: number; streamId?: number } {
  try {
    decode();
  } catch (error) {
    assert.ok(error instanceof Http2Error, String(error));
    return { code: error.code, streamId: error.streamId };
  }
  assert.fail("no error");
}

Deno.test("SETTINGS: each 6-byte entry is an identifier and a value (RFC 9113 §6.5.1)", () => {
  const payload = settingsFrame([[0x1, 4096], [0x4, 2 ** 31 - 1], [0x99, 7]]).subarray(9);
  assert.deepEqual(decodeFrame(FrameType.SETTINGS, 0, 0, payload), {
    type: FrameType.SETTINGS,
    streamId: 0,
    ack: false,
    settings: [[0x1, 4096], [0x4, 2 ** 31 - 1], [0x99, 7]],
  });
  assert.deepEqual(decodeFrame(FrameType.SETTINGS, 0x1, 0, new Uint8Array(0)), {
    type: FrameType.SETTINGS,
    streamId: 0,
    ack: true,
    settings: [],
  });
});

Deno.test("PRIORITY: the stream it depends on (RFC 9113 §6.3)", () => {
  const payload = new Uint8Array([0x80, 0, 0, 3, 16]); // exclusive bit set, stream 3, weight 16
  assert.deepEqual(decodeFrame(FrameType.PRIORITY, 0, 5, payload), {
    type: FrameType.PRIORITY,
    streamId: 5,
    dependsOn: 3,
  });
});

Deno.test("GOAWAY: last stream id, code and debug data; 8 bytes is enough (RFC 9113 §6.8)", () => {
  const payload = new Uint8Array([0, 0, 0, 7, 0, 0, 0, 0xb]);
  assert.deepEqual(decodeFrame(FrameType.GOAWAY, 0, 0, payload), {
    type: FrameType.GOAWAY,
    streamId: 0,
    lastStreamId: 7,
    code: 0xb,
    debug: new Uint8Array(0),
  });
  assert.deepEqual(decodeError(() => decodeFrame(FrameType.GOAWAY, 0, 0, payload.subarray(1))), {
    code: ErrorCode.FRAME_SIZE_ERROR,
    streamId: undefined,
  });
});

Deno.test("an unknown frame type is reported as such, to be ignored (RFC 9113 §4.1)", () => {
  assert.deepEqual(decodeFrame(0x42, 0xff, 3, new Uint8Array(5)), {
    type: "unknown",
    code: 0x42,
    streamId: 3,
  });
});

Deno.test("padded frames: a pad length is needed; padding of 0 with no data is fine (RFC 9113 §6.1, §6.2)", () => {
  for (const type of [FrameType.DATA, FrameType.HEADERS]) {
    assert.deepEqual(decodeError(() => decodeFrame(type, PADDED, 1, new Uint8Array(0))), {
      code: ErrorCode.FRAME_SIZE_ERROR,
      streamId: undefined,
    });
  }
  const data = decodeFrame(FrameType.DATA, PADDED | END_STREAM, 1, new Uint8Array([0]));
  assert.deepEqual(data, {
    type: FrameType.DATA,
    streamId: 1,
    endStream: true,
    data: new Uint8Array(0),
    length: 1,
  });
  const headers = decodeFrame(FrameType.HEADERS, PADDED | END_HEADERS, 1, new Uint8Array([0]));
  assert.ok(headers.type === FrameType.HEADERS);
  assert.deepEqual(headers.block, new Uint8Array(0));
});

Deno.test("HEADERS with PRIORITY: 5 bytes of priority are needed, and may be all (RFC 9113 §6.2)", () => {
  assert.deepEqual(
    decodeError(() => decodeFrame(FrameType.HEADERS, PRIORITY, 1, new Uint8Array(4))),
    { code: ErrorCode.FRAME_SIZE_ERROR, streamId: undefined },
  );
  const headers = decodeFrame(FrameType.HEADERS, PRIORITY, 1, new Uint8Array([0, 0, 0, 3, 9]));
  assert.ok(headers.type === FrameType.HEADERS);
  assert.equal(headers.dependsOn, 3);
  assert.deepEqual(headers.block, new Uint8Array(0));
});

Deno.test("PUSH_PROMISE from a client is a connection error whatever it holds (RFC 9113 §8.4)", () => {
  // On stream 0 with 8 bytes, it would read as a PING if it were not refused by type.
  assert.deepEqual(
    decodeError(() => decodeFrame(FrameType.PUSH_PROMISE, 0, 0, new Uint8Array(8))),
    {
      code: ErrorCode.PROTOCOL_ERROR,
      streamId: undefined,
    },
  );
});

Deno.test("FrameReader: a frame split over reads, after a whole one, is read once and whole", () => {
  const bytes = concat([pingFrame(1), pingFrame(2), pingFrame(3)]);
  const reader = new FrameReader();
  const seen: unknown[] = [];
  const onFrame = (f: unknown) => seen.push(f);
  reader.push(bytes.slice(0, 17 + 12), onFrame);
  assert.equal(seen.length, 1);
  reader.push(bytes.slice(29, 40), onFrame);
  reader.push(bytes.slice(40), onFrame);
  assert.deepEqual(
    seen,
    [1, 2, 3].map((n) => decodeFrame(FrameType.PING, 0, 0, pingFrame(n).subarray(9))),
  );
});

Deno.test("FrameReader: the unread rest is copied, so the caller may reuse its buffer", () => {
  const bytes = frame(FrameType.DATA, 0, 1, new Uint8Array([1, 2, 3, 4]));
  const reader = new FrameReader();
  const seen: unknown[] = [];
  const chunk = bytes.slice(0, 10);
  reader.push(chunk, (f) => seen.push(f));
  chunk.fill(0xee);
  reader.push(bytes.slice(10), (f) => seen.push(f));
  assert.deepEqual(seen, [decodeFrame(FrameType.DATA, 0, 1, new Uint8Array([1, 2, 3, 4]))]);
});

Deno.test("frames that belong to a stream, on stream 0: a connection error PROTOCOL_ERROR (RFC 9113 §6)", () => {
  const payloads: [number, Uint8Array][] = [
    [FrameType.DATA, new Uint8Array(1)],
    [FrameType.HEADERS, new Uint8Array(1)],
    [FrameType.PRIORITY, new Uint8Array(5)],
    [FrameType.RST_STREAM, new Uint8Array(4)],
    [FrameType.CONTINUATION, new Uint8Array(1)],
  ];
  for (const [type, payload] of payloads) {
    assert.deepEqual(decodeError(() => decodeFrame(type, END_HEADERS, 0, payload)), {
      code: ErrorCode.PROTOCOL_ERROR,
      streamId: undefined,
    }, `type ${type}`);
  }
});
