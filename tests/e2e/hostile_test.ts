/**
 * Hostile input against the real server process: malformed and oversized
 * messages, unknown methods, non-HTTP/2 bytes, protocol violations, stream
 * and frame floods, abandoned clients, and every configured limit.
 *
 * Each case asserts the exact outcome it observed (status code, or the
 * frames and close the server answers with), then that the server process
 * is still running and answers a normal call on a fresh connection.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { createFeatureDb } from "../../lib/core/feature_index.ts";
import { loadRouteGuidePackage } from "../../lib/grpc/proto.ts";
import { serve } from "../../lib/server/serve.ts";
import { createLogger } from "../../lib/server/telemetry.ts";
import { makeTestCerts, type TestCerts, tlsTest } from "../_certs.ts";
import { connect } from "node:net";
import { createRouteGuideClient, type RouteGuideClient } from "../../lib/grpc/client.ts";
import { Code, RpcError } from "../../lib/core/rpc_error.ts";
import { ROOT, type ServerProcess, startServer } from "../_server.ts";
import { type TempDb, writeGridDb } from "../_db.ts";
import {
  concat,
  ErrorCode,
  Flag,
  type Frame,
  frame,
  FrameType,
  grpcMessage,
  grpcRequestHeaders,
  hpackLiterals,
  parseGoaway,
  pingFrame,
  PREFACE,
  randomBytes,
  rawConnect,
  type RawConnection,
  settingsFrame,
} from "../_h2.ts";
import { collect, STEP_MS, waitFor, within } from "../_async.ts";
import { rejectsWith } from "../_assert.ts";
import { EMPIRE_STATE, EMPIRE_STATE_NAME } from "../_places.ts";
import { paddedPoint } from "../_proto.ts";

const SERVICE = "/routeguide.RouteGuide";

// ---------------------------------------------------------------- helpers

/**
 * Runs `attempt` again while it fails with `code`, which means the server
 * has not yet seen an earlier client go; fails after {@linkcode STEP_MS}.
 */
async function retryWhile<T>(code: number, attempt: () => Promise<T>): Promise<T> {
  let result: { value: T } | undefined;
  let refusal: unknown;
  await waitFor(
    async () => {
      try {
        result = { value: await attempt() };
        return true;
      } catch (error) {
        if (!(error instanceof RpcError && error.code === code)) throw error;
        refusal = error;
        return false;
      }
    },
    () => `still refused: ${refusal}`,
    STEP_MS,
  );
  return result!.value;
}

/** A client on its own connection (grpc-js shares connections between clients otherwise). */
function freshClient(target: string, retry = false): RouteGuideClient {
  return createRouteGuideClient(target, {
    retry,
    channelOptions: { "grpc.use_local_subchannel_pool": 1 },
  });
}

/**
 * The server is alive and well: a normal GetFeature on a fresh connection
 * answers with the right feature, and the process has not exited.
 */
async function assertHealthy(server: ServerProcess): Promise<void> {
  const client = freshClient(server.target);
  try {
    const feature = await client.getFeature(EMPIRE_STATE, { deadline: Date.now() + STEP_MS });
    assert.equal(feature.name, EMPIRE_STATE_NAME);
  } finally {
    client.close();
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    server.process.status.then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 100)),
  ]);
  clearTimeout(timer);
  assert.equal(exited, false, `the server process exited:\n${server.stderr()}`);
}

/** What a raw gRPC request got back. */
interface RawReply {
  /** grpc-status, from the trailers or a trailers-only response. */
  status?: number;
  /** grpc-message, percent-decoded. */
  message?: string;
  /** Response DATA bytes (length-prefixed messages). */
  body: Uint8Array;
  /** RST_STREAM code, if the stream was reset. */
  rstCode?: number;
}

/**
 * Sends one gRPC request with a hand-made body over node:http2 (the body is
 * sent as is, so it can be malformed) and reads the status.
 */
async function rawGrpcCall(port: number, path: string, body: Uint8Array): Promise<RawReply> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {/* reported through the stream */});
  try {
    const request = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      "te": "trailers",
    });
    const reply: RawReply = { body: new Uint8Array() };
    const chunks: Uint8Array[] = [];
    const take = (headers: http2.IncomingHttpHeaders) => {
      const status = headers["grpc-status"];
      if (status === undefined) return;
      reply.status = Number(status);
      reply.message = decodeURIComponent(String(headers["grpc-message"] ?? ""));
    };
    request.on("response", take);
    request.on("trailers", take);
    request.on("data", (chunk: Buffer) => chunks.push(new Uint8Array(chunk)));
    request.on("error", () => {/* rstCode says what happened */});
    const closed = new Promise<void>((resolve) => request.on("close", () => resolve()));
    request.end(Buffer.from(body));
    await within(closed, STEP_MS, `the reply to ${path}`);
    reply.body = concat(chunks);
    if (request.rstCode !== undefined && request.rstCode !== 0) reply.rstCode = request.rstCode;
    return reply;
  } finally {
    await within(
      new Promise<void>((resolve) => session.close(() => resolve())),
      STEP_MS,
      "closing the http2 session",
    );
  }
}

/** A grpc-js client that sends and receives raw bytes, for any method path. */
function bytesClient(target: string): grpc.Client {
  return new grpc.Client(target, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  });
}

/** A unary call with raw bytes; resolves to the error or the response bytes. */
function bytesUnary(
  client: grpc.Client,
  path: string,
  request: Uint8Array,
  metadata = new grpc.Metadata(),
): Promise<{ error?: grpc.ServiceError; value?: Buffer }> {
  const identity = (b: Buffer) => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      Buffer.from(request),
      metadata,
      { deadline: Date.now() + 10_000 },
      (error, value) => resolve(error ? { error } : { value }),
    );
  });
}

/** The generated RouteGuide client of grpc-js, which takes call metadata. */
type GrpcRouteGuide = grpc.Client & {
  getFeature(
    point: { latitude: number; longitude: number },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, feature?: { name: string }) => void,
  ): grpc.ClientUnaryCall;
};

function metadataClient(target: string): GrpcRouteGuide {
  const pkg = grpc.loadPackageDefinition(loadRouteGuidePackage());
  const Ctor = (pkg.routeguide as grpc.GrpcObject).RouteGuide as grpc.ServiceClientConstructor;
  return new Ctor(target, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  }) as unknown as GrpcRouteGuide;
}

/** Opens a raw connection and does the HTTP/2 handshake: preface, SETTINGS, and (optionally) the ACK of the server's SETTINGS. */
async function handshake(port: number, ack = true): Promise<RawConnection> {
  const connection = await rawConnect(port);
  await connection.write(concat([PREFACE, settingsFrame()]));
  const settings = await connection.waitFor(
    (f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0,
    STEP_MS,
  );
  assert.ok(settings, "the server sent no SETTINGS");
  if (ack) await connection.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
  return connection;
}

/** The frames a connection received, as a short text for assertion messages. */
function describe(frames: Frame[]): string {
  const counts = new Map<string, number>();
  for (const f of frames) {
    let key = `type=${f.type} flags=${f.flags}`;
    if (f.type === FrameType.GOAWAY) key += ` goaway=${JSON.stringify(parseGoaway(f))}`;
    if (f.type === FrameType.RST_STREAM) {
      key += ` rst=${new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0)}`;
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join("; ");
}

const isGoaway = (f: Frame) => f.type === FrameType.GOAWAY;

/** A feature database of `count` grid features (about 100 bytes each) plus the Empire State Building. */
function writeBigDb(count: number): Promise<TempDb> {
  const padding = "x".repeat(80);
  return writeGridDb({
    count,
    first: [{ name: EMPIRE_STATE_NAME, location: EMPIRE_STATE }],
    name: (i) => `grid feature ${i} ${padding}`,
  });
}

const WHOLE_BOX = {
  lo: { latitude: -900000000, longitude: -1800000000 },
  hi: { latitude: 900000000, longitude: 1800000000 },
};

// ------------------------------------------------------------------ cases

Deno.test("1. invalid coordinates get INVALID_ARGUMENT", async () => {
  await using server = await startServer();
  const client = freshClient(server.target);
  try {
    await rejectsWith(
      client.getFeature({ latitude: 900000001, longitude: 0 }),
      Code.INVALID_ARGUMENT,
      /latitude/,
    );
  } finally {
    client.close();
  }
  await assertHealthy(server);
});

Deno.test("2a. a body that is not protobuf gets INTERNAL on every method", async () => {
  await using server = await startServer();
  // grpc-js (server-interceptors.ts) answers a request message its
  // deserializer throws on with INTERNAL "Error deserializing request",
  // as a trailers-only response; the handler never runs.
  const bodies = {
    "0xff × 32 (wire type 7)": new Uint8Array(32).fill(0xff),
    "truncated varint": new Uint8Array([0x08, 0xff]),
    "unknown field 15 claiming 100 bytes, 2 there": new Uint8Array([0x7a, 0x64, 0x01, 0x02]),
  };
  for (const method of ["GetFeature", "ListFeatures", "RecordRoute", "RouteChat"]) {
    for (const [what, body] of Object.entries(bodies)) {
      const reply = await rawGrpcCall(server.port, `${SERVICE}/${method}`, grpcMessage(body));
      assert.equal(reply.status, Code.INTERNAL, `${method}, ${what}: ${JSON.stringify(reply)}`);
      assert.equal(reply.message, "Error deserializing request");
      assert.equal(reply.body.length, 0);
    }
  }
  await assertHealthy(server);
});

Deno.test({
  name: "2b. a message cut short by the end of the stream is an error on every method",
  // grpc-js 1.14.7 keeps an incomplete message in its decoder and drops it
  // at the end of the stream without a word; the adapter looks at that
  // decoder and answers INTERNAL, as grpc-java ("Encountered end-of-stream
  // mid-frame") and grpc-go do. One case stays grpc-js's own: a unary or
  // server-streaming call with no whole message at all is answered
  // UNIMPLEMENTED ("Received no request message") before any handler runs.
  async fn() {
    await using server = await startServer();
    const point = new Uint8Array([0x08, 0x01, 0x10, 0x02]);
    const note = new Uint8Array([0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x12, 0x01, 0x61]);
    const rect = new Uint8Array([0x0a, 0x04, ...point.slice(0, 4), 0x12, 0x04, ...point]);
    const whole = { GetFeature: point, ListFeatures: rect, RecordRoute: point, RouteChat: note };
    const got: Record<string, number | undefined> = {};
    const want: Record<string, number | undefined> = {};
    for (const [method, message] of Object.entries(whole)) {
      const cases = {
        "a prefix claiming 100 bytes, 4 sent": grpcMessage(point, 100),
        "3 bytes of a prefix": new Uint8Array([0, 0, 0]),
        "a whole message, then a cut one": concat([grpcMessage(message), grpcMessage(point, 100)]),
      };
      for (const [what, body] of Object.entries(cases)) {
        const reply = await rawGrpcCall(server.port, `${SERVICE}/${method}`, body);
        got[`${method}: ${what}`] = reply.status;
        const singleRequest = method === "GetFeature" || method === "ListFeatures";
        want[`${method}: ${what}`] = singleRequest && !what.startsWith("a whole message")
          ? Code.UNIMPLEMENTED
          : Code.INTERNAL;
      }
    }
    assert.deepEqual(got, want);
    await assertHealthy(server);
  },
});

Deno.test("3a. an 8 MB message gets RESOURCE_EXHAUSTED (default limit 4 MiB)", async () => {
  await using server = await startServer();
  const client = freshClient(server.target);
  try {
    const note = {
      location: { latitude: 1, longitude: 2 },
      message: "x".repeat(8 * 1024 * 1024),
    };
    await rejectsWith(
      collect(client.routeChat([note], { deadline: Date.now() + 20_000 })),
      Code.RESOURCE_EXHAUSTED,
      /Received message larger than max \(\d+ vs 4194304\)/,
    );
  } finally {
    client.close();
  }
  // A Point padded with an unknown field of 8 MB.
  const raw = bytesClient(server.target);
  try {
    const { error } = await bytesUnary(raw, `${SERVICE}/GetFeature`, paddedPoint(8 * 1024 * 1024));
    assert.equal(error?.code, Code.RESOURCE_EXHAUSTED, String(error));
    assert.match(error.details, /Received message larger than max \(\d+ vs 4194304\)/);
    // Just under the limit is fine: the unknown field is skipped.
    const ok = await bytesUnary(raw, `${SERVICE}/GetFeature`, paddedPoint(4 * 1024 * 1024 - 64));
    assert.equal(ok.error, undefined, String(ok.error));
  } finally {
    raw.close();
  }
  await assertHealthy(server);
});

Deno.test("3b. with --max-message-bytes 1024 a 2 KB note gets RESOURCE_EXHAUSTED", async () => {
  await using server = await startServer({ args: ["--max-message-bytes", "1024"] });
  const client = freshClient(server.target);
  try {
    const here = { latitude: 11, longitude: 22 };
    await rejectsWith(
      collect(client.routeChat([{ location: here, message: "x".repeat(2048) }])),
      Code.RESOURCE_EXHAUSTED,
      /Received message larger than max \(\d+ vs 1024\)/,
    );
    // 900 bytes fits.
    assert.deepEqual(
      await collect(client.routeChat([{ location: here, message: "y".repeat(900) }])),
      [],
    );
  } finally {
    client.close();
  }
  await assertHealthy(server);
});

Deno.test("4. an unknown method or service gets UNIMPLEMENTED", async () => {
  await using server = await startServer();
  const raw = bytesClient(server.target);
  try {
    for (const path of [`${SERVICE}/NoSuchMethod`, "/nosuch.Service/GetFeature", "/"]) {
      const { error } = await bytesUnary(raw, path, new Uint8Array([0x08, 0x01]));
      assert.equal(error?.code, Code.UNIMPLEMENTED, `${path}: ${error}`);
      assert.match(error.details, /The server does not implement the method/);
    }
  } finally {
    raw.close();
  }
  // The same over node:http2 by hand.
  const reply = await rawGrpcCall(server.port, "/x.Y/Z", grpcMessage(new Uint8Array()));
  assert.equal(reply.status, Code.UNIMPLEMENTED, JSON.stringify(reply));
  await assertHealthy(server);
});

/**
 * Sends `bytes` that do not start with the HTTP/2 preface: the port takes
 * them for HTTP/1.x, whose parser refuses garbage with a 400 (or an HTTP
 * version it does not serve with a 505) and closes.
 */
async function assertRefusedAsHttp1(
  server: ServerProcess,
  bytes: Uint8Array | string,
  status = 400,
) {
  await using connection = await rawConnect(server.port);
  await connection.write(bytes);
  assert.ok(await connection.waitClosed(STEP_MS), "the server did not close the connection");
  const text = new TextDecoder().decode(connection.received());
  assert.ok(text.startsWith(`HTTP/1.1 ${status} `), text.slice(0, 80));
}

Deno.test("5. 64 KB of random bytes: an HTTP/1.1 400, close", async () => {
  await using server = await startServer();
  const garbage = randomBytes(64 * 1024);
  garbage[0] = 0x00; // never the start of "PRI * HTTP/2.0", nor a method
  await assertRefusedAsHttp1(server, garbage);
  await assertHealthy(server);
});

Deno.test("6. a broken HTTP/2 preface is HTTP/1.x's to refuse: 505, close", async () => {
  await using server = await startServer();
  await assertRefusedAsHttp1(server, "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", 505);
  await assertHealthy(server);
});

Deno.test("7. junk frames after a valid preface", async (t) => {
  await using server = await startServer();

  await t.step("frames of undefined types are ignored (RFC 9113 §4.1)", async () => {
    await using c = await handshake(server.port);
    await c.write(concat([
      frame(0x42, 0, 0, randomBytes(100)),
      frame(0xfa, 0xff, 3, randomBytes(1000)),
      frame(0x0b, 0, 1, randomBytes(16)),
      pingFrame(4242),
    ]));
    const ack = await c.waitFor((f) => f.type === FrameType.PING, STEP_MS);
    assert.ok(ack, `no PING ACK: ${describe(c.parser.frames)}`);
    assert.equal(ack.flags, Flag.ACK);
    assert.deepEqual(ack.payload, pingFrame(4242).slice(9));
    assert.equal(c.parser.frames.find(isGoaway), undefined);
    assert.equal(c.isClosed(), false);
  });

  await t.step("DATA on stream 0: GOAWAY PROTOCOL_ERROR, close", async () => {
    await using c = await handshake(server.port);
    await c.write(frame(FrameType.DATA, 0, 0, randomBytes(100)));
    assert.ok(await c.waitClosed(STEP_MS), "not closed");
    const goaway = c.parser.frames.find(isGoaway);
    assert.ok(goaway, describe(c.parser.frames));
    assert.deepEqual(parseGoaway(goaway), {
      lastStreamId: 0,
      errorCode: ErrorCode.PROTOCOL_ERROR,
    });
  });

  await t.step("HEADERS with a garbage HPACK block: GOAWAY COMPRESSION_ERROR, close", async () => {
    await using c = await handshake(server.port);
    // 0xff… is an indexed field whose index overflows: a decoding error
    // at the first byte, whatever random bytes follow.
    const block = concat([new Uint8Array(16).fill(0xff), randomBytes(200)]);
    await c.write(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, block));
    assert.ok(await c.waitClosed(STEP_MS), "not closed");
    const goaway = c.parser.frames.find(isGoaway);
    assert.ok(goaway, describe(c.parser.frames));
    assert.equal(parseGoaway(goaway).errorCode, ErrorCode.COMPRESSION_ERROR);
  });

  await t.step("a SETTINGS frame of 7 bytes: GOAWAY FRAME_SIZE_ERROR, close", async () => {
    await using c = await handshake(server.port);
    await c.write(frame(FrameType.SETTINGS, 0, 0, randomBytes(7)));
    assert.ok(await c.waitClosed(STEP_MS), "not closed");
    const goaway = c.parser.frames.find(isGoaway);
    assert.ok(goaway, describe(c.parser.frames));
    assert.equal(parseGoaway(goaway).errorCode, ErrorCode.FRAME_SIZE_ERROR);
  });

  await t.step(
    "a DATA frame over the 16 KB frame size: GOAWAY FRAME_SIZE_ERROR, close",
    async () => {
      await using c = await handshake(server.port);
      await c.write(frame(FrameType.DATA, 0, 1, randomBytes(20_000)));
      assert.ok(await c.waitClosed(STEP_MS), "not closed");
      const goaway = c.parser.frames.find(isGoaway);
      assert.ok(goaway, describe(c.parser.frames));
      assert.equal(parseGoaway(goaway).errorCode, ErrorCode.FRAME_SIZE_ERROR);
    },
  );

  await assertHealthy(server);
});

Deno.test("8a. 300 RouteChats on one grpc-js connection: 100 run, 200 wait in the client, all finish", async () => {
  await using server = await startServer();
  const client = freshClient(server.target);
  try {
    // Every chat that reaches the server gets the seed note back at once.
    const here = { latitude: 123_456_789, longitude: 87_654_321 };
    await collect(client.routeChat([{ location: here, message: "seed" }]));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    let running = 0;
    let written = 0;
    const chats = Array.from({ length: 300 }, async (_, i) => {
      const notes = async function* () {
        yield { location: here, message: `chat ${i}` };
        written++;
        await gate;
      };
      let replies = 0;
      for await (const _ of client.routeChat(notes(), { deadline: Date.now() + 30_000 })) {
        if (replies++ === 0) running++;
      }
      return replies;
    });
    const all = Promise.allSettled(chats);
    try {
      await waitFor(() => running === 100, "100 chats running");
      // The rest stay queued by grpc-js (the server's SETTINGS say 100), not refused: every
      // chat has handed its note to grpc-js, and still only 100 got the seed back.
      await waitFor(() => written === 300, "all 300 notes handed to grpc-js");
      assert.equal(running, 100);
    } finally {
      release();
    }
    const results = await within(all, 20_000, "300 chats to finish");
    const failed = results.filter((r) => r.status === "rejected");
    assert.deepEqual(failed, []);
    assert.equal(running, 300);
  } finally {
    client.close();
  }
  await assertHealthy(server);
});

/** The RST_STREAM REFUSED_STREAM frames among `frames`. */
function refusedStreams(frames: Frame[]): Frame[] {
  return frames.filter((f) =>
    f.type === FrameType.RST_STREAM &&
    new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0) === ErrorCode.REFUSED_STREAM
  );
}

/** Asserts that streams 201-599 of 300 got REFUSED_STREAM alone and the connection lives on. */
async function assertOverLimitRefused(c: RawConnection): Promise<void> {
  const refused = () => refusedStreams(c.parser.frames);
  await waitFor(() => refused().length >= 200, "200 REFUSED_STREAM", STEP_MS)
    .catch((error) => assert.fail(`${error.message}: ${describe(c.parser.frames)}`));
  // Once the PING is answered, every stream before it has been dealt with.
  await c.write(pingFrame(7));
  assert.ok(await c.waitFor((f) => f.type === FrameType.PING, STEP_MS), "no PING ACK");
  assert.deepEqual(
    refused().map((f) => f.streamId),
    Array.from({ length: 200 }, (_, i) => 201 + 2 * i),
  );
  // The connection and its first 100 streams live on.
  assert.equal(c.parser.frames.find(isGoaway), undefined);
  assert.equal(c.isClosed(), false);
}

Deno.test("8b. 300 streams opened at once by a raw client ignoring the limit", async (t) => {
  await using server = await startServer();
  const block = hpackLiterals(grpcRequestHeaders(`${SERVICE}/RouteChat`));
  const headers = Array.from(
    { length: 300 },
    (_, i) => frame(FrameType.HEADERS, Flag.END_HEADERS, 1 + 2 * i, block),
  );

  await t.step(
    "before the client ACKs the SETTINGS: streams 101-300 get REFUSED_STREAM",
    async () => {
      await using c = await handshake(server.port, false);
      await c.write(concat(headers));
      await assertOverLimitRefused(c);
    },
  );

  await t.step({
    name: "after the ACK: streams 201-599 get REFUSED_STREAM, the rest go on",
    fn: async () => {
      await using c = await handshake(server.port, true);
      // The server takes frames in order: its answer to this PING means it
      // has our SETTINGS ACK, so its limit of 100 streams is in force.
      await c.write(pingFrame(1));
      assert.ok(await c.waitFor((f) => f.type === FrameType.PING, STEP_MS), "no PING ACK");
      await c.write(concat(headers));
      await assertOverLimitRefused(c);
    },
  });

  await assertHealthy(server);
});

Deno.test("9. 20 clients that vanish mid-stream leave nothing in flight", async () => {
  // At --log-level info the server logs each call as it ends: the sign that
  // it has let go of the abandoned ones.
  await using server = await startServer({ args: ["--log-level", "info"] });
  const here = { latitude: 234_567_891, longitude: 98_765_432 };
  const seed = createRouteGuideClient(server.target);
  try {
    await collect(seed.routeChat([{ location: here, message: "seed" }]));
  } finally {
    seed.close();
  }
  // grpc-js's client.close() lets calls in flight go on (the connection
  // stays up), so the clients run in a child process that is then killed:
  // their connections drop with a RouteChat and a RecordRoute open on each.
  // Each RecordRoute opens first: the server takes a connection's streams in
  // order, so the reply on the RouteChat opened after it shows both are live.
  const clientModule = new URL("lib/grpc/client.ts", `file://${ROOT}`).href;
  const code = `
    import { createRouteGuideClient } from ${JSON.stringify(clientModule)};
    const [target] = Deno.args;
    const here = ${JSON.stringify(here)};
    const never = new Promise(() => {});
    const clients = [];
    const replied = [];
    for (let i = 0; i < 20; i++) {
      const client = createRouteGuideClient(target, {
        channelOptions: { "grpc.use_local_subchannel_pool": 1 },
      });
      clients.push(client);
      const notes = async function* () {
        yield { location: here, message: "abandoned " + i };
        yield { location: { latitude: i, longitude: 1 }, message: "more" };
        await never;
      };
      const points = async function* () {
        for (let k = 0; k < 3; k++) yield { latitude: i, longitude: k };
        await never;
      };
      client.recordRoute(points()).catch(() => {});
      replied.push(client.routeChat(notes())[Symbol.asyncIterator]().next());
    }
    await Promise.all(replied);
    for (const client of clients) client.close();
    console.log("open");
    await never;
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", `${ROOT}deno.json`, code, "--", server.target],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const errText = (async () => {
    let text = "";
    for (let r = await stderr.read(); !r.done; r = await stderr.read()) text += r.value;
    return text;
  })();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first: ReadableStreamReadResult<string>;
  let childStderr = "";
  try {
    first = await within(stdout.read(), 30_000, "the child's 40 calls to open");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await stdout.cancel();
    childStderr = await errText;
  }
  assert.equal(first.value?.trim(), "open", childStderr);
  const cancelled = () => server.stderr().match(/ call method=\S+ peer=\S+ status=CANCELLED/g);
  await waitFor(
    () => (cancelled()?.length ?? 0) >= 40,
    "the server to end the 40 calls of the killed clients",
  ).catch((error) => assert.fail(`${error.message}:\n${server.stderr()}`));
  await assertHealthy(server);
  const started = Date.now();
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0, server.stderr());
  // Prompt, not the 10 s grace period: nothing is left to wait for.
  assert.ok(Date.now() - started < 10_000, `shutdown took ${Date.now() - started} ms`);
  assert.match(server.stderr(), /SIGTERM: shutting down; 0 calls in flight/);
  assert.match(server.stderr(), /stopped; 0 calls cancelled/);
});

/** How a flood (of resets, PINGs or SETTINGS) ends the connection. */
const FLOOD_CODE = ErrorCode.ENHANCE_YOUR_CALM;

Deno.test("10. HTTP/2 rapid reset: GOAWAY for the offender, the server lives", async (t) => {
  await using server = await startServer();

  await t.step("node:http2 client, 2,000 request + close(CANCEL)", async () => {
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    let goaway: { code: number; last: number } | undefined;
    session.on("goaway", (code: number, last: number) => goaway ??= { code, last });
    session.on("error", () => {/* the GOAWAY is what we check */});
    const closed = new Promise<void>((resolve) => session.on("close", () => resolve()));
    await within(
      new Promise<void>((resolve) => session.once("connect", () => resolve())),
      STEP_MS,
      "connect",
    );
    for (let i = 0; i < 2000 && !session.destroyed && !session.closed; i++) {
      const stream = session.request({
        ":method": "POST",
        ":path": `${SERVICE}/RouteChat`,
        "content-type": "application/grpc",
        "te": "trailers",
      });
      stream.on("error", () => {});
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    try {
      await within(closed, STEP_MS, "the server to end the session");
    } finally {
      session.destroy();
    }
    // The rapid-reset guard (CVE-2023-44487): past a burst of 1,000 resets
    // the connection ends (see FLOOD_CODE).
    assert.equal(goaway?.code, FLOOD_CODE, JSON.stringify(goaway));
  });

  await t.step("raw frames, 2,000 × (HEADERS, RST_STREAM CANCEL)", async () => {
    await using c = await handshake(server.port);
    const block = hpackLiterals(grpcRequestHeaders(`${SERVICE}/RouteChat`));
    const cancel = new Uint8Array([0, 0, 0, ErrorCode.CANCEL]);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      frames.push(frame(FrameType.HEADERS, Flag.END_HEADERS, 1 + 2 * i, block));
      frames.push(frame(FrameType.RST_STREAM, 0, 1 + 2 * i, cancel));
    }
    await c.write(concat(frames));
    assert.ok(await c.waitClosed(STEP_MS), `not closed: ${describe(c.parser.frames)}`);
    const goaway = c.parser.frames.find(isGoaway);
    assert.ok(goaway, describe(c.parser.frames));
    const { lastStreamId, errorCode } = parseGoaway(goaway);
    assert.equal(errorCode, FLOOD_CODE);
    assert.ok(lastStreamId > 1000 && lastStreamId < 3999, `last stream ${lastStreamId}`);
  });

  await assertHealthy(server);
});

Deno.test("11. PING and SETTINGS floods: the flooding connection gets GOAWAY and is closed", async (t) => {
  await using server = await startServer();
  const floods = {
    "10,000 PINGs": { frames: (i: number) => pingFrame(i), ackType: FrameType.PING },
    "10,000 SETTINGS": {
      frames: (i: number) => settingsFrame([[0x4, 65535 + (i % 2)]]),
      ackType: FrameType.SETTINGS,
    },
  };
  for (const [name, { frames, ackType }] of Object.entries(floods)) {
    await t.step(name, async () => {
      await using c = await handshake(server.port);
      await c.write(concat(Array.from({ length: 10_000 }, (_, i) => frames(i))));
      assert.ok(await c.waitClosed(STEP_MS), `not closed: ${describe(c.parser.frames)}`);
      const goaway = c.parser.frames.find(isGoaway);
      assert.ok(goaway, describe(c.parser.frames));
      // Both transports stop after about 1,000 ACKs (nghttp2 once that many
      // wait to be sent, ours after 1,000 a second).
      assert.deepEqual(parseGoaway(goaway), { lastStreamId: 0, errorCode: FLOOD_CODE });
      const acks = c.parser.frames.filter((f) => f.type === ackType && f.flags === Flag.ACK);
      assert.ok(acks.length <= 1001, `${acks.length} ACKs: ${describe(c.parser.frames)}`);
    });
  }
  await assertHealthy(server);
});

/** A GetFeature with `bytes` of metadata in one value: its error, or the feature's name. */
function getFeatureWithMetadata(
  client: GrpcRouteGuide,
  bytes: number,
): Promise<{ error?: grpc.ServiceError; name?: string }> {
  const metadata = new grpc.Metadata();
  metadata.set("x-big", "m".repeat(bytes));
  return new Promise((resolve) => {
    client.getFeature(
      EMPIRE_STATE,
      metadata,
      { deadline: Date.now() + STEP_MS },
      (error, feature) => resolve(error ? { error } : { name: feature?.name }),
    );
  });
}

Deno.test("12. request metadata over --max-metadata-bytes gets RESOURCE_EXHAUSTED", async () => {
  await using server = await startServer();
  const client = metadataClient(server.target);
  const call = (bytes: number) => getFeatureWithMetadata(client, bytes);
  try {
    const big = await call(16_384);
    assert.equal(big.error?.code, Code.RESOURCE_EXHAUSTED, String(big.error));
    // The size counts every key and value, grpc-js's own user-agent included.
    assert.match(big.error.details, /^request metadata is \d+ bytes, the limit is 8192$/);
    assert.deepEqual(await call(4096), { name: EMPIRE_STATE_NAME });
  } finally {
    client.close();
  }
  await assertHealthy(server);
});

Deno.test("12b. --max-metadata-bytes 100000: 80 KB of metadata is served, 120 KB gets RESOURCE_EXHAUSTED naming both sizes", async () => {
  // Both are over HTTP/2's customary 64 KiB header list: the transport's
  // limit follows --max-metadata-bytes, so the call itself says what is wrong.
  await using server = await startServer({ args: ["--max-metadata-bytes", "100000"] });
  const client = metadataClient(server.target);
  try {
    assert.deepEqual(await getFeatureWithMetadata(client, 80_000), { name: EMPIRE_STATE_NAME });
    const big = await getFeatureWithMetadata(client, 120_000);
    assert.equal(big.error?.code, Code.RESOURCE_EXHAUSTED, String(big.error));
    const [, size] = big.error.details.match(
      /^request metadata is (\d+) bytes, the limit is 100000$/,
    ) ?? assert.fail(big.error.details);
    // Every key and value counts: the 120,000-byte value, its key and grpc-js's own.
    assert.ok(Number(size) > 120_000 && Number(size) < 121_000, big.error.details);
  } finally {
    client.close();
  }
  await assertHealthy(server);
});

Deno.test("13. --max-connections 5: the 6th connection is closed at once", async () => {
  await using server = await startServer({ args: ["--max-connections", "5"] });
  const held: RawConnection[] = [];
  try {
    for (let i = 0; i < 5; i++) held.push(await handshake(server.port));
    // A raw 6th: closed before the server says anything.
    {
      await using sixth = await rawConnect(server.port);
      assert.ok(await sixth.waitClosed(STEP_MS), "the 6th connection stayed open");
      assert.equal(sixth.received().length, 0);
    }
    // A grpc-js client as the 6th: its call fails.
    const client = freshClient(server.target);
    try {
      await rejectsWith(
        client.getFeature(EMPIRE_STATE, { deadline: Date.now() + STEP_MS }),
        Code.UNAVAILABLE,
      );
    } finally {
      client.close();
    }
    // The 5 held connections still work.
    for (const c of held) {
      await c.write(pingFrame(5));
      assert.ok(await c.waitFor((f) => f.type === FrameType.PING, STEP_MS), "no PING ACK");
    }
  } finally {
    for (const c of held) await c[Symbol.asyncDispose]();
  }
  // Once the server has seen them close, a new client gets in.
  await retryWhile(Code.UNAVAILABLE, () => assertHealthy(server));
});

Deno.test("13b. silent connections holding every --max-connections slot are dropped (keepalive, or the silent-connection deadline)", async () => {
  await using server = await startServer({
    // Keepalive drops them after 4 s: time enough for the client below to
    // find every slot taken, even on a busy machine.
    args: ["--max-connections", "2", "--keepalive", "2", "--keepalive-timeout", "2"],
  });
  // One TCP connection that never sends a byte, one that sends the preface
  // but never answers a PING: together they take every slot.
  await using silent = await rawConnect(server.port);
  await using mute = await rawConnect(server.port);
  await mute.write(concat([PREFACE, settingsFrame()]));
  const started = Date.now();
  const client = freshClient(server.target);
  try {
    await rejectsWith(
      client.getFeature(EMPIRE_STATE, { deadline: Date.now() + STEP_MS }),
      Code.UNAVAILABLE,
    );
  } finally {
    client.close();
  }
  // The keepalive PING goes unanswered for --keepalive-timeout: GOAWAY, close.
  // (The GOAWAY tells keepalive from the 10 s silent-connection timer,
  // which only destroys the socket.)
  assert.ok(
    await mute.waitClosed(2 * STEP_MS),
    "a connection that does not answer PINGs stayed open",
  );
  assert.ok(mute.parser.frames.some((f) => f.type === FrameType.PING && f.flags === 0));
  assert.ok(mute.parser.frames.some(isGoaway), describe(mute.parser.frames));
  // One that never sends a byte has not said it speaks HTTP/2 (the port
  // serves HTTP/1.1 too), so it gets no PING: the silent-connection
  // deadline closes it.
  assert.ok(await silent.waitClosed(2 * STEP_MS), "a connection that never spoke stayed open");
  assert.equal(silent.parser.frames.length, 0, describe(silent.parser.frames));
  assert.ok(Date.now() - started < 2 * STEP_MS, `closed after ${Date.now() - started} ms`);
  // Once the server has seen them close, a new client gets in.
  await retryWhile(Code.UNAVAILABLE, () => assertHealthy(server));
});

Deno.test("13c. a connection that sends nothing is closed once it has been silent too long", async () => {
  const server = await serve({
    db: createFeatureDb([]).db,
    host: "127.0.0.1",
    port: 0,
    // Long enough that the connection below speaks in time even on a busy machine.
    limits: { silentConnectionMs: 2000 },
  });
  try {
    await using silent = await rawConnect(server.port);
    // One that speaks in time stays.
    await using speaking = await handshake(server.port);
    assert.ok(await silent.waitClosed(STEP_MS), "the silent connection stayed open");
    await speaking.write(pingFrame(7));
    assert.ok(await speaking.waitFor((f) => f.type === FrameType.PING, STEP_MS), "no PING ACK");
    assert.equal(server.connections, 1);
  } finally {
    await server.shutdown(1000);
  }
});

/** Many TCP connections that send nothing; each reads what arrives, so it sees the close. */
function silentConnections(port: number, count: number) {
  return Array.from({ length: count }, () => {
    const socket = connect(port, "127.0.0.1");
    let closed = false;
    socket.on("error", () => {});
    socket.resume();
    socket.once("close", () => closed = true);
    return { socket, isClosed: () => closed };
  });
}

/** Sums a field over JSON log lines. */
const sum = (lines: Record<string, unknown>[], field: string) =>
  lines.reduce((total, line) => total + Number(line[field]), 0);

/** The server in-process, over TLS or not, writing its JSON log lines into `lines`. */
async function serveLogged(
  certs: TestCerts | undefined,
  limits: { maxConnections: number; silentConnectionMs: number },
  lines: Record<string, unknown>[],
) {
  return await serve({
    db: createFeatureDb([]).db,
    host: "127.0.0.1",
    port: 0,
    tls: certs && { certFile: certs.serverCert, keyFile: certs.serverKey },
    limits,
    logger: createLogger({ format: "json", write: (line) => lines.push(JSON.parse(line)) }),
  });
}

for (const tls of [false, true]) {
  const mode = tls ? "TLS" : "plaintext";
  tlsTest(
    `13d. ${mode}, --max-connections 5: of 20 connections that never speak (no handshake), 5 are held, 15 closed on arrival, one summary line`,
    async () => {
      await using certs = tls ? await makeTestCerts() : undefined;
      const lines: Record<string, unknown>[] = [];
      const server = await serveLogged(
        certs,
        { maxConnections: 5, silentConnectionMs: 60_000 },
        lines,
      );
      const clients = silentConnections(server.port, 20);
      try {
        await waitFor(
          () => clients.filter((c) => c.isClosed()).length === 15,
          () => `15 of 20 closed; ${clients.filter((c) => c.isClosed()).length} are`,
          STEP_MS,
        );
        assert.equal(server.connections, 5);
      } finally {
        for (const c of clients) c.socket.destroy();
        await server.shutdown(1000);
      }
      // The refusals came within a moment: one line, or two should the
      // interval have ended among them on a busy machine.
      assert.ok(lines.length >= 1 && lines.length <= 2, JSON.stringify(lines));
      assert.equal(sum(lines, "at_cap"), 15);
      assert.equal(sum(lines, "silent") + sum(lines, "failed_handshakes"), 0);
      assert.match(
        String(lines[0].msg),
        /^connections refused: \d+ at the cap \(--max-connections 5\)$/,
      );
    },
  );
  tlsTest(
    `13e. ${mode}: connections that never speak (no handshake) are closed after silentConnectionMs and logged`,
    async () => {
      await using certs = tls ? await makeTestCerts() : undefined;
      const lines: Record<string, unknown>[] = [];
      const server = await serveLogged(
        certs,
        { maxConnections: 50, silentConnectionMs: 300 },
        lines,
      );
      const clients = silentConnections(server.port, 5);
      try {
        await waitFor(
          () => clients.every((c) => c.isClosed()),
          () => `all 5 closed; ${clients.filter((c) => c.isClosed()).length} are`,
          STEP_MS,
        );
        await waitFor(() => server.connections === 0, "the server to see them closed", STEP_MS);
        // The line comes within a second of the first refusal.
        await waitFor(() => sum(lines, "silent") === 5, () => JSON.stringify(lines), STEP_MS);
      } finally {
        for (const c of clients) c.socket.destroy();
        await server.shutdown(1000);
      }
      assert.equal(sum(lines, "at_cap") + sum(lines, "failed_handshakes"), 0);
      assert.match(String(lines[0].msg), /^connections refused: \d+ silent for 0.3 s$/);
    },
  );
}

Deno.test("14. --max-concurrent-lists 2: a 3rd ListFeatures gets RESOURCE_EXHAUSTED", async () => {
  // A listing far larger than the flow-control windows, so a reader that
  // stops keeps its ListFeatures running on the server.
  await using db = await writeBigDb(20_000);
  await using server = await startServer({
    args: ["--db", db.path, "--max-concurrent-lists", "2"],
  });
  const client = freshClient(server.target);
  try {
    const paused = [0, 1].map(() => client.listFeatures(WHOLE_BOX)[Symbol.asyncIterator]());
    try {
      // A first feature means that listing is running on the server.
      for (const it of paused) {
        const first = await within(it.next(), STEP_MS, "the first feature");
        assert.equal(first.done, false);
      }
      await rejectsWith(
        collect(client.listFeatures(WHOLE_BOX)),
        Code.RESOURCE_EXHAUSTED,
        /^too many ListFeatures calls at once \(limit 2\); retry later$/,
      );
    } finally {
      for (const it of paused) await it.return?.();
    }
    // Once the server has seen the cancellations, listing works again.
    const all = await retryWhile(
      Code.RESOURCE_EXHAUSTED,
      () => collect(client.listFeatures(WHOLE_BOX)),
    );
    assert.equal(all.length, 20_001);
  } finally {
    client.close();
  }
  await assertHealthy(server);
});
