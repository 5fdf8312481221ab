/**
 * RFC 9113 case by case (what h2spec checks), driven through bytes into the
 * sans-I/O server connection: every connection error with its GOAWAY code,
 * every stream error with its RST_STREAM code and the connection going on.
 */

import assert from "node:assert/strict";
import { requestHeaderFault, ServerConnection } from "../../lib/http2/connection.ts";
import { HpackDecoder } from "../../lib/http2/hpack.ts";
import {
  concat,
  ErrorCode,
  frame,
  FrameParser,
  FrameType,
  grpcRequestHeaders,
  hpackLiterals,
  parseSettings,
  pingFrame,
  PREFACE,
  settingsFrame,
} from "../_h2.ts";
import { Peer, readUint32, uint32 } from "./_peer.ts";

const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const SETTINGS_MAX_FRAME_SIZE = 0x5;
const REQUEST = hpackLiterals(grpcRequestHeaders("/svc/Method"));

/** Asserts the connection ended with GOAWAY `code` and reported it. */
function assertConnectionError(peer: Peer, code: number, lastStreamId?: number): void {
  const goaway = peer.goaway();
  assert.ok(goaway, "no GOAWAY");
  assert.equal(goaway.errorCode, code, `GOAWAY code ${goaway.errorCode}, not ${code}`);
  if (lastStreamId !== undefined) assert.equal(goaway.lastStreamId, lastStreamId);
  assert.ok(peer.connection.failed);
  assert.ok(peer.events.some((e) => e.type === "closed" && e.code === code));
}

/** Asserts stream `id` alone was reset with `code` and the connection still answers PINGs. */
function assertStreamError(peer: Peer, id: number, code: number): void {
  assert.deepEqual(peer.resets().filter(([s]) => s === id), [[id, code]]);
  assert.equal(peer.connection.isOpen(id), false, `stream ${id} still open after its reset`);
  assert.equal(peer.goaway(), undefined);
  const acks = peer.send(pingFrame(99)).filter((f) => f.type === FrameType.PING);
  assert.equal(acks.length, 1, "the connection stopped answering");
}

const connectionErrors: [string, Uint8Array[], number][] = [
  ["DATA on stream 0", [frame(FrameType.DATA, 0, 0, new Uint8Array(4))], ErrorCode.PROTOCOL_ERROR],
  [
    "HEADERS on stream 0",
    [frame(FrameType.HEADERS, END_HEADERS, 0, REQUEST)],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "PRIORITY on stream 0",
    [frame(FrameType.PRIORITY, 0, 0, new Uint8Array(5))],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "RST_STREAM on stream 0",
    [frame(FrameType.RST_STREAM, 0, 0, uint32(8))],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "RST_STREAM of 3 bytes",
    [frame(FrameType.RST_STREAM, 0, 1, new Uint8Array(3))],
    ErrorCode.FRAME_SIZE_ERROR,
  ],
  [
    "RST_STREAM on an idle stream",
    [frame(FrameType.RST_STREAM, 0, 1, uint32(8))],
    ErrorCode.PROTOCOL_ERROR,
  ],
  ["SETTINGS on stream 1", [frame(FrameType.SETTINGS, 0, 1)], ErrorCode.PROTOCOL_ERROR],
  [
    "SETTINGS of 7 bytes",
    [frame(FrameType.SETTINGS, 0, 0, new Uint8Array(7))],
    ErrorCode.FRAME_SIZE_ERROR,
  ],
  [
    "SETTINGS ACK with a payload",
    [frame(FrameType.SETTINGS, ACK, 0, new Uint8Array(6))],
    ErrorCode.FRAME_SIZE_ERROR,
  ],
  ["SETTINGS_ENABLE_PUSH 2", [settingsFrame([[0x2, 2]])], ErrorCode.PROTOCOL_ERROR],
  [
    "SETTINGS_INITIAL_WINDOW_SIZE 2^31",
    [settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 2 ** 31]])],
    ErrorCode.FLOW_CONTROL_ERROR,
  ],
  [
    "SETTINGS_MAX_FRAME_SIZE 16383",
    [settingsFrame([[SETTINGS_MAX_FRAME_SIZE, 16383]])],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "SETTINGS_MAX_FRAME_SIZE 2^24",
    [settingsFrame([[SETTINGS_MAX_FRAME_SIZE, 2 ** 24]])],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "PUSH_PROMISE from a client",
    [frame(FrameType.PUSH_PROMISE, END_HEADERS, 1, new Uint8Array(4))],
    ErrorCode.PROTOCOL_ERROR,
  ],
  ["PING of 7 bytes", [frame(FrameType.PING, 0, 0, new Uint8Array(7))], ErrorCode.FRAME_SIZE_ERROR],
  ["PING on stream 1", [frame(FrameType.PING, 0, 1, new Uint8Array(8))], ErrorCode.PROTOCOL_ERROR],
  [
    "GOAWAY on stream 1",
    [frame(FrameType.GOAWAY, 0, 1, new Uint8Array(8))],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "GOAWAY of 7 bytes",
    [frame(FrameType.GOAWAY, 0, 0, new Uint8Array(7))],
    ErrorCode.FRAME_SIZE_ERROR,
  ],
  [
    "WINDOW_UPDATE of 3 bytes",
    [frame(FrameType.WINDOW_UPDATE, 0, 0, new Uint8Array(3))],
    ErrorCode.FRAME_SIZE_ERROR,
  ],
  [
    "connection WINDOW_UPDATE of 0",
    [frame(FrameType.WINDOW_UPDATE, 0, 0, uint32(0))],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "connection window over 2^31 - 1",
    [frame(FrameType.WINDOW_UPDATE, 0, 0, uint32(2 ** 31 - 1))],
    ErrorCode.FLOW_CONTROL_ERROR,
  ],
  [
    "WINDOW_UPDATE on an idle stream",
    [frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(1))],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "DATA on an idle stream",
    [frame(FrameType.DATA, 0, 1, new Uint8Array(4))],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "HEADERS on an even stream",
    [frame(FrameType.HEADERS, END_HEADERS, 2, REQUEST)],
    ErrorCode.PROTOCOL_ERROR,
  ],
  [
    "a frame over the 16,384-byte limit",
    [frame(FrameType.DATA, 0, 1, new Uint8Array(16385))],
    ErrorCode.FRAME_SIZE_ERROR,
  ],
  ["CONTINUATION with no HEADERS before it", [
    frame(FrameType.CONTINUATION, END_HEADERS, 1, REQUEST),
  ], ErrorCode.PROTOCOL_ERROR],
  ["a PING between HEADERS and its CONTINUATION", [
    frame(FrameType.HEADERS, 0, 1, REQUEST.subarray(0, 5)),
    pingFrame(1),
  ], ErrorCode.PROTOCOL_ERROR],
  ["CONTINUATION on another stream", [
    frame(FrameType.HEADERS, 0, 1, REQUEST.subarray(0, 5)),
    frame(FrameType.CONTINUATION, END_HEADERS, 3, REQUEST.subarray(5)),
  ], ErrorCode.PROTOCOL_ERROR],
  ["DATA padding as long as the payload", [
    frame(FrameType.HEADERS, END_HEADERS, 1, REQUEST),
    frame(FrameType.DATA, PADDED, 1, new Uint8Array([4, 0, 0, 0])),
  ], ErrorCode.PROTOCOL_ERROR],
  ["HEADERS padding as long as the payload", [
    frame(FrameType.HEADERS, END_HEADERS | PADDED, 1, new Uint8Array([9, 1, 2])),
  ], ErrorCode.PROTOCOL_ERROR],
  ["an HPACK block that does not decode", [
    frame(FrameType.HEADERS, END_HEADERS, 1, new Uint8Array(16).fill(0xff)),
  ], ErrorCode.COMPRESSION_ERROR],
];

for (const [name, frames, code] of connectionErrors) {
  Deno.test(`connection error: ${name} gets GOAWAY ${code} and no more input is read`, () => {
    const peer = new Peer();
    peer.send(...frames);
    assertConnectionError(peer, code);
    assert.equal(peer.send(pingFrame(1)).length, 0);
  });
}

Deno.test("the server speaks first: SETTINGS with its limits; a wider connection window after the client's", () => {
  const peer = new Peer({ preface: false, maxConcurrentStreams: 7, streamWindow: 100_000 });
  peer.pump();
  assert.equal(peer.parser.frames.length, 1);
  peer.send(PREFACE, settingsFrame());
  const [settings, update] = peer.parser.frames;
  assert.equal(settings.type, FrameType.SETTINGS);
  assert.deepEqual(parseSettings(settings).slice(0, 2), [[0x3, 7], [0x4, 100_000]]);
  assert.equal(update.type, FrameType.WINDOW_UPDATE);
  assert.equal(readUint32(update.payload), 1024 * 1024 - 65535);
});

Deno.test("a client that is not HTTP/2 gets GOAWAY PROTOCOL_ERROR naming what this port speaks", () => {
  const peer = new Peer({ preface: false });
  peer.send(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  assertConnectionError(peer, ErrorCode.PROTOCOL_ERROR, 0);
  const goaway = peer.sent(FrameType.GOAWAY)[0];
  assert.match(new TextDecoder().decode(goaway.payload.subarray(8)), /HTTP\/2 .*only/);
});

Deno.test("the preface may arrive one byte at a time", () => {
  const peer = new Peer({ preface: false });
  for (const byte of concat([PREFACE, settingsFrame(), pingFrame(5)])) {
    peer.send(new Uint8Array([byte]));
  }
  assert.equal(peer.sent(FrameType.PING).length, 1);
  assert.equal(peer.goaway(), undefined);
});

Deno.test("a first frame other than SETTINGS is a PROTOCOL_ERROR", () => {
  const peer = new Peer({ preface: false });
  peer.send(PREFACE, pingFrame(1));
  assertConnectionError(peer, ErrorCode.PROTOCOL_ERROR);
});

Deno.test("SETTINGS get an ACK; unknown settings and frame types and PRIORITY are ignored", () => {
  const peer = new Peer();
  assert.equal(peer.sent(FrameType.SETTINGS).filter((f) => f.flags === ACK).length, 1);
  peer.send(
    settingsFrame([[0x99, 5]]),
    frame(0x42, 0xff, 0, new Uint8Array(30)),
    frame(0x0b, 0, 1, new Uint8Array(3)),
    frame(FrameType.PRIORITY, 0, 9, new Uint8Array(5)),
  );
  assert.equal(peer.sent(FrameType.SETTINGS).filter((f) => f.flags === ACK).length, 2);
  assert.equal(peer.goaway(), undefined);
  assert.deepEqual(peer.resets(), []);
});

Deno.test("PING gets an ACK with the same payload; a PING ACK is not answered", () => {
  const peer = new Peer();
  const [ack] = peer.send(pingFrame(1234), frame(FrameType.PING, ACK, 0, new Uint8Array(8)));
  assert.equal(ack.type, FrameType.PING);
  assert.equal(ack.flags, ACK);
  assert.deepEqual(ack.payload, pingFrame(1234).subarray(9));
  assert.equal(peer.sent(FrameType.PING).length, 1);
  assert.ok(peer.events.some((e) => e.type === "pingAck"));
});

Deno.test("a PING flood ends the connection with ENHANCE_YOUR_CALM once 1,000 ACKs wait", () => {
  const peer = new Peer();
  peer.send(...Array.from({ length: 3000 }, (_, i) => pingFrame(i)));
  assertConnectionError(peer, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(peer.sent(FrameType.PING).length, 1000);
});

Deno.test("a SETTINGS flood ends the connection with ENHANCE_YOUR_CALM once 1,000 ACKs wait", () => {
  const peer = new Peer();
  peer.send(...Array.from({ length: 3000 }, () => settingsFrame([[0x4, 65535]])));
  assertConnectionError(peer, ErrorCode.ENHANCE_YOUR_CALM);
});

Deno.test("PINGs answered as fast as they come are no flood (grpc-go's BDP pings)", () => {
  const peer = new Peer();
  for (let round = 0; round < 50; round++) {
    peer.send(...Array.from({ length: 900 }, (_, i) => pingFrame(i)));
  }
  assert.equal(peer.goaway(), undefined);
  assert.equal(peer.sent(FrameType.PING).length, 45_000);
});

Deno.test("rapid reset: over 1,000 unanswered streams reset in a second get ENHANCE_YOUR_CALM", () => {
  const peer = new Peer({ now: () => 0 });
  const frames = [];
  for (let i = 0; i < 1500; i++) {
    frames.push(frame(FrameType.HEADERS, END_HEADERS, 1 + 2 * i, REQUEST));
    frames.push(frame(FrameType.RST_STREAM, 0, 1 + 2 * i, uint32(ErrorCode.CANCEL)));
  }
  peer.send(...frames);
  // The 1,001st reset (stream 2001) is one too many.
  assertConnectionError(peer, ErrorCode.ENHANCE_YOUR_CALM, 2001);
});

Deno.test("resets of answered streams, or spread over time, are no attack", () => {
  let now = 0;
  const peer = new Peer({ now: () => now });
  for (let i = 0; i < 3000; i++) {
    const id = 1 + 2 * i;
    peer.request(id);
    if (i % 2 === 0) peer.connection.respond(id, [[":status", "200"]]);
    if (i % 1000 === 0) now += 1000;
    peer.send(frame(FrameType.RST_STREAM, 0, id, uint32(ErrorCode.CANCEL)));
  }
  assert.equal(peer.goaway(), undefined);
});

Deno.test("stream states (RFC 9113 §5.1)", async (t) => {
  await t.step("DATA after END_STREAM: RST_STREAM STREAM_CLOSED for that stream only", () => {
    const peer = new Peer();
    peer.request(1, true);
    peer.request(3);
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(3)));
    assertStreamError(peer, 1, ErrorCode.STREAM_CLOSED);
    assert.ok(peer.connection.isOpen(3));
  });

  await t.step("HEADERS after END_STREAM: RST_STREAM STREAM_CLOSED", () => {
    const peer = new Peer();
    peer.request(1, true);
    peer.send(frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, hpackLiterals([["x", "y"]])));
    assertStreamError(peer, 1, ErrorCode.STREAM_CLOSED);
  });

  await t.step("DATA on a stream closed normally: RST_STREAM STREAM_CLOSED", () => {
    const peer = new Peer();
    peer.request(1, true);
    peer.connection.respond(1, [[":status", "200"]], { endStream: true });
    peer.pump();
    assert.equal(peer.connection.isOpen(1), false);
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(3)));
    assertStreamError(peer, 1, ErrorCode.STREAM_CLOSED);
  });

  await t.step("HEADERS on a closed stream: GOAWAY STREAM_CLOSED", () => {
    const peer = new Peer();
    peer.request(1, true);
    peer.connection.respond(1, [[":status", "200"]], { endStream: true });
    peer.pump();
    peer.request(1, true);
    assertConnectionError(peer, ErrorCode.STREAM_CLOSED);
  });

  await t.step("DATA in flight after we reset a stream is dropped quietly", () => {
    const peer = new Peer();
    peer.request(1);
    peer.connection.reset(1, ErrorCode.CANCEL);
    peer.pump();
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(3)));
    assert.deepEqual(peer.resets(), [[1, ErrorCode.CANCEL]]);
    assert.equal(peer.goaway(), undefined);
  });

  await t.step("a stream id lower than one already used: GOAWAY PROTOCOL_ERROR", () => {
    const peer = new Peer();
    peer.request(5);
    peer.request(3);
    assertConnectionError(peer, ErrorCode.PROTOCOL_ERROR, 5);
  });

  await t.step("a stream depending on itself: RST_STREAM PROTOCOL_ERROR", () => {
    const peer = new Peer();
    const priority = concat([uint32(1), new Uint8Array([16])]);
    peer.send(frame(FrameType.HEADERS, END_HEADERS | PRIORITY, 1, concat([priority, REQUEST])));
    assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
  });

  await t.step("PRIORITY of 4 bytes: RST_STREAM FRAME_SIZE_ERROR", () => {
    const peer = new Peer();
    peer.send(frame(FrameType.PRIORITY, 0, 1, new Uint8Array(4)));
    assertStreamError(peer, 1, ErrorCode.FRAME_SIZE_ERROR);
  });

  await t.step("a client RST_STREAM closes the stream and fails its pending writes", () => {
    const peer = new Peer({ streamWindow: 65535 });
    peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 0]]));
    peer.request(1);
    peer.connection.respond(1, [[":status", "200"]]);
    const errors: (Error | undefined)[] = [];
    peer.connection.sendData(1, new Uint8Array(10), (e) => errors.push(e));
    peer.pump();
    assert.deepEqual(errors, []);
    peer.send(frame(FrameType.RST_STREAM, 0, 1, uint32(ErrorCode.CANCEL)));
    assert.equal(errors.length, 1);
    assert.match(String(errors.at(0)), /closed/);
    assert.ok(
      peer.events.some((e) =>
        e.type === "streamClosed" && e.streamId === 1 && e.byPeer && e.code === ErrorCode.CANCEL
      ),
    );
  });
});

Deno.test("header blocks: CONTINUATION, padding and priority are all read", () => {
  const peer = new Peer();
  const padded = concat([new Uint8Array([3]), REQUEST.subarray(0, 10), new Uint8Array(3)]);
  peer.send(
    frame(FrameType.HEADERS, PADDED, 1, padded),
    frame(FrameType.CONTINUATION, 0, 1, REQUEST.subarray(10, 20)),
    frame(FrameType.CONTINUATION, END_HEADERS, 1, REQUEST.subarray(20)),
    frame(FrameType.DATA, PADDED | END_STREAM, 1, new Uint8Array([2, 7, 7, 0, 0])),
  );
  const request = peer.events.find((e) => e.type === "request");
  assert.deepEqual(request, {
    type: "request",
    streamId: 1,
    headers: grpcRequestHeaders("/svc/Method"),
    endStream: false,
  });
  assert.deepEqual(peer.events.find((e) => e.type === "data"), {
    type: "data",
    streamId: 1,
    data: new Uint8Array([7, 7]),
    endStream: true,
  });
});

Deno.test("malformed requests (RFC 9113 §8.2, §8.3) reset only their stream with PROTOCOL_ERROR", async (t) => {
  const base = grpcRequestHeaders("/svc/Method");
  const cases: [string, [string, string][]][] = [
    ["an upper-case header name", [...base, ["X-Upper", "1"]]],
    ["a connection-specific header", [...base, ["connection", "keep-alive"]]],
    ["transfer-encoding", [...base, ["transfer-encoding", "chunked"]]],
    ["te other than trailers", base.map(([n, v]) => n === "te" ? [n, "gzip"] : [n, v])],
    ["no :path", base.filter(([n]) => n !== ":path")],
    ["no :method", base.filter(([n]) => n !== ":method")],
    ["an empty :path", base.map(([n, v]) => n === ":path" ? [n, ""] : [n, v])],
    ["a pseudo-header after a regular one", [...base, [":authority", "x"]]],
    ["an unknown pseudo-header", [[":unknown", "1"], ...base]],
    ["a response pseudo-header", [[":status", "200"], ...base]],
    ["a pseudo-header twice", [[":method", "POST"], ...base]],
    ["a value with a line feed", [...base, ["x-a", "b\nc"]]],
  ];
  for (const [name, headers] of cases) {
    await t.step(name, () => {
      const peer = new Peer();
      peer.request(1);
      peer.request(3, false, headers);
      assertStreamError(peer, 3, ErrorCode.PROTOCOL_ERROR);
      assert.ok(peer.connection.isOpen(1));
      assert.equal(peer.events.filter((e) => e.type === "request").length, 1);
    });
  }

  await t.step("content-length that the DATA does not match", () => {
    const peer = new Peer();
    peer.request(1, false, [...base, ["content-length", "5"]]);
    peer.send(frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(3)));
    assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
  });

  await t.step("trailers with a pseudo-header", () => {
    const peer = new Peer();
    peer.request(1);
    peer.send(
      frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, hpackLiterals([[":path", "/"]])),
    );
    assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
  });

  await t.step("trailers without END_STREAM", () => {
    const peer = new Peer();
    peer.request(1);
    peer.send(frame(FrameType.HEADERS, END_HEADERS, 1, hpackLiterals([["x", "y"]])));
    assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
  });

  await t.step("well-formed trailers end the request", () => {
    const peer = new Peer();
    peer.request(1);
    peer.send(frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, hpackLiterals([["x", "y"]])));
    assert.deepEqual(peer.resets(), []);
    assert.ok(peer.events.some((e) => e.type === "data" && e.streamId === 1 && e.endStream));
  });

  await t.step("the checks name what is wrong", () => {
    assert.match(String(requestHeaderFault([...base, ["X-Upper", "1"]], false)), /X-Upper/);
    assert.equal(requestHeaderFault(base, false), undefined);
  });
});

Deno.test("MAX_CONCURRENT_STREAMS: the stream over the limit is refused alone", () => {
  const peer = new Peer({ maxConcurrentStreams: 2 });
  peer.request(1);
  peer.request(3);
  peer.request(5);
  assertStreamError(peer, 5, ErrorCode.REFUSED_STREAM);
  assert.ok(peer.connection.isOpen(1));
  assert.ok(peer.connection.isOpen(3));
  // DATA already in flight for the refused stream is dropped quietly.
  peer.send(frame(FrameType.DATA, 0, 5, new Uint8Array(3)));
  assert.equal(peer.resets().length, 1);
  peer.connection.reset(1, ErrorCode.CANCEL);
  peer.request(7);
  assert.ok(peer.connection.isOpen(7));
});

Deno.test("a refused stream's header block is still decoded, so the HPACK table stays in step", () => {
  const peer = new Peer({ maxConcurrentStreams: 1 });
  peer.request(1);
  // Literal with incremental indexing, new name (RFC 7541 §6.2.1): enters the table as index 62.
  const indexed = concat([
    new Uint8Array([0x40, 6]),
    new TextEncoder().encode("x-seen"),
    new Uint8Array([3]),
    new TextEncoder().encode("yes"),
  ]);
  peer.send(frame(FrameType.HEADERS, END_HEADERS, 3, concat([REQUEST, indexed])));
  assert.deepEqual(peer.resets(), [[3, ErrorCode.REFUSED_STREAM]]);
  peer.connection.reset(1, ErrorCode.CANCEL);
  peer.send(
    frame(FrameType.HEADERS, END_HEADERS, 5, concat([REQUEST, new Uint8Array([0x80 | 62])])),
  );
  const request = peer.events.find((e) => e.type === "request" && e.streamId === 5);
  assert.ok(request?.type === "request");
  assert.deepEqual(request.headers.at(-1), ["x-seen", "yes"]);
});

Deno.test("flow control of what the server sends", async (t) => {
  /** A peer with one open, answered stream 1 and `window` bytes of stream window. */
  const open = (window: number, options = {}) => {
    const peer = new Peer(options);
    peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, window]]));
    peer.request(1, true);
    peer.connection.respond(1, [[":status", "200"]], { waitForTrailers: true });
    return peer;
  };

  await t.step("DATA stops at the stream window and goes on with WINDOW_UPDATE", () => {
    const peer = open(10);
    const done: (Error | undefined)[] = [];
    peer.connection.sendData(1, new Uint8Array(25), (e) => done.push(e));
    peer.pump();
    assert.equal(peer.dataBytes(1), 10);
    assert.deepEqual(done, [], "the write callback ran before its bytes could be sent");
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(5)));
    assert.equal(peer.dataBytes(1), 15);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(100)));
    assert.equal(peer.dataBytes(1), 25);
    assert.deepEqual(done, [undefined]);
  });

  await t.step("a SETTINGS change mid-stream moves the window, even below zero", () => {
    const peer = open(10);
    peer.connection.sendData(1, new Uint8Array(40));
    peer.pump();
    assert.equal(peer.dataBytes(1), 10);
    peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 5]])); // window now -5
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(10))); // +5
    assert.equal(peer.dataBytes(1), 15);
    peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 30]])); // +25
    assert.equal(peer.dataBytes(1), 40);
  });

  await t.step("DATA stops at the connection window", () => {
    const peer = open(1_000_000);
    peer.connection.sendData(1, new Uint8Array(70_000));
    peer.pump();
    assert.equal(peer.dataBytes(1), 65535);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 0, uint32(10_000)));
    assert.equal(peer.dataBytes(1), 70_000);
  });

  await t.step("DATA frames are split at the peer's MAX_FRAME_SIZE", () => {
    const peer = open(1_000_000);
    peer.send(settingsFrame([[SETTINGS_MAX_FRAME_SIZE, 20_000]]));
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 0, uint32(1_000_000)));
    peer.connection.sendData(1, new Uint8Array(50_000));
    peer.pump();
    const sizes = peer.sent(FrameType.DATA).map((f) => f.payload.length);
    assert.deepEqual(sizes, [20_000, 20_000, 10_000]);
  });

  await t.step("small writes share DATA frames", () => {
    const peer = open(1_000_000);
    for (let i = 0; i < 100; i++) peer.connection.sendData(1, new Uint8Array(20));
    peer.pump();
    assert.deepEqual(peer.sent(FrameType.DATA).map((f) => f.payload.length), [2000]);
  });

  await t.step("trailers wait for the queued DATA, after wantTrailers", () => {
    const peer = open(10);
    peer.connection.sendData(1, new Uint8Array(20));
    peer.connection.end(1);
    peer.pump();
    assert.equal(peer.events.some((e) => e.type === "wantTrailers"), false);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(10)));
    assert.ok(peer.events.some((e) => e.type === "wantTrailers"));
    peer.connection.sendTrailers(1, [["grpc-status", "0"]]);
    peer.pump();
    const last = peer.parser.frames.at(-1)!;
    assert.equal(last.type, FrameType.HEADERS);
    assert.equal(last.flags & END_STREAM, END_STREAM);
    assert.deepEqual(peer.headerLists, [[[":status", "200"]], [["grpc-status", "0"]]]);
    assert.equal(peer.connection.isOpen(1), false);
  });

  await t.step("WINDOW_UPDATE of 0 on a stream: RST_STREAM PROTOCOL_ERROR", () => {
    const peer = open(10);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(0)));
    assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
  });

  await t.step("a stream window over 2^31 - 1: RST_STREAM FLOW_CONTROL_ERROR", () => {
    const peer = open(10);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(2 ** 31 - 5)));
    assertStreamError(peer, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });

  await t.step(
    "a SETTINGS change that takes a stream window over 2^31 - 1: FLOW_CONTROL_ERROR",
    () => {
      const peer = open(10);
      peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(2 ** 31 - 20)));
      peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 2 ** 31 - 1]]));
      assertConnectionError(peer, ErrorCode.FLOW_CONTROL_ERROR);
    },
  );
});

Deno.test("flow control of what the client sends", async (t) => {
  await t.step("DATA over the stream window: RST_STREAM FLOW_CONTROL_ERROR", () => {
    const peer = new Peer({ streamWindow: 65535 });
    peer.request(1);
    const chunk = new Uint8Array(16384);
    peer.send(...Array.from({ length: 3 }, () => frame(FrameType.DATA, 0, 1, chunk)));
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(65535 - 3 * 16384)));
    assert.deepEqual(peer.resets(), []);
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(1)));
    assertStreamError(peer, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });

  await t.step("windows are given back in batches, never with an increment of 0", () => {
    const peer = new Peer({ streamWindow: 65535, connectionWindow: 65535 });
    peer.request(1);
    const updates = () =>
      peer.sent(FrameType.WINDOW_UPDATE).map((f) => [f.streamId, readUint32(f.payload)]);
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(1000)));
    peer.connection.consumed(1, 1000);
    peer.pump();
    assert.deepEqual(updates(), []);
    peer.send(...[16000, 16000, 8000].map((n) => frame(FrameType.DATA, 0, 1, new Uint8Array(n))));
    peer.connection.consumed(1, 40000);
    peer.pump();
    // The connection gives back at half its window, the stream once the reader consumed.
    assert.deepEqual(updates(), [[0, 33000], [1, 41000]]);
    assert.ok(updates().every(([, n]) => n > 0));
  });

  await t.step("bytes not consumed keep the stream window closed (a paused reader)", () => {
    const peer = new Peer({ streamWindow: 65535 });
    peer.request(1);
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
    assert.equal(peer.sent(FrameType.WINDOW_UPDATE).filter((f) => f.streamId === 1).length, 0);
  });
});

Deno.test("our GOAWAY: streams above its last stream id are ignored, open ones go on", () => {
  const peer = new Peer();
  peer.request(1);
  peer.connection.goaway();
  peer.pump();
  assert.deepEqual(peer.goaway(), { lastStreamId: 1, errorCode: ErrorCode.NO_ERROR });
  peer.request(3, true);
  assert.equal(peer.events.filter((e) => e.type === "request").length, 1);
  assert.ok(peer.connection.isOpen(1));
  assert.equal(peer.connection.failed, false);
});

Deno.test("a response that ends before the request: the rest of a short request is dropped, no reset", () => {
  const peer = new Peer();
  peer.request(1);
  peer.connection.respond(1, [[":status", "200"], ["grpc-status", "3"]], { endStream: true });
  peer.pump();
  // Closed for the layer above at once; the client may finish sending.
  assert.ok(peer.events.some((e) => e.type === "streamClosed" && e.code === 0 && !e.byPeer));
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(4000)));
  peer.send(frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(4000)));
  // A client's trailers on such a stream are dropped too, not a connection error.
  peer.request(3);
  peer.connection.respond(3, [[":status", "200"]], { endStream: true });
  peer.send(frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 3, hpackLiterals([["x", "y"]])));
  assert.deepEqual(peer.resets(), []);
  assert.equal(peer.goaway(), undefined);
  assert.ok(!peer.events.some((e) => e.type === "data"), "dropped data reached the layer above");
});

Deno.test("a response that ends before the request: RST_STREAM NO_ERROR past 16 KiB more", () => {
  const peer = new Peer();
  peer.request(1);
  peer.connection.respond(1, [[":status", "200"]], { endStream: true });
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
  assert.deepEqual(peer.resets(), []);
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(1)));
  assert.deepEqual(peer.resets(), [[1, ErrorCode.NO_ERROR]]);
  // What was in flight is still dropped quietly, and the reset is not repeated.
  peer.send(frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(100)));
  assert.deepEqual(peer.resets(), [[1, ErrorCode.NO_ERROR]]);
  assert.equal(peer.goaway(), undefined);
});

Deno.test("a response that ends before the request: RST_STREAM NO_ERROR at the first frame after 1 s", () => {
  let now = 0;
  const peer = new Peer({ now: () => now });
  peer.request(1);
  peer.connection.respond(1, [[":status", "200"]], { endStream: true });
  peer.pump();
  now = 999;
  peer.send(pingFrame(1));
  assert.deepEqual(peer.resets(), []);
  now = 1001;
  peer.send(pingFrame(2));
  assert.deepEqual(peer.resets(), [[1, ErrorCode.NO_ERROR]]);
});

Deno.test("a response that ends before the request, the stream window used up: a WINDOW_UPDATE lets the client go on, then RST_STREAM NO_ERROR past 16 KiB", () => {
  const peer = new Peer({ streamWindow: 65535 });
  peer.request(1);
  // The layer above reads none of it: the client has no window left.
  const chunk = new Uint8Array(16384);
  peer.send(...Array.from({ length: 3 }, () => frame(FrameType.DATA, 0, 1, chunk)));
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(65535 - 3 * 16384)));
  peer.connection.respond(1, [[":status", "200"]], { endStream: true });
  peer.pump();
  // Without room the client could send nothing, and no reset would ever come.
  const updates = () =>
    peer.sent(FrameType.WINDOW_UPDATE)
      .filter((f) => f.streamId === 1)
      .map((f) => readUint32(f.payload));
  assert.deepEqual(updates(), [16384 + 1]);
  peer.send(frame(FrameType.DATA, 0, 1, chunk));
  assert.deepEqual(peer.resets(), []);
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(1)));
  assert.deepEqual(peer.resets(), [[1, ErrorCode.NO_ERROR]]);
  assert.equal(peer.goaway(), undefined);
});

Deno.test("streams answered early are asked to stop, oldest first, past 128 at once", () => {
  const peer = new Peer({ maxConcurrentStreams: 200 });
  for (let id = 1; id <= 2 * 129; id += 2) {
    peer.request(id);
    peer.connection.respond(id, [[":status", "200"]], { endStream: true });
  }
  peer.pump();
  assert.deepEqual(peer.resets(), [[1, ErrorCode.NO_ERROR]]);
});

Deno.test("a header list over the limit gets 431, the table kept in step", () => {
  const peer = new Peer({ maxHeaderListSize: 400 });
  peer.request(1, true, [...grpcRequestHeaders("/svc/Method"), ["x-big", "y".repeat(300)]]);
  assert.deepEqual(peer.headerLists, [[[":status", "431"]]]);
  assert.equal(peer.goaway(), undefined);
  peer.request(3, true);
  assert.ok(peer.events.some((e) => e.type === "request" && e.streamId === 3));
});

Deno.test("SETTINGS not acknowledged in time: GOAWAY SETTINGS_TIMEOUT", () => {
  const peer = new Peer();
  peer.connection.settingsTimedOut();
  peer.pump();
  assertConnectionError(peer, ErrorCode.SETTINGS_TIMEOUT);
  const acked = new Peer();
  acked.send(frame(FrameType.SETTINGS, ACK, 0));
  acked.connection.settingsTimedOut();
  acked.pump();
  assert.equal(acked.goaway(), undefined);
});

Deno.test("the client's SETTINGS_HEADER_TABLE_SIZE bounds our HPACK encoder (0: no dynamic table)", () => {
  const peer = new Peer();
  peer.send(settingsFrame([[0x1, 0]]));
  const decoder = new HpackDecoder({ maxTableSize: 0 });
  const headers: [string, string][] = [[":status", "200"], ["content-type", "application/grpc"]];
  for (const id of [1, 3]) {
    peer.request(id, true);
    peer.connection.respond(id, headers, { endStream: true });
    peer.pump();
  }
  // A decoder whose table may hold nothing reads both blocks: no entry was indexed.
  const blocks = peer.sent(FrameType.HEADERS).map((f) => decoder.decode(f.payload));
  assert.deepEqual(blocks, [headers, headers]);
});

Deno.test("content-length is checked to the byte, at the last DATA frame and at the trailers (RFC 9113 §8.1.1)", async (t) => {
  const base = grpcRequestHeaders("/svc/Method");
  const withLength = (n: number): [string, string][] => [...base, ["content-length", String(n)]];
  const trailers = frame(
    FrameType.HEADERS,
    END_HEADERS | END_STREAM,
    1,
    hpackLiterals([["x", "y"]]),
  );
  const cases: [string, Uint8Array[], boolean][] = [
    ["exactly 5 in one frame", [frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(5))], true],
    ["exactly 5 in two frames", [
      frame(FrameType.DATA, 0, 1, new Uint8Array(3)),
      frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(2)),
    ], true],
    ["4, one short", [frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(4))], false],
    ["6, one over, before END_STREAM", [frame(FrameType.DATA, 0, 1, new Uint8Array(6))], false],
    ["exactly 5, then trailers", [frame(FrameType.DATA, 0, 1, new Uint8Array(5)), trailers], true],
    ["4, then trailers", [frame(FrameType.DATA, 0, 1, new Uint8Array(4)), trailers], false],
  ];
  for (const [name, frames, ok] of cases) {
    await t.step(
      `content-length 5, ${name}: ${ok ? "accepted" : "RST_STREAM PROTOCOL_ERROR"}`,
      () => {
        const peer = new Peer();
        peer.request(1, false, withLength(5));
        peer.send(...frames);
        if (ok) {
          assert.deepEqual(peer.resets(), []);
          assert.ok(peer.events.some((e) => e.type === "data" && e.endStream));
        } else {
          assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
        }
      },
    );
  }
});

Deno.test("padded DATA gives back the whole frame, padding included, to both windows (RFC 9113 §6.1, §6.9.1)", () => {
  const peer = new Peer({ streamWindow: 65535, connectionWindow: 65535 });
  peer.request(1);
  // Each frame: 1 pad-length byte, 100 bytes of data, 255 of padding; all 356 count against the windows.
  const padded = frame(
    FrameType.DATA,
    PADDED,
    1,
    concat([new Uint8Array([255]), new Uint8Array(100), new Uint8Array(255)]),
  );
  const given = (streamId: number) =>
    peer.sent(FrameType.WINDOW_UPDATE).filter((f) => f.streamId === streamId)
      .reduce((n, f) => n + readUint32(f.payload), 0);
  // A client that sends only within the windows it was given (both start at 65,535, RFC 9113 §6.9.2).
  let sent = 0;
  for (let i = 0; i < 1000; i++) {
    const room = Math.min(65535 + given(0), 65535 + given(1)) - sent;
    assert.ok(room >= 356, `the windows closed after ${i} frames (${room} bytes left)`);
    peer.send(padded);
    sent += 356;
    peer.connection.consumed(1, 100);
    peer.pump();
  }
  assert.deepEqual(peer.resets(), []);
  assert.equal(peer.goaway(), undefined);
});

Deno.test("a window may reach 2^31 - 1 exactly; one byte more is a FLOW_CONTROL_ERROR (RFC 9113 §6.9.1)", async (t) => {
  await t.step("stream window", () => {
    const peer = new Peer();
    peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 10]]));
    peer.request(1, true);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(2 ** 31 - 1 - 10)));
    assert.deepEqual(peer.resets(), []);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(1)));
    assertStreamError(peer, 1, ErrorCode.FLOW_CONTROL_ERROR);
  });
  await t.step("connection window", () => {
    const peer = new Peer();
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 0, uint32(2 ** 31 - 1 - 65535)));
    assert.equal(peer.goaway(), undefined);
    assert.equal(peer.connection.windows.remote, 2 ** 31 - 1);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 0, uint32(1)));
    assertConnectionError(peer, ErrorCode.FLOW_CONTROL_ERROR);
  });
});

Deno.test("a header block over the header-list limit + 16 KiB, however it is split, gets GOAWAY ENHANCE_YOUR_CALM", () => {
  // The cap (maxHeaderListSize + 16,384 bytes of block) stops a CONTINUATION flood before END_HEADERS.
  const cap = 400 + 16384;
  const peer = new Peer({ maxHeaderListSize: 400 });
  peer.send(frame(FrameType.HEADERS, 0, 1, new Uint8Array(16384)));
  for (let left = cap - 16384; left > 0; left -= 100) {
    peer.send(frame(FrameType.CONTINUATION, 0, 1, new Uint8Array(Math.min(100, left))));
  }
  assert.equal(peer.goaway(), undefined, "a block of exactly the cap was refused");
  peer.send(frame(FrameType.CONTINUATION, 0, 1, new Uint8Array(1)));
  assertConnectionError(peer, ErrorCode.ENHANCE_YOUR_CALM);
});

Deno.test("fits() counts both the stream window and the connection window", async (t) => {
  const open = (streamWindow: number) => {
    const peer = new Peer();
    peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, streamWindow]]));
    peer.request(1, true);
    peer.connection.respond(1, [[":status", "200"]], { waitForTrailers: true });
    peer.pump();
    return peer;
  };
  await t.step("the stream window (10 bytes)", () => {
    const peer = open(10);
    assert.equal(peer.connection.fits(1, 10), true);
    assert.equal(peer.connection.fits(1, 11), false);
    peer.connection.sendData(1, new Uint8Array(4));
    assert.equal(peer.connection.fits(1, 6), true);
    assert.equal(peer.connection.fits(1, 7), false);
  });
  await t.step("the connection window (65,535 bytes, the stream's much wider)", () => {
    const peer = open(1_000_000);
    assert.equal(peer.connection.fits(1, 65535), true);
    assert.equal(peer.connection.fits(1, 65536), false);
    peer.connection.sendData(1, new Uint8Array(35));
    assert.equal(peer.connection.fits(1, 65500), true);
    assert.equal(peer.connection.fits(1, 65501), false);
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 0, uint32(1)));
    assert.equal(peer.connection.fits(1, 65501), true);
  });
  await t.step("an unknown stream fits nothing", () => {
    assert.equal(open(10).connection.fits(3, 0), false);
  });
});

Deno.test("response headers over the client's MAX_FRAME_SIZE go out as HEADERS + CONTINUATION (RFC 9113 §4.3)", () => {
  const peer = new Peer();
  peer.request(1, true);
  const big = "v".repeat(40_000);
  peer.connection.respond(1, [[":status", "200"], ["x-big", big]]);
  const frames = peer.pump().filter((f) => f.streamId === 1 && f.type !== FrameType.DATA);
  assert.deepEqual(
    frames.map((f) => [f.type, f.flags & END_HEADERS, f.payload.length <= 16384]),
    [
      [FrameType.HEADERS, 0, true],
      [FrameType.CONTINUATION, 0, true],
      [FrameType.CONTINUATION, END_HEADERS, true],
    ],
  );
  assert.deepEqual(peer.headerLists, [[[":status", "200"], ["x-big", big]]]);
});

Deno.test("field names (RFC 9113 §8.2.1): no 0x00-0x20, upper case or 0x7f and up; a colon only first", () => {
  const base = grpcRequestHeaders("/svc/Method");
  const fault = (name: string) => requestHeaderFault([...base, [name, "v"]], false);
  // Next to the forbidden ranges: "!" 0x21, "@" 0x40, "[" 0x5b, "~" 0x7e.
  for (const name of ["x!", "x@", "x[", "x~", "x-ok"]) {
    assert.equal(fault(name), undefined, `${JSON.stringify(name)} refused`);
  }
  for (const name of ["x y", "x\x1f", "\x00x", "xA", "xZ", "Ax", "x\x7f", "x\u00e9", "x:y"]) {
    assert.match(String(fault(name)), /character HTTP\/2 forbids/, JSON.stringify(name));
  }
  assert.equal(fault(""), "an empty header name");
});

Deno.test("field values (RFC 9113 §8.2.1): no NUL, CR or LF, no white space at either end", () => {
  const base = grpcRequestHeaders("/svc/Method");
  const fault = (value: string) => requestHeaderFault([...base, ["x-v", value]], false);
  for (const value of ["", "a", "a b", "a\tb", "a\u00e9"]) {
    assert.equal(fault(value), undefined, `${JSON.stringify(value)} refused`);
  }
  for (const value of [" a", "a ", "\ta", "a\t", " ", "a\x00b", "a\rb", "a\nb", "\x00", "a\r"]) {
    assert.match(String(fault(value)), /value of header x-v/, JSON.stringify(value));
  }
});

Deno.test("pseudo-headers: none after a regular header, none empty (RFC 9113 §8.3.1, RFC 9110 §4.2, §9.1)", () => {
  const base = grpcRequestHeaders("/svc/Method");
  const pseudo = base.filter(([n]) => n.startsWith(":"));
  const regular = base.filter(([n]) => !n.startsWith(":"));
  // Each pseudo-header once, but :authority after the regular ones.
  const late = [...pseudo.filter(([n]) => n !== ":authority"), ...regular, [":authority", "h"]];
  assert.equal(
    requestHeaderFault(late as [string, string][], false),
    "the pseudo-header :authority after a regular header",
  );
  for (const [name] of pseudo) {
    const empty = base.map(([n, v]): [string, string] => [n, n === name ? "" : v]);
    assert.equal(requestHeaderFault(empty, false), `an empty ${name}`);
  }
});

Deno.test("content-length must be digits, and 0 when HEADERS end the request (RFC 9113 §8.1.1)", async (t) => {
  const base = grpcRequestHeaders("/svc/Method");
  for (const length of ["abc", "-1", "1e3", "0x10", "5 5"]) {
    await t.step(`content-length ${JSON.stringify(length)}: RST_STREAM PROTOCOL_ERROR`, () => {
      const peer = new Peer();
      peer.request(1, false, [...base, ["content-length", length]]);
      assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
    });
  }
  await t.step("content-length 5 on HEADERS with END_STREAM: RST_STREAM PROTOCOL_ERROR", () => {
    const peer = new Peer();
    peer.request(1, true, [...base, ["content-length", "5"]]);
    assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
    assert.equal(peer.events.some((e) => e.type === "request"), false);
  });
  await t.step("content-length 0 on HEADERS with END_STREAM: a request", () => {
    const peer = new Peer();
    peer.request(1, true, [...base, ["content-length", "0"]]);
    assert.deepEqual(peer.resets(), []);
    assert.ok(peer.events.some((e) => e.type === "request" && e.endStream));
  });
});

Deno.test("defaults: SETTINGS of 100 streams, a 256 KiB stream window, 64 KiB of header list; a 1 MiB connection window", () => {
  const peer = new Peer();
  const [settings, update] = peer.parser.frames;
  assert.equal(settings.type, FrameType.SETTINGS);
  // MAX_CONCURRENT_STREAMS 0x3, INITIAL_WINDOW_SIZE 0x4, MAX_HEADER_LIST_SIZE 0x6 (RFC 9113 §6.5.2).
  assert.deepEqual(parseSettings(settings), [[0x3, 100], [0x4, 262144], [0x6, 65536]]);
  assert.equal(update.type, FrameType.WINDOW_UPDATE);
  assert.equal(readUint32(update.payload), 1048576 - 65535);
});

Deno.test("events come out once each, in order; a fresh connection has none", () => {
  const peer = new Peer({ preface: false });
  assert.deepEqual(peer.connection.takeEvents(), []);
  peer.send(PREFACE, settingsFrame());
  peer.request(1, true);
  peer.connection.respond(1, [[":status", "200"]], { endStream: true });
  peer.pump();
  assert.deepEqual(peer.events, [
    { type: "request", streamId: 1, headers: grpcRequestHeaders("/svc/Method"), endStream: true },
    { type: "streamClosed", streamId: 1, code: ErrorCode.NO_ERROR, byPeer: false },
  ]);
  assert.deepEqual(peer.connection.takeEvents(), []);
});

Deno.test("settingsAcked turns true with the client's SETTINGS ACK; openStreams counts open streams", () => {
  const peer = new Peer();
  assert.equal(peer.connection.settingsAcked, false);
  peer.send(frame(FrameType.SETTINGS, ACK, 0));
  assert.equal(peer.connection.settingsAcked, true);
  assert.equal(peer.connection.openStreams, 0);
  peer.request(1);
  peer.request(3);
  assert.equal(peer.connection.openStreams, 2);
  peer.connection.reset(1, ErrorCode.CANCEL);
  assert.equal(peer.connection.openStreams, 1);
});

Deno.test("an unexpected error while reading (a clock that throws) is GOAWAY INTERNAL_ERROR, never a throw", () => {
  const peer = new Peer({
    now: () => {
      throw new Error("the clock broke");
    },
  });
  peer.request(1);
  // An unanswered stream reset by the client reads the clock (the rapid-reset count).
  peer.send(frame(FrameType.RST_STREAM, 0, 1, uint32(ErrorCode.CANCEL)));
  assertConnectionError(peer, ErrorCode.INTERNAL_ERROR);
  const closed = peer.events.find((e) => e.type === "closed");
  assert.match(closed?.type === "closed" ? closed.message : "", /the clock broke/);
});

Deno.test("sendData on a stream that is gone: false, and its callback gets an error naming the stream", () => {
  const peer = new Peer();
  const errors: (Error | undefined)[] = [];
  assert.equal(peer.connection.sendData(7, new Uint8Array(3), (e) => errors.push(e)), false);
  assert.deepEqual(errors, [], "called before takeOutput handed it out");
  peer.pump();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /stream 7 is closed/);
  assert.equal(peer.sent(FrameType.DATA).length, 0);
});

Deno.test("end() before any response headers answers :status 200 with END_STREAM", () => {
  const peer = new Peer();
  peer.request(1, true);
  peer.connection.end(1);
  peer.pump();
  assert.deepEqual(peer.headerLists, [[[":status", "200"]]]);
  const [headers] = peer.sent(FrameType.HEADERS);
  assert.equal(headers.flags & END_STREAM, END_STREAM);
  assert.equal(peer.connection.isOpen(1), false);
});

Deno.test("sendTrailers: false on an unknown stream or a second time", () => {
  const peer = new Peer();
  peer.request(1, true);
  assert.equal(peer.connection.sendTrailers(1, [["grpc-status", "0"]]), false, "before headers");
  peer.connection.respond(1, [[":status", "200"]]);
  assert.equal(peer.connection.sendTrailers(9, [["grpc-status", "0"]]), false);
  assert.equal(peer.connection.sendTrailers(1, [["grpc-status", "0"]]), true);
  assert.equal(peer.connection.sendTrailers(1, [["grpc-status", "1"]]), false);
  peer.pump();
  assert.deepEqual(peer.headerLists, [[[":status", "200"]], [["grpc-status", "0"]]]);
});

Deno.test("ping() sends a PING (not an ACK) with our payload; nothing once the connection failed", () => {
  const peer = new Peer();
  const payload = pingFrame(77).subarray(9);
  peer.connection.ping(payload);
  const [ping] = peer.pump();
  assert.equal(ping.type, FrameType.PING);
  assert.equal(ping.flags, 0);
  assert.equal(ping.streamId, 0);
  assert.deepEqual(ping.payload, payload);
  peer.connection.goaway(ErrorCode.PROTOCOL_ERROR);
  peer.connection.ping(payload);
  assert.equal(peer.pump().filter((f) => f.type === FrameType.PING).length, 0);
});

Deno.test("goaway() with an error code sends one GOAWAY and ends the connection", () => {
  const peer = new Peer();
  peer.request(1);
  peer.connection.goaway(ErrorCode.ENHANCE_YOUR_CALM, 1, "calm down");
  peer.pump();
  assert.equal(peer.sent(FrameType.GOAWAY).length, 1);
  assertConnectionError(peer, ErrorCode.ENHANCE_YOUR_CALM, 1);
  assert.ok(peer.events.some((e) => e.type === "streamClosed" && e.streamId === 1));
});

Deno.test("a stream error in the middle of a header block is a connection error (RFC 9113 §6.10)", () => {
  const peer = new Peer();
  peer.send(
    frame(FrameType.HEADERS, 0, 1, REQUEST.subarray(0, 5)),
    // PRIORITY of 4 bytes: alone, a stream error (RST_STREAM FRAME_SIZE_ERROR).
    frame(FrameType.PRIORITY, 0, 3, new Uint8Array(4)),
  );
  assertConnectionError(peer, ErrorCode.PROTOCOL_ERROR);
  assert.deepEqual(peer.resets(), []);
});

/** Bytes 0, 1, 2, … (mod 251): a payload whose every byte tells where it came from. */
function pattern(length: number, start = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) % 251);
}

/** The DATA payloads the server sent on a stream, joined. */
function dataSent(peer: Peer, streamId: number): Uint8Array {
  return concat(
    peer.sent(FrameType.DATA).filter((f) => f.streamId === streamId).map((f) => f.payload),
  );
}

Deno.test("a response ended without trailers: END_STREAM on its last DATA frame only", async (t) => {
  await t.step("queued DATA, then end(): one DATA frame with END_STREAM", () => {
    const peer = new Peer();
    peer.request(1, true);
    assert.equal(peer.connection.respond(1, [[":status", "200"]]), true);
    assert.equal(peer.connection.sendData(1, pattern(100)), true);
    peer.connection.end(1);
    peer.pump();
    const [headers] = peer.sent(FrameType.HEADERS);
    assert.equal(headers.flags, END_HEADERS, "END_STREAM on HEADERS that were not the end");
    assert.deepEqual(
      peer.sent(FrameType.DATA).map((f) => [f.payload, f.flags]),
      [[pattern(100), END_STREAM]],
    );
    assert.equal(peer.events.some((e) => e.type === "wantTrailers"), false);
    assert.equal(peer.connection.isOpen(1), false);
  });

  await t.step("nothing queued, then end(): an empty DATA frame with END_STREAM", () => {
    const peer = new Peer();
    peer.request(1, true);
    peer.connection.respond(1, [[":status", "200"]]);
    peer.pump();
    peer.connection.end(1);
    peer.pump();
    assert.deepEqual(peer.sent(FrameType.DATA).map((f) => [f.payload.length, f.flags]), [
      [0, END_STREAM],
    ]);
    assert.equal(peer.connection.isOpen(1), false);
    assert.equal(peer.events.filter((e) => e.type === "streamClosed").length, 1);
  });

  await t.step(
    "40,000 bytes: three DATA frames from one takeOutput, END_STREAM on the third",
    () => {
      const peer = new Peer();
      peer.request(1, true);
      peer.connection.respond(1, [[":status", "200"]]);
      peer.connection.sendData(1, pattern(40_000));
      peer.connection.end(1);
      const { bytes } = peer.connection.takeOutput();
      const data = new FrameParser().push(bytes!).filter((f) => f.type === FrameType.DATA);
      assert.deepEqual(data.map((f) => [f.payload.length, f.flags]), [
        [16384, 0],
        [16384, 0],
        [40_000 - 2 * 16384, END_STREAM],
      ]);
      assert.deepEqual(concat(data.map((f) => f.payload)), pattern(40_000));
    },
  );
});

Deno.test("DATA split by a small window keeps every byte in order", () => {
  const peer = new Peer();
  peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 10]]));
  peer.request(1, true);
  peer.connection.respond(1, [[":status", "200"]]);
  peer.connection.sendData(1, pattern(25));
  peer.connection.sendData(1, pattern(15, 25));
  peer.pump();
  for (const increment of [7, 3, 11, 4, 100]) {
    peer.send(frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(increment)));
  }
  assert.deepEqual(dataSent(peer, 1), pattern(40));
});

Deno.test("a stream out of window does not hold up another that has room", () => {
  const peer = new Peer();
  peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 0]]));
  peer.request(1, true);
  peer.request(3, true);
  peer.send(frame(FrameType.WINDOW_UPDATE, 0, 3, uint32(100)));
  for (const id of [1, 3]) {
    peer.connection.respond(id, [[":status", "200"]]);
    peer.connection.sendData(id, pattern(100));
  }
  peer.pump();
  assert.equal(peer.dataBytes(1), 0);
  assert.deepEqual(dataSent(peer, 3), pattern(100));
});

Deno.test("a reset stream's queued bytes no longer count against the connection window (fits)", () => {
  const peer = new Peer();
  peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 0]]));
  peer.request(1, true);
  peer.request(3, true);
  peer.send(frame(FrameType.WINDOW_UPDATE, 0, 3, uint32(100_000)));
  peer.connection.respond(1, [[":status", "200"]]);
  peer.connection.respond(3, [[":status", "200"]]);
  peer.connection.sendData(1, new Uint8Array(1000));
  peer.pump();
  assert.equal(peer.connection.fits(3, 65535), false);
  peer.connection.reset(1, ErrorCode.CANCEL);
  assert.equal(peer.connection.queuedBytes(1), 0);
  assert.equal(peer.connection.fits(3, 65535), true);
  assert.equal(peer.connection.fits(3, 65536), false);
});

Deno.test("queuedBytes: what waits for the window; 0 for an unknown stream", () => {
  const peer = new Peer();
  peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 10]]));
  peer.request(1, true);
  peer.connection.respond(1, [[":status", "200"]]);
  peer.connection.sendData(1, new Uint8Array(25));
  assert.equal(peer.connection.queuedBytes(1), 25);
  peer.pump();
  assert.equal(peer.connection.queuedBytes(1), 15);
  assert.equal(peer.connection.queuedBytes(9), 0);
});

Deno.test("wantTrailers is reported once, even when a SETTINGS change wakes the stream again", () => {
  const peer = new Peer();
  peer.request(1, true);
  peer.connection.respond(1, [[":status", "200"]], { waitForTrailers: true });
  peer.connection.end(1);
  peer.pump();
  peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 1000]]));
  peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 2000]]));
  assert.equal(peer.events.filter((e) => e.type === "wantTrailers").length, 1);
});

Deno.test("respond(): false on an unknown stream or a second time; END_STREAM only when asked", () => {
  const peer = new Peer();
  peer.request(1, true);
  assert.equal(peer.connection.respond(9, [[":status", "200"]]), false);
  assert.equal(peer.connection.respond(1, [[":status", "200"]]), true);
  assert.equal(peer.connection.respond(1, [[":status", "500"]]), false);
  peer.pump();
  assert.deepEqual(peer.headerLists, [[[":status", "200"]]]);
  assert.deepEqual(peer.sent(FrameType.HEADERS).map((f) => f.flags), [END_HEADERS]);
  assert.ok(peer.connection.isOpen(1));
});

Deno.test("consumed(): nothing for an unknown stream, for 0 bytes, or once the client ended the stream", async (t) => {
  const streamUpdates = (peer: Peer) =>
    peer.sent(FrameType.WINDOW_UPDATE).filter((f) => f.streamId === 1).map((f) =>
      readUint32(f.payload)
    );
  await t.step("an unknown stream", () => {
    const peer = new Peer();
    peer.connection.consumed(9, 1000);
    assert.deepEqual(peer.pump(), []);
  });
  await t.step("0 bytes, with an update's worth of window used but not consumed", () => {
    const peer = new Peer({ streamWindow: 65535 });
    peer.request(1);
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(1000)));
    peer.connection.consumed(1, 1000);
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
    peer.connection.consumed(1, 0);
    peer.pump();
    assert.deepEqual(streamUpdates(peer), []);
  });
  await t.step("after the client's END_STREAM", () => {
    const peer = new Peer({ streamWindow: 65535 });
    peer.request(1);
    peer.send(frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(16384)));
    peer.connection.consumed(1, 16384);
    peer.connection.consumed(1, 16384);
    peer.pump();
    assert.deepEqual(streamUpdates(peer), []);
  });
});

Deno.test("reset(): RST_STREAM and a streamClosed event not by the peer; an unknown stream is left alone", () => {
  const peer = new Peer();
  peer.request(1);
  peer.connection.reset(9, ErrorCode.CANCEL);
  peer.connection.reset(1, ErrorCode.CANCEL);
  peer.pump();
  assert.deepEqual(peer.resets(), [[1, ErrorCode.CANCEL]]);
  assert.deepEqual(peer.events.filter((e) => e.type === "streamClosed"), [
    { type: "streamClosed", streamId: 1, code: ErrorCode.CANCEL, byPeer: false },
  ]);
});

Deno.test("a failed connection sends nothing more: no second GOAWAY, closed event or reset", () => {
  let now = 0;
  const peer = new Peer({ now: () => now });
  peer.request(1);
  peer.connection.respond(1, [[":status", "200"]], { endStream: true });
  peer.send(frame(FrameType.DATA, 0, 0, new Uint8Array(4)));
  assertConnectionError(peer, ErrorCode.PROTOCOL_ERROR);
  peer.connection.goaway(ErrorCode.NO_ERROR);
  peer.connection.goaway(ErrorCode.INTERNAL_ERROR);
  peer.connection.settingsTimedOut();
  now = 5000;
  peer.send(pingFrame(1));
  assert.equal(peer.sent(FrameType.GOAWAY).length, 1);
  assert.equal(peer.events.filter((e) => e.type === "closed").length, 1);
  assert.deepEqual(peer.resets(), [], "a lingering stream was reset after the GOAWAY");
});

Deno.test("a connection error closes the open streams with CANCEL and fails their pending writes", () => {
  const peer = new Peer();
  peer.send(settingsFrame([[SETTINGS_INITIAL_WINDOW_SIZE, 0]]));
  peer.request(1);
  peer.connection.respond(1, [[":status", "200"]]);
  const errors: (Error | undefined)[] = [];
  peer.connection.sendData(1, new Uint8Array(10), (e) => errors.push(e));
  peer.send(frame(FrameType.DATA, 0, 0, new Uint8Array(4)));
  assert.equal(peer.connection.isOpen(1), false);
  assert.equal(peer.connection.openStreams, 0);
  assert.deepEqual(peer.events.filter((e) => e.type === "streamClosed"), [
    { type: "streamClosed", streamId: 1, code: ErrorCode.CANCEL, byPeer: false },
  ]);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /stream 1 closed/);
});

Deno.test("goaway() with a last stream id above the newest lets streams up to it in", () => {
  const peer = new Peer();
  peer.request(1);
  peer.connection.goaway(ErrorCode.NO_ERROR, 5);
  peer.request(3, true);
  peer.request(5, true);
  peer.request(7, true);
  assert.deepEqual(
    peer.events.filter((e) => e.type === "request").map((e) => e.type === "request" && e.streamId),
    [1, 3, 5],
  );
});

Deno.test("response headers split over CONTINUATION: END_STREAM on the HEADERS frame only (RFC 9113 §6.10)", () => {
  const big = "v".repeat(40_000);
  for (const endStream of [false, true]) {
    const peer = new Peer();
    peer.request(1, true);
    peer.connection.respond(1, [[":status", "200"], ["x-big", big]], { endStream });
    const flags = peer.pump().filter((f) => f.streamId === 1).map((f) => [f.type, f.flags]);
    assert.deepEqual(flags, [
      [FrameType.HEADERS, endStream ? END_STREAM : 0],
      [FrameType.CONTINUATION, 0],
      [FrameType.CONTINUATION, END_HEADERS],
    ]);
  }
});

Deno.test("rapid reset counts resets per second of the clock, starting over at exactly 1 s", async (t) => {
  const resetStreams = (peer: Peer, first: number, count: number) => {
    const frames = [];
    for (let i = 0; i < count; i++) {
      frames.push(frame(FrameType.HEADERS, END_HEADERS, first + 2 * i, REQUEST));
      frames.push(frame(FrameType.RST_STREAM, 0, first + 2 * i, uint32(ErrorCode.CANCEL)));
    }
    peer.send(...frames);
  };
  await t.step("a clock far from 0 that stands still: the 1,001st reset is too many", () => {
    const peer = new Peer({ now: () => 5000 });
    resetStreams(peer, 1, 1001);
    assertConnectionError(peer, ErrorCode.ENHANCE_YOUR_CALM);
  });
  await t.step("1,000 resets, then 1,000 more exactly 1 s later: no attack", () => {
    let now = 5000;
    const peer = new Peer({ now: () => now });
    resetStreams(peer, 1, 1000);
    now = 6000;
    resetStreams(peer, 2001, 1000);
    assert.equal(peer.goaway(), undefined);
  });
});

Deno.test("frames after a connection error in the same read are ignored", () => {
  const peer = new Peer({ maxUnsentAcks: 2 });
  peer.send(
    pingFrame(1),
    pingFrame(2),
    pingFrame(3),
    frame(FrameType.HEADERS, END_HEADERS, 1, REQUEST),
  );
  assertConnectionError(peer, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(peer.events.some((e) => e.type === "request"), false);
});

Deno.test("the client's GOAWAY is reported with its last stream id and code", () => {
  const peer = new Peer();
  const payload = concat([uint32(7), uint32(ErrorCode.ENHANCE_YOUR_CALM)]);
  peer.send(frame(FrameType.GOAWAY, 0, 0, payload));
  assert.deepEqual(peer.events.filter((e) => e.type === "goaway"), [
    { type: "goaway", lastStreamId: 7, code: ErrorCode.ENHANCE_YOUR_CALM },
  ]);
});

Deno.test("a PING ACK's payload is the connection's own copy, not a view of the bytes read", () => {
  const connection = new ServerConnection();
  const bytes = concat([PREFACE, settingsFrame(), frame(FrameType.PING, ACK, 0, pattern(8))]);
  connection.receive(bytes);
  bytes.fill(0);
  const acks = connection.takeEvents().filter((e) => e.type === "pingAck");
  assert.deepEqual(acks, [{ type: "pingAck", payload: pattern(8) }]);
});

Deno.test("frames in flight after a stream error on a closed stream are dropped (RFC 9113 §5.4.2)", () => {
  const peer = new Peer();
  peer.request(1, true);
  peer.connection.respond(1, [[":status", "200"]], { endStream: true });
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(3)));
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(3)));
  assert.deepEqual(peer.resets(), [[1, ErrorCode.STREAM_CLOSED]]);
});

Deno.test("DATA after the client's own RST_STREAM: RST_STREAM STREAM_CLOSED (RFC 9113 §5.1)", () => {
  const peer = new Peer();
  peer.request(1);
  peer.connection.respond(1, [[":status", "200"]]);
  peer.send(frame(FrameType.RST_STREAM, 0, 1, uint32(ErrorCode.CANCEL)));
  assert.deepEqual(peer.resets(), []);
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(3)));
  assertStreamError(peer, 1, ErrorCode.STREAM_CLOSED);
});

Deno.test("RST_STREAM and WINDOW_UPDATE on a closed stream are ignored (RFC 9113 §5.1)", () => {
  const peer = new Peer();
  peer.request(1, true);
  peer.connection.respond(1, [[":status", "200"]], { endStream: true });
  peer.send(
    frame(FrameType.WINDOW_UPDATE, 0, 1, uint32(100)),
    frame(FrameType.RST_STREAM, 0, 1, uint32(ErrorCode.CANCEL)),
  );
  assert.equal(peer.goaway(), undefined);
  assert.deepEqual(peer.resets(), []);
});

Deno.test("trailers over the header list limit: RST_STREAM PROTOCOL_ERROR", () => {
  const peer = new Peer({ maxHeaderListSize: 400 });
  peer.request(1);
  const big = hpackLiterals([["x-big", "y".repeat(500)]]);
  peer.send(frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, big));
  assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
});

Deno.test("SETTINGS values at their limits are accepted (RFC 9113 §6.5.2)", () => {
  const peer = new Peer();
  peer.send(
    settingsFrame([
      [0x2, 0],
      [0x2, 1],
      [SETTINGS_INITIAL_WINDOW_SIZE, 2 ** 31 - 1],
      [SETTINGS_MAX_FRAME_SIZE, 16384],
      [SETTINGS_MAX_FRAME_SIZE, 2 ** 24 - 1],
    ]),
  );
  assert.equal(peer.goaway(), undefined);
  assert.equal(peer.sent(FrameType.SETTINGS).filter((f) => f.flags === ACK).length, 2);
});

Deno.test("a lingering request that ends is forgotten: no RST_STREAM when its time is up", async (t) => {
  for (const how of ["DATA", "trailers"]) {
    await t.step(`ended by ${how}`, () => {
      let now = 0;
      const peer = new Peer({ now: () => now });
      peer.request(1);
      peer.connection.respond(1, [[":status", "200"]], { endStream: true });
      peer.send(
        how === "DATA"
          ? frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(10))
          : frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, hpackLiterals([["x", "y"]])),
      );
      now = 5000;
      peer.send(pingFrame(1));
      assert.deepEqual(peer.resets(), []);
    });
  }
});

Deno.test("a lingering stream is reset once: at 16 KiB, or after more than 1 s (not at exactly 1 s)", async (t) => {
  await t.step("past 16 KiB, then time passes", () => {
    let now = 0;
    const peer = new Peer({ now: () => now });
    peer.request(1);
    peer.connection.respond(1, [[":status", "200"]], { endStream: true });
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(16384)));
    peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(1)));
    now = 5000;
    peer.send(pingFrame(1));
    assert.deepEqual(peer.resets(), [[1, ErrorCode.NO_ERROR]]);
  });
  await t.step("at exactly 1 s, then after, then later", () => {
    let now = 0;
    const peer = new Peer({ now: () => now });
    peer.request(1);
    peer.connection.respond(1, [[":status", "200"]], { endStream: true });
    now = 1000;
    peer.send(pingFrame(1));
    assert.deepEqual(peer.resets(), []);
    now = 1001;
    peer.send(pingFrame(2));
    now = 3000;
    peer.send(pingFrame(3));
    assert.deepEqual(peer.resets(), [[1, ErrorCode.NO_ERROR]]);
  });
});

Deno.test("the 431 answer ends the stream; the header block cap is named in the GOAWAY", () => {
  const peer = new Peer({ maxHeaderListSize: 400 });
  peer.request(1, true, [...grpcRequestHeaders("/svc/Method"), ["x-big", "y".repeat(300)]]);
  assert.deepEqual(peer.sent(FrameType.HEADERS).map((f) => f.flags), [END_HEADERS | END_STREAM]);
  assert.equal(peer.connection.isOpen(1), false);
  peer.send(frame(FrameType.HEADERS, 0, 3, new Uint8Array(16384)));
  peer.send(frame(FrameType.CONTINUATION, 0, 3, new Uint8Array(401)));
  const goaway = peer.sent(FrameType.GOAWAY)[0];
  assert.match(new TextDecoder().decode(goaway.payload.subarray(8)), /over 16784 bytes/);
});

Deno.test("the preface split unevenly: its rest and the first frames in one read", () => {
  const peer = new Peer({ preface: false });
  const bytes = concat([PREFACE, settingsFrame(), pingFrame(5)]);
  peer.send(bytes.subarray(0, 10));
  peer.send(bytes.subarray(10));
  assert.equal(peer.goaway(), undefined);
  assert.equal(peer.sent(FrameType.PING).length, 1);
});

Deno.test("output past the first buffers grows to fit: a 40,000-byte GOAWAY debug text", () => {
  const peer = new Peer();
  const debug = "d".repeat(40_000);
  peer.connection.goaway(ErrorCode.NO_ERROR, 0, debug);
  const goaway = peer.pump().find((f) => f.type === FrameType.GOAWAY)!;
  assert.equal(new TextDecoder().decode(goaway.payload.subarray(8)), debug);
});

Deno.test("content-length of several digits is read as a number", () => {
  const peer = new Peer();
  peer.request(1, false, [...grpcRequestHeaders("/svc/Method"), ["content-length", "1234"]]);
  peer.send(frame(FrameType.DATA, END_STREAM, 1, new Uint8Array(1234)));
  assert.deepEqual(peer.resets(), []);
});

Deno.test("a PRIORITY frame making a stream depend on itself: RST_STREAM PROTOCOL_ERROR (RFC 9113 §5.3.1)", () => {
  const peer = new Peer();
  peer.request(1);
  peer.send(frame(FrameType.PRIORITY, 0, 1, concat([uint32(1), new Uint8Array([16])])));
  assertStreamError(peer, 1, ErrorCode.PROTOCOL_ERROR);
});

Deno.test("any read, even an empty one, checks the lingering streams' deadline", () => {
  let now = 0;
  const peer = new Peer({ now: () => now });
  peer.request(1);
  peer.connection.respond(1, [[":status", "200"]], { endStream: true });
  peer.pump();
  now = 1001;
  peer.send(new Uint8Array(0));
  assert.deepEqual(peer.resets(), [[1, ErrorCode.NO_ERROR]]);
});

Deno.test("DATA after the client's trailers: RST_STREAM STREAM_CLOSED (RFC 9113 §5.1, half-closed remote)", () => {
  const peer = new Peer();
  peer.request(1);
  peer.send(frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, hpackLiterals([["x", "y"]])));
  assert.deepEqual(peer.resets(), []);
  peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(3)));
  assertStreamError(peer, 1, ErrorCode.STREAM_CLOSED);
});

Deno.test("a response ending early tops the stream window up to 16 KiB + 1 only when it is lower (never an increment of 0, RFC 9113 §6.9)", async (t) => {
  const streamUpdates = (peer: Peer) =>
    peer.sent(FrameType.WINDOW_UPDATE).filter((f) => f.streamId === 1)
      .map((f) => readUint32(f.payload));
  for (const [sent, expected] of [[0, []], [65535 - 16385, []], [65535 - 16384, [1]]] as const) {
    await t.step(`${65535 - sent} bytes of window left: ${JSON.stringify(expected)}`, () => {
      const peer = new Peer({ streamWindow: 65535 });
      peer.request(1);
      for (let left = sent; left > 0; left -= 16384) {
        peer.send(frame(FrameType.DATA, 0, 1, new Uint8Array(Math.min(16384, left))));
      }
      peer.connection.respond(1, [[":status", "200"]], { endStream: true });
      peer.pump();
      assert.deepEqual(streamUpdates(peer), expected);
    });
  }
});
