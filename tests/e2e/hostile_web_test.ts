/**
 * The hostile-input suite of `hostile_test.ts` on the web protocols: gRPC-Web
 * (binary, JSON and text) and Connect (unary and streaming, proto and JSON),
 * over HTTP/1.1 and h2c, against the real server. Each case asserts the code
 * (and, for Connect unary, the HTTP status the Connect spec gives it) with a
 * message naming what was wrong, then that the server lives on: a good call on
 * the same connection where the protocol allows, and on a fresh one.
 *
 * Expected values come from the specs: the Connect protocol's error-code
 * table, gRPC's `doc/statuscodes.md` ("Error parsing request proto":
 * INTERNAL; "larger than configured limit": RESOURCE_EXHAUSTED),
 * PROTOCOL-WEB.md, RFC 9110 (408, 431 from RFC 6585) and the issue's limits.
 *
 * Cases of `hostile_test.ts` not repeated here, and why:
 * - 5 and 6 (random bytes, a broken HTTP/2 preface): bytes that are not the
 *   HTTP/2 preface already go to the HTTP/1.x parser, so those cases are
 *   HTTP/1.x cases already; the smuggling shapes, oversized heads, pipelining
 *   and dribbled heads are in `tests/http1/abuse_test.ts`.
 * - 7, 8b, 10 and 11 (junk frames, streams over the limit, rapid reset, PING
 *   and SETTINGS floods): HTTP/2 frames, refused by the transport before any
 *   stream has a protocol; a web call over h2c rides the very same
 *   connection code as a gRPC call.
 * - 8a over h2c: the 100 streams a connection may open are the transport's
 *   limit, the same for every protocol; HTTP/1.1 has no such limit (one call
 *   per connection), so its case is many connections at once.
 * - 13b to 13e (connections that never send a byte): until its first byte a
 *   connection has no protocol, so those cases are the web's already; what is
 *   HTTP/1.1's own, a head begun and never finished, is here.
 *
 * Run against the reference (`ROUTEGUIDE_WEB_REFERENCE`, see tests/_web.ts),
 * the cases that need our server's flags or insides are ignored.
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import { createFeatureDb } from "../../lib/core/feature_index.ts";
import { type RouteGuideServer, serve, type ServerLimits } from "../../lib/server/serve.ts";
import { STEP_MS, waitFor, within } from "../_async.ts";
import { writeGridDb } from "../_db.ts";
import { rawConnect } from "../_h2.ts";
import { EMPIRE_STATE, EMPIRE_STATE_NAME } from "../_places.ts";
import { paddedPoint } from "../_proto.ts";
import {
  AGAINST_REFERENCE,
  DB_PATH,
  startSharedWebTarget,
  type WebTarget,
  webTest,
} from "../_web.ts";
import { EnvelopeReader, RawHttp1 } from "../interop/_http1_raw.ts";
import {
  envelope,
  featureName,
  h1request,
  H2C,
  HTTP1,
  noteProto,
  pointProto,
  type RawRequest,
  type RawResponse,
  rectangleProto,
  TRANSPORTS,
  type WebConnection,
  type WebTransport,
} from "../web/_http.ts";
import {
  connectStream,
  connectUnary,
  grpcWeb,
  grpcWebText,
  type Speaker,
} from "../web/_speakers.ts";

const SERVICE = "/routeguide.RouteGuide";

/** gRPC status codes (doc/statuscodes.md), written here rather than imported from lib/. */
const Code = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
} as const;

/** The default limit on a request message (the README's `--max-message-bytes`). */
const DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;

/**
 * Every web protocol and codec, with the methods it may call: Connect unary
 * content types are for unary methods only, Connect's streaming ones for
 * streaming methods; gRPC-Web calls all four. The first method takes exactly
 * one request message.
 */
const SPEAKING: { speaker: Speaker; methods: string[] }[] = [
  { speaker: connectUnary(false), methods: ["GetFeature"] },
  { speaker: connectUnary(true), methods: ["GetFeature"] },
  { speaker: connectStream(false), methods: ["RecordRoute", "ListFeatures", "RouteChat"] },
  { speaker: connectStream(true), methods: ["RecordRoute", "ListFeatures", "RouteChat"] },
  ...[grpcWeb(false), grpcWeb(true), grpcWebText].map((speaker) => ({
    speaker,
    methods: ["GetFeature", "ListFeatures", "RecordRoute", "RouteChat"],
  })),
];

/**
 * The speakers and methods a transport carries: all of them, except that
 * the reference (connect-es) serves client and bidirectional streaming over
 * HTTP/2 only (505 over HTTP/1.1), where this server serves all four kinds.
 */
function speaking(transport: WebTransport): { speaker: Speaker; methods: string[] }[] {
  if (!AGAINST_REFERENCE || !transport.http1) return SPEAKING;
  const http1 = (method: string) => method !== "RecordRoute" && method !== "RouteChat";
  return SPEAKING.map(({ speaker, methods }) => ({ speaker, methods: methods.filter(http1) }))
    .filter(({ methods }) => methods.length > 0);
}

/** What `read` makes of an answer. */
type Reading = ReturnType<Speaker["read"]>;

/** A request to `method` in the speaker's protocol; objects are sent as JSON. */
function call(
  speaker: Speaker,
  method: string,
  messages: (Uint8Array | object)[],
  headers: Record<string, string> = {},
): RawRequest {
  const encoded = messages.map((m) =>
    m instanceof Uint8Array ? m : new TextEncoder().encode(JSON.stringify(m))
  );
  return {
    path: method.startsWith("/") ? method : `${SERVICE}/${method}`,
    headers: { "content-type": speaker.contentType, ...headers },
    body: speaker.body(encoded),
  };
}

/**
 * Asserts that an answer is the error `code` in the speaker's protocol, its
 * message matching `message`, with no messages before it unless
 * `answersFirst` (a good request message ahead of the bad part may be answered).
 */
function assertError(
  speaker: Speaker,
  response: RawResponse,
  expected: { code: number; message: RegExp; what: string; answersFirst?: boolean },
): Reading {
  const what = `${expected.what} (${speaker.name})`;
  let reading: Reading;
  try {
    reading = speaker.read(response);
  } catch (error) {
    assert.fail(`${what}: ${(error as Error).message}: ${response.status} ${response.text()}`);
  }
  assert.equal(reading.status, expected.code, `${what}: ${reading.message}`);
  assert.match(reading.message ?? "", expected.message, what);
  if (expected.answersFirst !== true) {
    assert.deepEqual(reading.messages, [], `${what}: no messages before the error`);
  }
  return reading;
}

/** A good call (Connect JSON GetFeature) answered with the Empire State Building. */
async function assertServes(connection: WebConnection, what: string): Promise<void> {
  const answer = await within(
    connection.send({
      path: `${SERVICE}/GetFeature`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(EMPIRE_STATE),
    }),
    STEP_MS,
    `a good call after ${what}`,
  );
  assert.equal(answer.status, 200, `a good call after ${what}: ${answer.text()}`);
  assert.equal(JSON.parse(answer.text()).name, EMPIRE_STATE_NAME, what);
}

/** A good call on a fresh connection of each transport. */
async function assertServesFresh(port: number, what: string): Promise<void> {
  for (const transport of TRANSPORTS) {
    await using connection = await transport.open(port);
    await assertServes(connection, `${what}, on a fresh ${transport.name} connection`);
  }
}

/**
 * Runs `body` with a connection of each transport; the connection must
 * serve a good call afterwards, and so must a fresh one.
 */
async function onEachTransport(
  port: number,
  what: string,
  body: (connection: WebConnection, transport: WebTransport) => Promise<void>,
): Promise<void> {
  for (const transport of TRANSPORTS) {
    await using connection = await transport.open(port);
    await body(connection, transport);
    await assertServes(connection, `${what}, on the same ${transport.name} connection`);
  }
  await assertServesFresh(port, what);
}

// One server with the default limits, on the project's database, for the
// cases that need no flag; and one with the flags of cases 3b, 12b and 14.
const shared: WebTarget = await startSharedWebTarget();
// About 10 MB of listing: more than loopback's socket buffers hold for a
// client that reads nothing (case 14 needs its listings to stay running).
const BIG_DB_FEATURES = 100_000;
const bigDb = await writeGridDb({
  count: BIG_DB_FEATURES,
  first: [{ name: EMPIRE_STATE_NAME, location: EMPIRE_STATE }],
  name: (i) => `grid feature ${i} ${"x".repeat(80)}`,
});
globalThis.addEventListener("unload", () => Deno.removeSync(bigDb.path));
const limited: WebTarget = await startSharedWebTarget([
  "--db",
  bigDb.path,
  "--max-message-bytes",
  "1024",
  "--max-metadata-bytes",
  "100000",
  "--max-concurrent-lists",
  "2",
]);

/** Needs our server's flags, which the reference does not have. */
const OUR_FLAGS = "it needs our server's flags";

// ------------------------------------------------------------------ cases

/** Per method: out-of-range coordinates, as proto and JSON, and what the message must name. */
const BAD_COORDINATES: Record<string, { proto: Uint8Array[]; json: object[]; names: RegExp }> = {
  GetFeature: {
    proto: [pointProto(900000001, 0)],
    json: [{ latitude: 900000001 }],
    names: /^(?=.*latitude)(?=.*900000001)/,
  },
  ListFeatures: {
    proto: [rectangleProto(pointProto(1, 1), pointProto(1, -1800000001))],
    json: [{ lo: { latitude: 1, longitude: 1 }, hi: { latitude: 1, longitude: -1800000001 } }],
    names: /^(?=.*longitude)(?=.*-1800000001)/,
  },
  RecordRoute: {
    proto: [pointProto(1, 1), pointProto(-900000001, 1)],
    json: [{ latitude: 1, longitude: 1 }, { latitude: -900000001, longitude: 1 }],
    names: /^(?=.*latitude)(?=.*-900000001)/,
  },
  RouteChat: {
    proto: [noteProto(1, 1800000001, "off the map")],
    json: [{ location: { latitude: 1, longitude: 1800000001 }, message: "off the map" }],
    names: /^(?=.*longitude)(?=.*1800000001)/,
  },
};

webTest(
  "1. invalid coordinates get invalid_argument naming the field and value, in every web protocol, over HTTP/1.1 and h2c",
  async () => {
    await onEachTransport(shared.port, "invalid coordinates", async (connection, transport) => {
      for (const { speaker, methods } of speaking(transport)) {
        for (const method of methods) {
          const bad = BAD_COORDINATES[method];
          const answer = await connection.send(
            call(speaker, method, speaker.json ? bad.json : bad.proto),
          );
          assertError(speaker, answer, {
            code: Code.INVALID_ARGUMENT,
            message: bad.names,
            what: `${transport.name} ${method}`,
          });
        }
      }
    });
  },
);

/** Bodies that are not a protobuf message (case 2a of hostile_test.ts). */
const NOT_PROTOBUF: Record<string, Uint8Array> = {
  "0xff × 32 (wire type 7)": new Uint8Array(32).fill(0xff),
  "truncated varint": new Uint8Array([0x08, 0xff]),
  "unknown field 15 claiming 100 bytes, 2 there": new Uint8Array([0x7a, 0x64, 0x01, 0x02]),
};

/** Bodies that are not JSON, or JSON of the wrong types, and what the message must name. */
const NOT_JSON: Record<string, { body: string; names: RegExp }> = {
  "cut short": { body: '{"latitude":', names: /JSON/ },
  "not JSON at all": { body: "not json", names: /JSON/ },
  "a string for a number": { body: '{"latitude":"north"}', names: /latitude.*north/ },
};

/** A point's JSON where `method`'s request message holds it. */
function pointIn(method: string, point: string): string {
  if (method === "ListFeatures") return `{"lo":${point}}`;
  if (method === "RouteChat") return `{"location":${point}}`;
  return point;
}

webTest(
  "2a. a body that is not protobuf gets internal (gRPC's code for an unparsable request) and one that is not JSON invalid_argument, on every method",
  async () => {
    await onEachTransport(
      shared.port,
      "bodies that do not parse",
      async (connection, transport) => {
        for (const { speaker, methods } of speaking(transport)) {
          for (const method of methods) {
            const what = `${transport.name} ${method}`;
            const cases = speaker.json
              ? Object.entries(NOT_JSON).map(([name, { body, names }]) => ({
                name,
                body: new TextEncoder().encode(pointIn(method, body)),
                expected: { code: Code.INVALID_ARGUMENT, message: names },
              }))
              : Object.entries(NOT_PROTOBUF).map(([name, body]) => ({
                name,
                body,
                expected: { code: Code.INTERNAL, message: /deserializ|parse/i },
              }));
            for (const { name, body, expected } of cases) {
              const answer = await connection.send(call(speaker, method, [body]));
              assertError(speaker, answer, { ...expected, what: `${what}, ${name}` });
            }
          }
        }
      },
    );
  },
);

/** Envelopes cut short by the end of the body (case 2b of hostile_test.ts), after `whole` where said. */
function cutEnvelopes(whole: Uint8Array): Record<string, Uint8Array> {
  return {
    "3 bytes of a prefix": new Uint8Array([0, 0, 0]),
    "a prefix claiming 100 bytes, 4 sent": Buffer.concat([
      new Uint8Array([0, 0, 0, 0, 100]),
      whole.subarray(0, 4),
    ]),
    "a whole message, then a cut one": Buffer.concat([
      envelope(0, whole),
      new Uint8Array([0, 0, 0, 0, 100, 8]),
    ]),
  };
}

/** A good request message of `method` (a RouteNote for RouteChat, else a Point). */
function wholeMessage(json: boolean, method: string): Uint8Array {
  const chat = method === "RouteChat";
  if (!json) return chat ? noteProto(1, 2, "cut") : pointProto(1, 2);
  const point = { latitude: 1, longitude: 2 };
  return new TextEncoder().encode(
    JSON.stringify(chat ? { location: point, message: "cut" } : point),
  );
}

webTest(
  "2b. an envelope cut short by the end of the body gets invalid_argument naming it, on every enveloped protocol and method",
  async () => {
    await onEachTransport(shared.port, "cut envelopes", async (connection, transport) => {
      for (const { speaker, methods } of speaking(transport)) {
        if (speaker.name.startsWith("connect unary")) continue; // one bare message, no envelopes
        for (const method of methods) {
          // Only streaming requests may carry a second message.
          const singleRequest = method === "GetFeature" || method === "ListFeatures";
          const whole = wholeMessage(speaker.json, method);
          for (const [name, bytes] of Object.entries(cutEnvelopes(whole))) {
            if (singleRequest && name.startsWith("a whole message")) continue;
            const body = speaker === grpcWebText ? Buffer.from(bytes).toString("base64") : bytes;
            const answer = await connection.send({
              path: `${SERVICE}/${method}`,
              headers: { "content-type": speaker.contentType },
              body,
            });
            assertError(speaker, answer, {
              code: Code.INVALID_ARGUMENT,
              message: /envelope/,
              what: `${transport.name} ${method}, ${name}`,
              // RouteChat may answer the whole note (with earlier notes) first.
              answersFirst: name.startsWith("a whole message"),
            });
          }
        }
      }
    });
  },
);

/** A request message of `bytes` (give or take a few): a padded Point, in proto or JSON. */
function paddedMessage(json: boolean, bytes: number): Uint8Array {
  if (!json) return paddedPoint(bytes);
  // An unknown field, which the server ignores.
  return new TextEncoder().encode(`{"latitude":1,"padding":"${"a".repeat(bytes)}"}`);
}

/** The headers that say a request message is gzip-compressed, by protocol. */
function gzipHeaders(speaker: Speaker): Record<string, string> {
  if (speaker.name.startsWith("connect unary")) return { "content-encoding": "gzip" };
  if (speaker.name.startsWith("connect+")) return { "connect-content-encoding": "gzip" };
  return { "grpc-encoding": "gzip" };
}

/** A request of one gzip-compressed message (flag 0x01 on an envelope). */
function gzipCall(speaker: Speaker, method: string, message: Uint8Array): RawRequest {
  const compressed = gzipSync(message);
  const unary = speaker.name.startsWith("connect unary");
  const framed = unary ? compressed : envelope(1, compressed);
  return {
    path: `${SERVICE}/${method}`,
    headers: { "content-type": speaker.contentType, ...gzipHeaders(speaker) },
    body: speaker === grpcWebText ? Buffer.from(framed).toString("base64") : framed,
  };
}

/**
 * Sends a request that the server may answer before reading it all; over
 * HTTP/1.1 the server then either reads and drops the rest or closes, and
 * a client may only reuse the connection when the answer did not say
 * `Connection: close` (RFC 9112 §9.6). Returns the connection to go on with.
 */
async function sendOversized(
  connection: WebConnection,
  transport: WebTransport,
  port: number,
  request: RawRequest,
): Promise<{ answer: RawResponse; next: WebConnection }> {
  const answer = await connection.send(request);
  if (transport.http1 && answer.headers["connection"] === "close") {
    await connection[Symbol.asyncDispose]();
    return { answer, next: await transport.open(port) };
  }
  return { answer, next: connection };
}

/**
 * Case 3 on one server: a message over `limit`, plain and gzip-compressed
 * (a bomb: small on the wire, over the limit once inflated), gets
 * resource_exhausted naming the limit; one under it is served.
 */
async function assertMessageLimit(
  port: number,
  sizes: { limit: number; over: number; under: number },
): Promise<void> {
  for (const transport of TRANSPORTS) {
    let connection = await transport.open(port);
    try {
      for (const { speaker, methods } of speaking(transport)) {
        const method = methods[0];
        const what = `${transport.name} ${method}`;
        const expected = { code: Code.RESOURCE_EXHAUSTED, message: new RegExp(`${sizes.limit}`) };
        const big = paddedMessage(speaker.json, sizes.over);
        for (
          const [name, request] of [
            ["plain", call(speaker, method, [big])],
            ["gzip bomb", gzipCall(speaker, method, big)],
          ] as const
        ) {
          const sent = await sendOversized(connection, transport, port, request);
          connection = sent.next;
          assertError(speaker, sent.answer, { ...expected, what: `${what}, ${name}` });
          await assertServes(connection, `${what}, ${name}`);
        }
        // Just under the limit, once per protocol (megabytes cost time).
        if (speaker.json || speaker === grpcWebText) continue;
        const small = await connection.send(
          call(speaker, method, [paddedMessage(speaker.json, sizes.under)]),
        );
        assert.equal(speaker.read(small).status, Code.OK, `${what}: under the limit`);
      }
    } finally {
      await connection[Symbol.asyncDispose]();
    }
  }
  await assertServesFresh(port, "messages over the limit");
}

webTest(
  "3a. a message over the default limit of 4 MiB gets resource_exhausted naming the limit, compressed or not; one under it is served",
  async () => {
    await assertMessageLimit(shared.port, {
      limit: DEFAULT_MAX_MESSAGE,
      over: DEFAULT_MAX_MESSAGE + 1024,
      under: DEFAULT_MAX_MESSAGE - 64,
    });
  },
  "connect-es sets no default limit on a message",
);

webTest(
  "3b. with --max-message-bytes 1024, a 2 KB message gets resource_exhausted naming the limit, compressed or not; 900 bytes are served",
  async () => {
    await assertMessageLimit(limited.port, { limit: 1024, over: 2048, under: 900 });
  },
  OUR_FLAGS,
);

/** Paths that name no method this server has. */
const UNKNOWN_METHODS = [`${SERVICE}/NoSuchMethod`, "/nosuch.Service/GetFeature"];

webTest(
  "4. an unknown method or service gets unimplemented in the caller's protocol, naming the path; a path that is no RPC gets 404",
  async () => {
    await onEachTransport(shared.port, "unknown methods", async (connection, transport) => {
      for (const { speaker } of speaking(transport)) {
        for (const path of UNKNOWN_METHODS) {
          const message = speaker.json ? {} : pointProto(1, 1);
          assertError(speaker, await connection.send(call(speaker, path, [message])), {
            code: Code.UNIMPLEMENTED,
            message: new RegExp(path.replaceAll(".", "\\.")),
            what: `${transport.name} ${path}`,
          });
        }
      }
      for (
        const request of [
          { path: "/no/such/path", headers: { "content-type": "application/json" }, body: "{}" },
          { method: "GET", path: "/no-such-page.html" },
        ]
      ) {
        const answer = await connection.send(request);
        assert.equal(answer.status, 404, `${transport.name} ${request.path}: ${answer.text()}`);
        assert.match(answer.text(), new RegExp(request.path), transport.name);
      }
    });
  },
  // It answers an unknown method with HTTP 404, which Connect clients read as unimplemented.
  "connect-es answers HTTP 404",
);

/**
 * Case 12 on one server: request headers of `over` bytes get 431 over
 * HTTP/1.1 (RFC 6585 §5: the header section counts against
 * --max-metadata-bytes, and the connection closes), and resource_exhausted
 * naming the limit over h2c, where they are the call's metadata; `under`
 * bytes are served.
 */
async function assertMetadataLimit(
  port: number,
  sizes: { limit: number; over: number; under: number },
): Promise<void> {
  const big = { "x-big": "m".repeat(sizes.over) };
  for (const transport of TRANSPORTS) {
    for (const { speaker, methods } of speaking(transport)) {
      const what = `${transport.name} ${speaker.name}`;
      const message = speaker.json ? {} : pointProto(1, 1);
      await using connection = await transport.open(port);
      const small = { "x-small": "m".repeat(sizes.under) };
      const served = await connection.send(call(speaker, methods[0], [message], small));
      assert.equal(speaker.read(served).status, Code.OK, `${what}: ${sizes.under} bytes`);
      const answer = await connection.send(call(speaker, methods[0], [message], big));
      if (transport.http1) {
        assert.equal(answer.status, 431, `${what}: ${answer.text()}`);
        assert.equal(answer.headers["connection"], "close", what);
        assert.match(answer.text(), new RegExp(`${sizes.limit}`), what);
        continue;
      }
      assertError(speaker, answer, {
        code: Code.RESOURCE_EXHAUSTED,
        message: new RegExp(`^request metadata is \\d+ bytes, the limit is ${sizes.limit}$`),
        what,
      });
      await assertServes(connection, `${what}, metadata over the limit`);
    }
  }
  await assertServesFresh(port, "metadata over the limit");
}

webTest(
  "12. request headers over --max-metadata-bytes (default 8192): 431 over HTTP/1.1, resource_exhausted over h2c, naming the limit",
  async () => {
    await assertMetadataLimit(shared.port, { limit: 8192, over: 16_384, under: 4096 });
  },
  OUR_FLAGS,
);

webTest(
  "12b. --max-metadata-bytes 100000: 80 KB of headers are served, 120 KB get 431 over HTTP/1.1 and resource_exhausted over h2c",
  async () => {
    await assertMetadataLimit(limited.port, { limit: 100_000, over: 120_000, under: 80_000 });
  },
  OUR_FLAGS,
);

/** A server in this process on the project's database, with `limits`. */
async function serveProjectDb(limits: ServerLimits = {}): Promise<RouteGuideServer> {
  const features = JSON.parse(await Deno.readTextFile(DB_PATH));
  return await serve({ db: createFeatureDb(features).db, host: "127.0.0.1", port: 0, limits });
}

webTest(
  "13. --max-connections 5 counts HTTP/1.1 connections with h2c ones: the 6th is closed at once, the 5 go on, and one closed by `Connection: close` frees its slot",
  async () => {
    const server = await serveProjectDb({ maxConnections: 5 });
    const held: WebConnection[] = [];
    try {
      for (const transport of [HTTP1, HTTP1, HTTP1, HTTP1, H2C]) {
        const connection = await transport.open(server.port);
        held.push(connection);
        await assertServes(connection, `opening a ${transport.name} connection`);
      }
      // A raw 6th: closed before the server says anything.
      {
        await using sixth = await rawConnect(server.port);
        assert.ok(await sixth.waitClosed(STEP_MS), "the 6th connection stayed open");
        assert.equal(sixth.received().length, 0);
      }
      // An HTTP/1.1 client as the 6th: its call fails.
      await assert.rejects(
        h1request(server.port, {
          path: `${SERVICE}/GetFeature`,
          headers: { "content-type": "application/json" },
          body: "{}",
        }),
      );
      for (const connection of held) await assertServes(connection, "a refused 6th connection");
      // The client asks to close: the server closes after the answer, and the slot is free.
      const closing = await held[0].send({
        path: `${SERVICE}/GetFeature`,
        headers: { "content-type": "application/json", "connection": "close" },
        body: JSON.stringify(EMPIRE_STATE),
      });
      assert.equal(closing.headers["connection"], "close");
      // The client closes its side too (RFC 9112 §9.6); the server then lets go.
      await held.shift()![Symbol.asyncDispose]();
      const fourLeft = () =>
        waitFor(() => server.connections === 4, () => `${server.connections} connections`);
      for (const transport of TRANSPORTS) {
        await fourLeft();
        await using fresh = await transport.open(server.port);
        await assertServes(fresh, `a connection closed, on a fresh ${transport.name} one`);
      }
    } finally {
      for (const connection of held) await connection[Symbol.asyncDispose]();
      await server.shutdown(1000);
    }
  },
  OUR_FLAGS,
);

webTest(
  "13f. an HTTP/1.1 request head begun and not finished within the head deadline gets 408 naming it and a close (RFC 9110 §15.5.9), first on a connection or after a call",
  async () => {
    // The deadline is 10 s; the server's option shortens it for the test.
    const server = await serveProjectDb({ requestHeadTimeoutMs: 300 });
    try {
      const half = `POST ${SERVICE}/GetFeature HTTP/1.1\r\nhost: t\r\ncontent-type: appl`;
      const good = `POST ${SERVICE}/GetFeature HTTP/1.1\r\nhost: t\r\n` +
        `content-type: application/json\r\ncontent-length: 2\r\n\r\n{}`;
      for (const [what, before] of [["first", ""], ["after a call", good]]) {
        await using connection = await rawConnect(server.port);
        await connection.write(before + half);
        assert.ok(await connection.waitClosed(STEP_MS), `${what}: the connection stayed open`);
        const text = new TextDecoder().decode(connection.received());
        const answers = text.split(/(?=HTTP\/1\.1 )/);
        assert.equal(answers.length, before === "" ? 1 : 2, text);
        if (before !== "") assert.match(answers[0], /^HTTP\/1\.1 200 /);
        const last = answers[answers.length - 1];
        assert.match(last, /^HTTP\/1\.1 408 /, what);
        assert.match(last, /\r\nconnection: close\r\n/i, what);
        assert.match(last, /request head not complete within 300 ms/, what);
      }
      await assertServesFresh(server.port, "a half-sent head");
    } finally {
      await server.shutdown(1000);
    }
  },
  OUR_FLAGS,
);

/** Every feature, whatever the database. */
const WHOLE_WORLD = {
  lo: { latitude: -900000000, longitude: -1800000000 },
  hi: { latitude: 900000000, longitude: 1800000000 },
};

/**
 * A ListFeatures over the whole world on a raw HTTP/1.1 connection in
 * Connect+proto, read up to its first feature and then no further: the
 * server, held back by TCP, keeps the listing running.
 */
async function pausedListing(port: number): Promise<RawHttp1> {
  const connection = await RawHttp1.connect("127.0.0.1", port);
  const body = envelope(
    0,
    rectangleProto(pointProto(-900000000, -1800000000), pointProto(900000000, 1800000000)),
  );
  await connection.write(
    `POST ${SERVICE}/ListFeatures HTTP/1.1\r\nhost: t\r\ncontent-type: application/connect+proto\r\n` +
      `content-length: ${body.length}\r\n\r\n`,
  );
  await connection.write(body);
  const head = await connection.readHead();
  assert.equal(head.status, 200);
  const first = await new EnvelopeReader(() => connection.readBody()).read();
  assert.equal(first?.flag, 0, "a first feature");
  return connection;
}

webTest(
  "14. --max-concurrent-lists 2: with two listings held open over HTTP/1.1, a 3rd gets resource_exhausted in Connect streaming and gRPC-Web, over HTTP/1.1 and h2c",
  async () => {
    const paused = [await pausedListing(limited.port), await pausedListing(limited.port)];
    try {
      await onEachTransport(limited.port, "listings refused", async (connection, transport) => {
        for (const speaker of [connectStream(false), connectStream(true), grpcWeb(false)]) {
          const answer = await connection.send(call(speaker, "ListFeatures", [
            speaker.json ? WHOLE_WORLD : rectangleProto(
              pointProto(WHOLE_WORLD.lo.latitude, WHOLE_WORLD.lo.longitude),
              pointProto(WHOLE_WORLD.hi.latitude, WHOLE_WORLD.hi.longitude),
            ),
          ]));
          assertError(speaker, answer, {
            code: Code.RESOURCE_EXHAUSTED,
            message: /^too many ListFeatures calls at once \(limit 2\); retry later$/,
            what: `${transport.name} a 3rd ListFeatures`,
          });
        }
      });
    } finally {
      for (const connection of paused) connection.close();
    }
    // Once the server has seen those clients go, listing works again.
    const speaker = connectStream(false);
    const nearEmpireState = rectangleProto(
      pointProto(407000000, -740000000),
      pointProto(408000000, -739000000),
    );
    let names: string[] = [];
    await waitFor(
      async () => {
        const answer = await h1request(
          limited.port,
          call(speaker, "ListFeatures", [nearEmpireState]),
        );
        const reading = speaker.read(answer);
        names = reading.messages.map(featureName);
        return reading.status === Code.OK;
      },
      "a listing after the paused ones went",
      STEP_MS,
    );
    assert.ok(names.includes(EMPIRE_STATE_NAME), `${names.length} features`);
  },
  OUR_FLAGS,
);

/** Where the RouteChats of cases 8a and 9 leave their notes. */
const CHAT_PLACE = { latitude: 234_567_891, longitude: 98_765_432 };

/** A note at {@linkcode CHAT_PLACE}, enveloped for gRPC-Web or Connect+proto. */
const chatNote = (message: string) =>
  envelope(0, noteProto(CHAT_PLACE.latitude, CHAT_PLACE.longitude, message));

/**
 * Opens a call on a raw HTTP/1.1 connection with a chunked body left open
 * after its first message, as a client that streams its request does.
 */
async function openHttp1Call(
  port: number,
  method: string,
  type: string,
  first: Uint8Array,
): Promise<RawHttp1> {
  const connection = await RawHttp1.connect("127.0.0.1", port);
  await connection.write(
    `POST ${SERVICE}/${method} HTTP/1.1\r\nhost: t\r\ncontent-type: ${type}\r\n` +
      `transfer-encoding: chunked\r\n\r\n`,
  );
  await connection.writeChunk(first);
  return connection;
}

/** Opens a call on an h2c session with its request left open after `first`; resolves at its first answer bytes when `awaitReply`. */
async function openH2cCall(
  session: http2.ClientHttp2Session,
  method: string,
  type: string,
  first: Uint8Array,
  awaitReply: boolean,
): Promise<void> {
  const stream = session.request({
    ":method": "POST",
    ":path": `${SERVICE}/${method}`,
    "content-type": type,
  });
  stream.on("error", () => {});
  const replied = new Promise<void>((resolve) => stream.once("data", () => resolve()));
  stream.write(first);
  if (awaitReply) await within(replied, STEP_MS, `a reply on ${method}`);
}

/** Leaves the seed note that every RouteChat at {@linkcode CHAT_PLACE} gets back at once. */
async function seedChat(port: number): Promise<void> {
  const seeded = await h1request(port, {
    path: `${SERVICE}/RouteChat`,
    headers: { "content-type": "application/connect+proto" },
    body: chatNote("seed"),
  });
  assert.equal(connectStream(false).read(seeded).status, Code.OK);
}

webTest(
  "9. 20 web clients that vanish mid-stream, over HTTP/1.1 and h2c, leave nothing in flight; the server then shuts down at once",
  async () => {
    const server = await serveProjectDb();
    const http1: RawHttp1[] = [];
    const sessions: http2.ClientHttp2Session[] = [];
    try {
      await seedChat(server.port);
      // Each client opens a RecordRoute and a RouteChat and waits for the
      // chat's reply (the seed note): both calls are running on the server.
      for (let i = 0; i < 10; i++) {
        const [chatType, routeType] = i % 2 === 0
          ? ["application/connect+proto", "application/grpc-web"]
          : ["application/grpc-web", "application/connect+proto"];
        const route = envelope(0, pointProto(i, 1));
        http1.push(await openHttp1Call(server.port, "RecordRoute", routeType, route));
        const chat = await openHttp1Call(server.port, "RouteChat", chatType, chatNote(`h1 ${i}`));
        http1.push(chat);
        assert.equal((await chat.readHead()).status, 200);
        assert.ok(await new EnvelopeReader(() => chat.readBody()).read(), "the seed note back");
        const session = http2.connect(`http://127.0.0.1:${server.port}`);
        session.on("error", () => {});
        sessions.push(session);
        await openH2cCall(session, "RecordRoute", routeType, route, false);
        await openH2cCall(session, "RouteChat", chatType, chatNote(`h2 ${i}`), true);
      }
      await waitFor(() => server.inFlight === 40, () => `${server.inFlight} calls in flight`);
      // The clients go, without a word.
      for (const connection of http1) connection.close();
      for (const session of sessions) session.destroy();
      await waitFor(() => server.inFlight === 0, () => `${server.inFlight} calls in flight`);
      await assertServesFresh(server.port, "vanished clients");
    } finally {
      for (const connection of http1) connection.close();
      for (const session of sessions) session.destroy();
      const started = Date.now();
      const result = await server.shutdown(10_000);
      assert.equal(result.cancelled, 0);
      // Prompt, not the grace period: nothing was left to wait for.
      assert.ok(Date.now() - started < 10_000, `shutdown took ${Date.now() - started} ms`);
    }
  },
  OUR_FLAGS,
);

webTest(
  "8a. 300 concurrent HTTP/1.1 RouteChats (Connect and gRPC-Web, one connection each) all run at once, and all finish with OK",
  async () => {
    const server = await serveProjectDb();
    const chats: { connection: RawHttp1; speaker: Speaker; reader: EnvelopeReader }[] = [];
    try {
      await seedChat(server.port);
      for (let i = 0; i < 300; i++) {
        const speaker = i % 2 === 0 ? connectStream(false) : grpcWeb(false);
        const connection = await openHttp1Call(
          server.port,
          "RouteChat",
          speaker.contentType,
          chatNote(`chat ${i}`),
        );
        chats.push({
          connection,
          speaker,
          reader: new EnvelopeReader(() => connection.readBody()),
        });
      }
      // Every chat gets the seed note back while all 300 are open.
      for (const { connection, reader } of chats) {
        assert.equal((await within(connection.readHead(), STEP_MS, "an answer")).status, 200);
        assert.equal((await within(reader.read(), STEP_MS, "the seed note"))?.flag, 0);
      }
      assert.equal(server.inFlight, 300);
      for (const { connection } of chats) await connection.writeChunk(new Uint8Array());
      for (const { speaker, reader } of chats) {
        const rest: Uint8Array[] = [];
        for (let e; (e = await within(reader.read(), STEP_MS, "the end")) !== undefined;) {
          rest.push(envelope(e.flag, e.payload));
        }
        // The earlier chats' notes, then the status.
        const reading = speaker.read({
          status: 200,
          headers: {},
          body: Buffer.concat(rest),
          trailers: {},
          text: () => "",
        });
        assert.equal(reading.status, Code.OK, `${speaker.name}: ${reading.message}`);
      }
      await waitFor(() => server.inFlight === 0, () => `${server.inFlight} calls in flight`);
      await assertServesFresh(server.port, "300 chats");
    } finally {
      for (const { connection } of chats) connection.close();
      await server.shutdown(1000);
    }
  },
  OUR_FLAGS,
);
