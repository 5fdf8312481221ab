/**
 * Interop: connect-es's own clients (`@connectrpc/connect` with
 * `@connectrpc/connect-node`, the Connect authors' implementation) call the
 * server in every protocol they speak: Connect, gRPC-Web and gRPC, each with
 * the binary (proto) and JSON codecs, over h2c for all four RPC kinds and,
 * for Connect and gRPC-Web, over HTTP/1.1 for unary and server streaming.
 * The schema is the committed descriptor set `protos/route_guide.binpb`;
 * the expected answers come from `data/route_guide_db.json` and the
 * service's semantics (see `_routeguide_expect.ts`). Then the errors:
 * `invalid_argument`, `unimplemented` and `deadline_exceeded` in each.
 *
 * Against our server by default; set `ROUTEGUIDE_WEB_REFERENCE` to run them
 * against a reference (see `tests/_web.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Agent } from "node:http";
import {
  type CallOptions,
  Code,
  ConnectError,
  createClient,
  type Transport,
} from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { create, createFileRegistry, type DescService, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, MethodDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ROOT } from "../_server.ts";
import { DB_PATH, startSharedWebTarget, type WebTarget, webTest } from "../_web.ts";
import {
  chatNotes,
  expectedEchoes,
  expectedFeature,
  expectedList,
  expectedSummary,
  type Feature,
  LIST_RECT,
  type Note,
  type Point,
  readFeatures,
  routePoints,
} from "./_routeguide_expect.ts";

const FEATURES = readFeatures(DB_PATH);

/** One server for every case here but those that need their own (see `tests/_web.ts`). */
const TARGET = await startSharedWebTarget();
/** Every call and every test is bounded. */
const CALL_TIMEOUT_MS = 10_000;

/** The committed descriptor set, with an extra method `Teleport` the server does not have. */
function loadSchema(): { service: DescService; withUnknown: DescService } {
  const bytes = Deno.readFileSync(`${ROOT}protos/route_guide.binpb`);
  const service = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes))
    .getService("routeguide.RouteGuide");
  assert.ok(service, "protos/route_guide.binpb has routeguide.RouteGuide");
  const set = fromBinary(FileDescriptorSetSchema, bytes);
  const file = set.file.find((f) => f.service.some((s) => s.name === "RouteGuide"))!;
  const routeGuide = file.service.find((s) => s.name === "RouteGuide")!;
  const getFeature = routeGuide.method.find((m) => m.name === "GetFeature")!;
  routeGuide.method.push(
    create(MethodDescriptorProtoSchema, {
      name: "Teleport",
      inputType: getFeature.inputType,
      outputType: getFeature.outputType,
    }),
  );
  const withUnknown = createFileRegistry(set).getService("routeguide.RouteGuide")!;
  return { service, withUnknown };
}

const { service: SERVICE, withUnknown: WITH_UNKNOWN } = loadSchema();

type Protocol = "Connect" | "gRPC-Web" | "gRPC";
type Codec = "proto" | "JSON";
type HttpVersion = "h2c" | "HTTP/1.1";

/** One client setup: a protocol, a codec and a transport. */
interface Setup {
  protocol: Protocol;
  codec: Codec;
  http: HttpVersion;
}

/** A transport for `setup`, and how to close its connections. */
function openTransport(target: WebTarget, setup: Setup): Transport & AsyncDisposable {
  const h2 = setup.http === "h2c";
  const sessions = h2 ? new Http2SessionManager(target.baseUrl) : undefined;
  // Keep-alive, as browsers do: with "Connection: close" a server that
  // answers before reading the body (404, say) may close while the body is
  // still being written (EPIPE). The agent closes its sockets when disposed.
  const agent = h2 ? undefined : new Agent({ keepAlive: true });
  const useBinaryFormat = setup.codec === "proto";
  const baseUrl = target.baseUrl;
  let transport: Transport;
  if (setup.protocol === "gRPC") {
    transport = createGrpcTransport({ baseUrl, useBinaryFormat, sessionManager: sessions });
  } else {
    const create = setup.protocol === "Connect" ? createConnectTransport : createGrpcWebTransport;
    transport = sessions !== undefined
      ? create({ baseUrl, useBinaryFormat, httpVersion: "2", sessionManager: sessions })
      : create({ baseUrl, useBinaryFormat, httpVersion: "1.1", nodeOptions: { agent } });
  }
  return Object.assign(transport, {
    [Symbol.asyncDispose]() {
      sessions?.abort();
      agent?.destroy();
      return Promise.resolve();
    },
  });
}

/** The plain fields of a Feature message. */
function plainFeature(f: { name: string; location?: Point }): Feature {
  return {
    name: f.name,
    location: { latitude: f.location?.latitude ?? 0, longitude: f.location?.longitude ?? 0 },
  };
}

/** Sorts features by position, then name, for comparing sets. */
function sorted(features: Feature[]): Feature[] {
  const key = (f: Feature) => `${f.location.latitude},${f.location.longitude},${f.name}`;
  return [...features].sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** Yields `items`, then waits for `hold` before ending (a request stream held open). */
async function* streamOf<T>(items: T[], hold?: Promise<void>): AsyncGenerator<T> {
  for (const item of items) yield item;
  if (hold !== undefined) await hold;
}

/**
 * The client's methods as used here: the schema is loaded at run time, so
 * connect-es cannot type them from generated code.
 */
interface RouteGuideClient {
  getFeature(point: Point, options?: CallOptions): Promise<{ name: string; location?: Point }>;
  listFeatures(
    rect: { lo: Point; hi: Point },
    options?: CallOptions,
  ): AsyncIterable<{ name: string; location?: Point }>;
  recordRoute(points: AsyncIterable<Point>, options?: CallOptions): Promise<{
    pointCount: number;
    featureCount: number;
    distance: number;
    elapsedTime: number;
  }>;
  routeChat(notes: AsyncIterable<Note>, options?: CallOptions): AsyncIterable<Note>;
  /** Only in the schema with the unknown method. */
  teleport(point: Point, options?: CallOptions): Promise<unknown>;
}

const name = (s: Setup, kind: string) =>
  `connect-es × ${s.protocol} × ${s.codec} × ${s.http} × ${kind}`;

/** Runs `fn` with a client for `setup` against a fresh target. */
async function withClient(
  setup: Setup,
  fn: (client: RouteGuideClient, target: WebTarget) => Promise<void>,
  service: DescService = SERVICE,
): Promise<void> {
  const target = TARGET;
  await using transport = openTransport(target, setup);
  const client = createClient(service, transport) as unknown as RouteGuideClient;
  try {
    await fn(client, target);
  } catch (error) {
    const stderr = target.stderr();
    if (stderr !== "") console.error(`--- server stderr ---\n${stderr}`);
    throw error;
  }
}

/** The unary case: a named feature, then a point with none. */
function unaryCase(setup: Setup): void {
  webTest(name(setup, "unary GetFeature"), () =>
    withClient(setup, async (client) => {
      const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
      const named = FEATURES[0].location;
      const empty = { latitude: 405000001, longitude: -740000001 };
      assert.deepEqual(
        plainFeature(await client.getFeature(named, { signal })),
        expectedFeature(FEATURES, named),
      );
      assert.deepEqual(
        plainFeature(await client.getFeature(empty, { signal })),
        { name: "", location: empty },
      );
    }));
}

/** The server-streaming case: a rectangle given high corner first. */
function serverStreamingCase(setup: Setup): void {
  webTest(name(setup, "server streaming ListFeatures"), () =>
    withClient(setup, async (client) => {
      const got: Feature[] = [];
      const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
      for await (const f of client.listFeatures(LIST_RECT, { signal })) got.push(plainFeature(f));
      const want = expectedList(FEATURES, LIST_RECT.lo, LIST_RECT.hi);
      assert.equal(got.length, want.length);
      assert.deepEqual(sorted(got), sorted(want));
    }));
}

/** The client-streaming case: a route's summary. */
function clientStreamingCase(setup: Setup): void {
  webTest(name(setup, "client streaming RecordRoute"), () =>
    withClient(setup, async (client) => {
      const points = routePoints(FEATURES);
      const started = performance.now();
      const summary = await client.recordRoute(streamOf(points), {
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      const wallSeconds = (performance.now() - started) / 1000;
      const { pointCount, featureCount, distance, elapsedTime } = summary;
      assert.deepEqual({ pointCount, featureCount, distance }, expectedSummary(FEATURES, points));
      assert.ok(
        elapsedTime >= 0 && elapsedTime <= Math.ceil(wallSeconds),
        `elapsed_time ${elapsedTime} s for a call of ${wallSeconds.toFixed(3)} s`,
      );
    }));
}

/** The bidirectional case: each note brings back the earlier ones at its location. */
function bidiCase(setup: Setup): void {
  webTest(name(setup, "bidi streaming RouteChat"), () =>
    withClient(setup, async (client) => {
      const notes = chatNotes(`connect-es ${setup.protocol} ${setup.codec}`);
      const got: Note[] = [];
      const signal = AbortSignal.timeout(CALL_TIMEOUT_MS);
      for await (const n of client.routeChat(streamOf(notes), { signal })) {
        got.push({
          location: plainFeature({ name: "", location: n.location }).location,
          message: n.message,
        });
      }
      assert.deepEqual(got, expectedEchoes(notes));
    }));
}

/** Asserts `call` fails with `code`. */
async function expectCode(call: () => Promise<unknown>, code: Code): Promise<ConnectError> {
  try {
    await call();
  } catch (error) {
    const e = ConnectError.from(error);
    assert.equal(Code[e.code], Code[code], `${e.message}`);
    return e;
  }
  assert.fail(`expected ${Code[code]}, but the call succeeded`);
}

/** Out-of-range coordinates are invalid_argument, with a message saying so. */
function invalidArgumentCase(setup: Setup): void {
  webTest(
    name(setup, "error invalid_argument (|latitude| > 900000000)"),
    () =>
      withClient(setup, async (client) => {
        const e = await expectCode(
          () =>
            client.getFeature({ latitude: 900000001, longitude: 0 }, {
              signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
            }),
          Code.InvalidArgument,
        );
        assert.match(e.rawMessage, /900000001|latitude/, "the message names the bad value");
      }),
  );
}

/** A method the server does not have is unimplemented. */
function unimplementedCase(setup: Setup): void {
  webTest(name(setup, "error unimplemented (unknown method)"), () =>
    withClient(
      setup,
      async (client) => {
        await expectCode(
          () =>
            client.teleport({ latitude: 1, longitude: 1 }, {
              signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
            }),
          Code.Unimplemented,
        );
      },
      WITH_UNKNOWN,
    ));
}

/** A RecordRoute held open past its deadline is deadline_exceeded. */
function deadlineCase(setup: Setup): void {
  webTest(
    name(setup, "error deadline_exceeded (RecordRoute held open, timeoutMs 300)"),
    () =>
      withClient(setup, async (client) => {
        let release!: () => void;
        const hold = new Promise<void>((resolve) => release = resolve);
        try {
          await expectCode(
            () =>
              client.recordRoute(streamOf([FEATURES[0].location], hold), {
                timeoutMs: 300,
                signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
              }),
            Code.DeadlineExceeded,
          );
        } finally {
          release();
        }
      }),
  );
}

const PROTOCOLS: Protocol[] = ["Connect", "gRPC-Web", "gRPC"];
const CODECS: Codec[] = ["proto", "JSON"];

for (const protocol of PROTOCOLS) {
  for (const codec of CODECS) {
    const h2: Setup = { protocol, codec, http: "h2c" };
    unaryCase(h2);
    serverStreamingCase(h2);
    clientStreamingCase(h2);
    bidiCase(h2);
    if (protocol === "gRPC") continue;
    // gRPC needs HTTP/2 trailers: it has no HTTP/1.1 case.
    const h1: Setup = { protocol, codec, http: "HTTP/1.1" };
    unaryCase(h1);
    serverStreamingCase(h1);
  }
}

// The errors, in every protocol, on both transports where the protocol runs there.
for (const protocol of PROTOCOLS) {
  for (const http of ["h2c", "HTTP/1.1"] as HttpVersion[]) {
    if (protocol === "gRPC" && http === "HTTP/1.1") continue;
    const setup: Setup = { protocol, codec: "proto", http };
    invalidArgumentCase(setup);
    unimplementedCase(setup);
    deadlineCase(setup);
  }
}
