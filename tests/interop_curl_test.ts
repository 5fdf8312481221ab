/**
 * Interop: a generic HTTP/2 client (curl with nghttp2, prior knowledge,
 * no TLS) makes each of the four RPC kinds against our HTTP/2 transport,
 * the request body being the gRPC messages back to back. Skipped when curl
 * cannot speak HTTP/2, except under `CI=true`, where it fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { loadRouteGuidePackage, SERVICE_NAME } from "../lib/proto.ts";
import { isCi } from "./_python.ts";
import { serveTwoFeatures } from "./_server.ts";
import { grpcMessage } from "./_h2.ts";

/** Whether curl is there and speaks HTTP/2. */
function curlHasHttp2(): boolean {
  try {
    const { stdout } = new Deno.Command("curl", { args: ["--version"] }).outputSync();
    return /Features:.*\bHTTP2\b/.test(new TextDecoder().decode(stdout));
  } catch {
    return false;
  }
}

interface MethodCodec {
  requestSerialize(message: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

const methods = loadRouteGuidePackage()[SERVICE_NAME] as unknown as Record<string, MethodCodec>;

/** Calls `method` with curl; resolves with the response messages and the grpc-status. */
async function curlCall(
  port: number,
  method: string,
  requests: unknown[],
): Promise<{ messages: unknown[]; status: string | undefined; log: string }> {
  const codec = methods[method];
  const body = Buffer.concat(requests.map((r) => grpcMessage(codec.requestSerialize(r))));
  const dir = await Deno.makeTempDir({ prefix: "curl_interop_" });
  try {
    await Deno.writeFile(`${dir}/request`, body);
    const { stderr } = await new Deno.Command("curl", {
      args: [
        "-sS",
        "-v",
        "--http2-prior-knowledge",
        "--max-time",
        "20",
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        "--data-binary",
        `@${dir}/request`,
        "--output",
        `${dir}/response`,
        `http://127.0.0.1:${port}/${SERVICE_NAME}/${method}`,
      ],
    }).output();
    const log = new TextDecoder().decode(stderr);
    const bytes = await Deno.readFile(`${dir}/response`).catch(() => new Uint8Array());
    const messages = [];
    for (let at = 0; at + 5 <= bytes.length;) {
      const length = new DataView(bytes.buffer, at + 1, 4).getUint32(0);
      messages.push(
        codec.responseDeserialize(Buffer.from(bytes.subarray(at + 5, at + 5 + length))),
      );
      at += 5 + length;
    }
    return { messages, status: log.match(/^< grpc-status: (\d+)/m)?.[1], log };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const TEST_NAME = "interop: curl (nghttp2) makes all four RPC kinds against our HTTP/2 transport";

if (!curlHasHttp2()) {
  if (isCi()) {
    Deno.test(TEST_NAME, () => assert.fail("CI=true but curl with HTTP/2 is missing"));
  } else {
    console.log("skipping the curl interop test: install curl (with HTTP/2) to enable it");
    Deno.test({ name: TEST_NAME, ignore: true, fn() {} });
  }
} else {
  Deno.test(TEST_NAME, async (t) => {
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
  });
}
