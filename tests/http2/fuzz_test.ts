/**
 * Fuzzing the frame reader, the HPACK decoder and the connection with
 * random and mutated frames from a seeded generator (so a failure repeats):
 * nothing may throw, nothing may hang, and no fault may be reported as
 * INTERNAL_ERROR (which would mean a bug of ours, not of the input).
 */

import assert from "node:assert/strict";
import {
  concat,
  ErrorCode,
  frame,
  FrameType,
  grpcRequestHeaders,
  hpackLiterals,
  settingsFrame,
} from "../_h2.ts";
import { seededRandom } from "../_random.ts";
import { Peer } from "./_peer.ts";

const CASES = 3000;
const REQUEST = hpackLiterals(grpcRequestHeaders("/svc/M"));

/** Random helpers over one seeded generator. */
function generator(seed: number) {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  return { random, int, bytes };
}

/** A plausible frame: a valid request, DATA, control frames, or junk. */
function randomFrame(g: ReturnType<typeof generator>): Uint8Array {
  const stream = 1 + 2 * g.int(4);
  switch (g.int(8)) {
    case 0:
      return frame(
        FrameType.HEADERS,
        0x4 | g.int(2),
        stream,
        hpackLiterals(grpcRequestHeaders("/svc/M")),
      );
    case 1:
      return frame(FrameType.DATA, g.int(2), stream, g.bytes(g.int(64)));
    case 2:
      return frame(FrameType.WINDOW_UPDATE, 0, g.int(2) * stream, g.bytes(4));
    case 3:
      return settingsFrame([[1 + g.int(7), g.int(2 ** 20)]]);
    case 4:
      return frame(FrameType.RST_STREAM, 0, stream, g.bytes(4));
    case 5:
      return frame(g.int(16), g.int(256), g.int(3) === 0 ? 0 : stream, g.bytes(g.int(40)));
    case 6:
      return frame(FrameType.CONTINUATION, g.int(2) * 4, stream, g.bytes(g.int(20)));
    default:
      return frame(FrameType.PING, g.int(2), 0, g.bytes(8));
  }
}

/** Flips a few bytes. */
function mutate(g: ReturnType<typeof generator>, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  for (let i = 0, n = 1 + g.int(3); i < n && out.length > 0; i++) {
    out[g.int(out.length)] = g.int(256);
  }
  return out;
}

Deno.test(`fuzz: ${CASES} random and mutated frame sequences never throw, hang or fail internally`, () => {
  const started = Date.now();
  let served = 0;
  const codes = new Set<number>();
  for (let seed = 1; seed <= CASES; seed++) {
    const g = generator(seed);
    const peer = new Peer({ maxConcurrentStreams: 2 });
    const frames = Array.from({ length: 1 + g.int(12) }, () => randomFrame(g));
    // Most sequences start with a valid request, so the fuzzing reaches open streams.
    if (g.int(4) !== 0) frames.unshift(frame(FrameType.HEADERS, 0x4, 1, REQUEST));
    let bytes = concat(frames);
    if (g.int(2) === 0) bytes = mutate(g, bytes);
    // Split at random points, as a socket would.
    for (let at = 0; at < bytes.length;) {
      const end = Math.min(bytes.length, at + 1 + g.int(64));
      peer.send(bytes.subarray(at, end));
      at = end;
      // Answer whatever arrived, so output paths run too.
      for (const event of peer.events.splice(0)) {
        if (event.type === "request") {
          served++;
          peer.connection.respond(event.streamId, [[":status", "200"]]);
          peer.connection.sendData(event.streamId, g.bytes(g.int(100)));
          if (g.int(2) === 0) peer.connection.end(event.streamId);
        } else if (event.type === "wantTrailers") {
          peer.connection.sendTrailers(event.streamId, [["grpc-status", "0"]]);
        }
      }
      peer.pump();
    }
    const goaway = peer.goaway();
    assert.notEqual(goaway?.errorCode, ErrorCode.INTERNAL_ERROR, `seed ${seed}`);
    if (goaway !== undefined) codes.add(goaway.errorCode);
  }
  // The input reached deep enough: requests were served, faults of many kinds found.
  assert.ok(served > CASES / 2, `only ${served} requests served`);
  assert.ok(codes.size >= 5, `GOAWAY codes seen: ${[...codes]}`);
  assert.ok(Date.now() - started < 60_000, "the fuzz run took over a minute");
});

// The HPACK decoder on its own is fuzzed in hpack_test.ts ("HpackDecoder fuzz"), with more
// blocks, several table sizes and header-list limits, and its outcomes counted.
