/**
 * Interop with a generic HTTP/2 client: `curl --http2-prior-knowledge` sends
 * gRPC requests made by hand here (the 5-byte length prefix and the protobuf
 * bytes, no gRPC library) and the answers are read at the HTTP level, as the
 * gRPC over HTTP/2 protocol describes them
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
 * status 200, `content-type: application/grpc...`, the response message,
 * then `grpc-status` in the trailers.
 *
 * Needs curl with HTTP/2 (Debian's has it). Without it the tests are
 * skipped, except under `CI=true`, where they fail.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { loadRouteGuidePackage, SERVICE_NAME } from "../../lib/grpc/proto.ts";
import {
  concat,
  ErrorCode,
  FrameType,
  grpcMessage,
  parseGoaway,
  pingFrame,
  PREFACE,
  rawConnect,
} from "../_h2.ts";
import { runProcess } from "../_process.ts";
import { waitFor } from "../_async.ts";
import { isCi } from "../_env.ts";
import { ROOT, serveTwoFeatures, startServer } from "../_server.ts";
import { fields, pointBytes } from "../_proto.ts";
import { fieldBlock } from "./_curl_web.ts";

const SERVICE = "routeguide.RouteGuide";
const CURL_TIMEOUT_MS = 30_000;

/** Why curl cannot speak HTTP/2 here, or `undefined` when it can. */
function curlProblem(): string | undefined {
  try {
    const out = new Deno.Command("curl", { args: ["--version"], stdin: "null", stderr: "null" })
      .outputSync();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) return `\`curl --version\` exited with ${out.code}`;
    if (!/^Features:.*\bHTTP2\b/m.test(text)) return "this curl has no HTTP/2 support";
    return undefined;
  } catch (error) {
    return `cannot run curl: ${(error as Error).message}`;
  }
}

const CURL_PROBLEM = curlProblem();
if (CURL_PROBLEM !== undefined && !isCi()) {
  console.log(`skipping the HTTP/2 interop tests: ${CURL_PROBLEM}; apt-get install curl`);
}

/** Registers a test that needs curl: ignored without it, failing in CI. */
function curlTest(name: string, fn: (t: Deno.TestContext) => Promise<void>) {
  if (CURL_PROBLEM === undefined) {
    Deno.test(name, fn);
  } else if (isCi()) {
    Deno.test(name, () => assert.fail(`CI=true but ${CURL_PROBLEM}; apt-get install curl`));
  } else {
    Deno.test({ name, ignore: true, fn() {} });
  }
}

// --- protobuf by hand (proto3 wire format), independent of lib/ ---------------

/** Decodes a `Feature`: name and location. */
function decodeFeature(bytes: Uint8Array) {
  const f = fields(bytes);
  const name = f.get(1);
  const location = fields((f.get(2) as Uint8Array | undefined) ?? new Uint8Array());
  return {
    name: name === undefined ? "" : new TextDecoder().decode(name as Uint8Array),
    latitude: (location.get(1) as number | undefined) ?? 0,
    longitude: (location.get(2) as number | undefined) ?? 0,
  };
}

/** One gRPC length-prefixed message: flag 0, 4-byte big-endian length, the bytes. */
function lengthPrefixed(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

// --- curl ---------------------------------------------------------------------

/** What curl got back. */
interface CurlReply {
  /** curl's exit code. */
  code: number;
  /** The HTTP status, or 0 when none came. */
  status: number;
  /** The response header fields (names lower-cased). */
  headers: Map<string, string>;
  /** The trailer fields, empty when none came. */
  trailers: Map<string, string>;
  /** The response body. */
  body: Uint8Array;
  /** curl's stderr, and the raw header dump, for messages. */
  log: string;
}

/**
 * POSTs `body` to `path` with curl. `-D` dumps the response header block,
 * then, after an empty line, the trailers.
 */
async function curl(
  port: number,
  path: string,
  options: { body: Uint8Array; headers: string[]; http1?: boolean },
): Promise<CurlReply> {
  const dir = await Deno.makeTempDir({ prefix: "routeguide-curl-" });
  try {
    await Deno.writeFile(`${dir}/request`, options.body);
    const args = [
      "--silent",
      "--show-error",
      "--noproxy",
      "*",
      "--max-time",
      "20",
      options.http1 ? "--http1.1" : "--http2-prior-knowledge",
      "--dump-header",
      `${dir}/headers`,
      "--output",
      `${dir}/response`,
      "--data-binary",
      `@${dir}/request`,
      ...options.headers.flatMap((h) => ["--header", h]),
      `http://127.0.0.1:${port}${path}`,
    ];
    const run = await runProcess("curl", args, { timeoutMs: CURL_TIMEOUT_MS });
    assert.ok(!run.timedOut, `curl ${args.join(" ")} was killed after ${CURL_TIMEOUT_MS} ms`);
    const dump = await Deno.readTextFile(`${dir}/headers`).catch(() => "");
    const body = await Deno.readFile(`${dir}/response`).catch(() => new Uint8Array());
    const [head = "", tail = ""] = dump.replaceAll("\r\n", "\n").split(/\n\n/);
    const [statusLine = "", ...headerLines] = head.split("\n");
    return {
      code: run.code,
      status: Number(statusLine.match(/^HTTP\/\S+ (\d{3})/)?.[1] ?? 0),
      headers: fieldBlock(headerLines),
      trailers: fieldBlock(tail.split("\n")),
      body,
      log: `curl ${args.join(" ")}\nexit ${run.code}, stderr: ${run.stderr}\n${dump}`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const GRPC_HEADERS = ["content-type: application/grpc", "te: trailers"];

/** The first named feature of the database, read from the file itself. */
const FIRST = (() => {
  const db = JSON.parse(Deno.readTextFileSync(`${ROOT}data/route_guide_db.json`));
  const f = db.find((f: { name?: string }) => f.name);
  return { name: f.name, latitude: f.location.latitude, longitude: f.location.longitude };
})();

/** Asserts a GetFeature call made with curl answers the first named feature. */
async function assertGetFeatureWorks(port: number): Promise<void> {
  const reply = await curl(port, `/${SERVICE}/GetFeature`, {
    body: lengthPrefixed(pointBytes(FIRST.latitude, FIRST.longitude)),
    headers: GRPC_HEADERS,
  });
  assert.equal(reply.code, 0, reply.log);
  assert.equal(reply.status, 200, reply.log);
  assert.match(reply.headers.get("content-type") ?? "", /^application\/grpc/, reply.log);
  assert.equal(reply.trailers.get("grpc-status"), "0", reply.log);
  // One length-prefixed message, uncompressed, holding the whole body.
  assert.ok(reply.body.length >= 5, reply.log);
  const view = new DataView(reply.body.buffer, reply.body.byteOffset);
  assert.equal(reply.body[0], 0, "compressed flag");
  assert.equal(view.getUint32(1), reply.body.length - 5, "message length");
  assert.deepEqual(decodeFeature(reply.body.subarray(5)), FIRST);
}

curlTest(
  "HTTP/2 interop: curl GetFeature with a hand-made gRPC frame gets 200, the Feature and grpc-status 0 in trailers",
  async () => {
    await using server = await startServer();
    await assertGetFeatureWorks(server.port);
  },
);

curlTest(
  "HTTP/2 interop: curl on an unknown method gets HTTP 200 with grpc-status 12 (UNIMPLEMENTED)",
  async () => {
    await using server = await startServer();
    for (const path of [`/${SERVICE}/NoSuchMethod`, "/no.such.Service/GetFeature"]) {
      const reply = await curl(server.port, path, {
        body: lengthPrefixed(pointBytes(1, 2)),
        headers: GRPC_HEADERS,
      });
      assert.equal(reply.code, 0, reply.log);
      assert.equal(reply.status, 200, reply.log);
      // Trailers-Only: the status may come in the one header block.
      const status = reply.trailers.get("grpc-status") ?? reply.headers.get("grpc-status");
      assert.equal(status, "12", reply.log);
      assert.equal(reply.body.length, 0, reply.log);
    }
  },
);

// The protocol says servers SHOULD answer a non-gRPC content-type with 415 (Unsupported Media Type), so that a plain HTTP
// client does not read a gRPC error as success; our transport does for every type that no protocol on the port takes
// (application/json is the Connect protocol's, so it no longer is one).
curlTest(
  "HTTP/2 interop: a content-type that no protocol on the port takes gets HTTP 415",
  async () => {
    await using server = await startServer();
    for (const type of ["text/plain", "application/xml"]) {
      const reply = await curl(server.port, `/${SERVICE}/GetFeature`, {
        body: lengthPrefixed(pointBytes(FIRST.latitude, FIRST.longitude)),
        headers: [`content-type: ${type}`, "te: trailers"],
      });
      assert.equal(reply.status, 415, reply.log);
    }
    await assertGetFeatureWorks(server.port);
  },
);

curlTest(
  "HTTP/2 interop: gRPC over HTTP/1.1 gets 505 (gRPC needs HTTP/2), while the port answers HTTP/1.1 for the web protocols",
  async () => {
    await using server = await startServer();
    const reply = await curl(server.port, `/${SERVICE}/GetFeature`, {
      body: lengthPrefixed(pointBytes(FIRST.latitude, FIRST.longitude)),
      headers: GRPC_HEADERS,
      http1: true,
    });
    assert.equal(reply.status, 505, reply.log);

    // The same by hand: an HTTP/1.1 answer on a connection that stays usable.
    await using raw = await rawConnect(server.port);
    await raw.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await waitFor(
      () => new TextDecoder().decode(raw.received()).includes("SERVING"),
      "the /healthz answer",
    );
    const text = new TextDecoder().decode(raw.received());
    assert.ok(text.startsWith("HTTP/1.1 200"), `not an HTTP/1.1 answer: ${text.slice(0, 80)}`);

    await assertGetFeatureWorks(server.port);
  },
);

// RFC 9113 §3.5: the preface must be followed by a SETTINGS frame, or it is
// a connection error of type PROTOCOL_ERROR; our transport says so.
curlTest(
  "HTTP/2 interop: a preface followed by anything but SETTINGS gets a GOAWAY with PROTOCOL_ERROR (RFC 9113 §3.5)",
  async () => {
    await using server = await startServer();
    await using raw = await rawConnect(server.port);
    await raw.write(concat([PREFACE, pingFrame(1)]));
    assert.ok(await raw.waitClosed(10_000), "the server kept the connection open");
    const goaways = raw.parser.frames.filter((f) => f.type === FrameType.GOAWAY);
    assert.ok(goaways.length > 0, "no GOAWAY");
    assert.deepEqual(
      goaways.map((f) => parseGoaway(f).errorCode),
      goaways.map(() => ErrorCode.PROTOCOL_ERROR),
    );
  },
);

// --- all four RPC kinds, messages made by the project's protobuf code ----------

interface MethodCodec {
  requestSerialize(message: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

const methods = loadRouteGuidePackage()[SERVICE_NAME] as unknown as Record<string, MethodCodec>;

/**
 * Calls `method` with curl, the messages encoded by the project's own
 * protobuf code; resolves with the response messages and the grpc-status.
 */
async function curlCall(
  port: number,
  method: string,
  requests: unknown[],
): Promise<{ messages: unknown[]; status: string | undefined; log: string }> {
  const codec = methods[method];
  const reply = await curl(port, `/${SERVICE_NAME}/${method}`, {
    body: Buffer.concat(requests.map((r) => grpcMessage(codec.requestSerialize(r)))),
    headers: GRPC_HEADERS,
  });
  const bytes = reply.body;
  const messages = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    messages.push(codec.responseDeserialize(Buffer.from(bytes.subarray(at + 5, at + 5 + length))));
    at += 5 + length;
  }
  return { messages, status: reply.trailers.get("grpc-status"), log: reply.log };
}

curlTest(
  "HTTP/2 interop: curl (nghttp2) makes all four RPC kinds against our HTTP/2 transport",
  async (t) => {
    const server = await serveTwoFeatures();
    try {
      await t.step("unary GetFeature", async () => {
        const { messages, status, log } = await curlCall(server.port, "GetFeature", [
          { latitude: 10, longitude: 10 },
        ]);
        assert.equal(status, "0", log);
        assert.deepEqual(messages.map((m) => (m as { name: string }).name), ["A"]);
      });
      await t.step("server streaming ListFeatures", async () => {
        const { messages, status, log } = await curlCall(server.port, "ListFeatures", [
          { lo: { latitude: 0, longitude: 0 }, hi: { latitude: 30, longitude: 30 } },
        ]);
        assert.equal(status, "0", log);
        assert.deepEqual(messages.map((m) => (m as { name: string }).name).sort(), ["A", "B"]);
      });
      await t.step("client streaming RecordRoute", async () => {
        const { messages, status, log } = await curlCall(server.port, "RecordRoute", [
          { latitude: 10, longitude: 10 },
          { latitude: 20, longitude: 20 },
          { latitude: 10, longitude: 10 },
        ]);
        assert.equal(status, "0", log);
        assert.equal(messages.length, 1);
        const summary = messages[0] as { point_count: number; feature_count: number };
        assert.equal(summary.point_count, 3);
        assert.equal(summary.feature_count, 3);
      });
      await t.step("bidirectional RouteChat", async () => {
        const here = { latitude: 7, longitude: 7 };
        const { messages, status, log } = await curlCall(server.port, "RouteChat", [
          { location: here, message: "first" },
          { location: here, message: "second" },
        ]);
        assert.equal(status, "0", log);
        assert.deepEqual(messages.map((m) => (m as { message: string }).message), ["first"]);
      });
    } finally {
      await server.shutdown(1000);
    }
  },
);
