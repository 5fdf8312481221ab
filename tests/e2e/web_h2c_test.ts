/**
 * The web protocols over h2c, end to end against the real server on a free
 * port: every protocol × codec for each of the four RPC kinds, with the
 * bytes written and read by hand from PROTOCOL-WEB.md, the Connect spec and
 * the gRPC spec.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect } from "node:net";
import { serveTwoFeatures } from "../_server.ts";
import { serve } from "../../lib/server/serve.ts";
import { createFeatureDb } from "../../lib/core/feature_index.ts";
import { createLogger } from "../../lib/server/telemetry.ts";
import { waitFor } from "../_async.ts";
import { envelope, h2c, h2request, noteProto, pointProto } from "../web/_http.ts";
import { checkFourKinds, SPEAKERS } from "../web/_speakers.ts";

Deno.test("web protocols over h2c: every protocol and codec serves all four RPC kinds", async () => {
  const server = await serveTwoFeatures();
  try {
    await using session = h2c(server.port);
    for (const speaker of SPEAKERS) {
      await checkFourKinds(
        speaker,
        SPEAKERS.indexOf(speaker) + 1,
        (method, body) =>
          h2request(session, {
            path: `/routeguide.RouteGuide/${method}`,
            headers: { "content-type": speaker.contentType },
            body,
          }),
      );
    }
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("the call log records each web call's protocol, codec and HTTP version", async () => {
  const lines: Record<string, unknown>[] = [];
  const server = await serve({
    db: createFeatureDb([{ name: "A", location: { latitude: 10, longitude: 10 } }]).db,
    host: "127.0.0.1",
    port: 0,
    logger: createLogger({
      level: "info",
      format: "json",
      write: (line) => lines.push(JSON.parse(line)),
    }),
  });
  try {
    await using session = h2c(server.port);
    await h2request(session, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { "content-type": "application/json", "routeguide-web-protocol": "forged+x HTTP/9" },
      body: '{"latitude":10,"longitude":10}',
    });
    await h2request(session, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { "content-type": "application/grpc-web-text" },
      body: Buffer.from(envelope(0, pointProto(10, 10))).toString("base64"),
    });
    const calls = () => lines.filter((l) => l.msg === "call");
    await waitFor(() => calls().length === 2, () => JSON.stringify(lines));
    assert.deepEqual(
      calls().map((c) => [c.protocol, c.codec, c.http, c.status]),
      [["connect", "json", "2", "OK"], ["grpc-web-text", "proto", "2", "OK"]],
    );
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("a web call's deadline, kept by the transport, ends a held-open call over h2c and HTTP/1.1; the call log says DEADLINE_EXCEEDED", async () => {
  const lines: Record<string, unknown>[] = [];
  const server = await serve({
    db: createFeatureDb([{ name: "A", location: { latitude: 10, longitude: 10 } }]).db,
    host: "127.0.0.1",
    port: 0,
    logger: createLogger({
      level: "info",
      format: "json",
      write: (line) => lines.push(JSON.parse(line)),
    }),
  });
  const socket = connect(server.port, "127.0.0.1");
  socket.on("error", () => {});
  try {
    // RouteChat with its request left open: only the deadline ends it.
    await using session = h2c(server.port);
    const stream = session.request({
      ":method": "POST",
      ":path": "/routeguide.RouteGuide/RouteChat",
      "content-type": "application/grpc-web+proto",
      "grpc-timeout": "200m",
    });
    stream.on("error", () => {});
    stream.write(envelope(0, noteProto(3, 3, "waiting")));
    const h1 = envelope(0, noteProto(4, 4, "waiting too"));
    socket.write(
      "POST /routeguide.RouteGuide/RouteChat HTTP/1.1\r\nHost: t\r\n" +
        "Content-Type: application/connect+proto\r\nConnect-Timeout-Ms: 200\r\n" +
        `Transfer-Encoding: chunked\r\n\r\n${h1.length.toString(16)}\r\n`,
    );
    socket.write(h1);
    socket.write("\r\n");
    const calls = () => lines.filter((l) => l.msg === "call");
    await waitFor(() => calls().length === 2, () => JSON.stringify(lines), 5000);
    assert.deepEqual(
      calls().map((c) => [c.protocol, c.http, c.status]).sort(),
      [["connect-stream", "1.1", "DEADLINE_EXCEEDED"], ["grpc-web", "2", "DEADLINE_EXCEEDED"]],
    );
    stream.close();
  } finally {
    socket.destroy();
    await server.shutdown(1000);
  }
});
