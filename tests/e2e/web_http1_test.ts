/**
 * The web protocols over HTTP/1.1, end to end against the real server on a
 * free port: every protocol and codec that HTTP/1.1 can carry, for the four
 * RPC kinds (each request body sent whole, as browsers must), Connect GET,
 * /healthz, gRPC's 505, cancellation by a client that goes away, CORS, and
 * TLS with ALPN choosing HTTP/1.1 or h2.
 */

import assert from "node:assert/strict";
import { connect } from "node:net";
import { Buffer } from "node:buffer";
import { serveTwoFeatures, startServer } from "../_server.ts";
import { waitFor, within } from "../_async.ts";
import {
  envelope,
  envelopes,
  h1request,
  noteProto,
  parseTrailerBlock,
  pointProto,
} from "../web/_http.ts";
import { makeTestCerts, tlsTest } from "../_certs.ts";
import { serve } from "../../lib/server/serve.ts";
import { createFeatureDb } from "../../lib/core/feature_index.ts";
import { checkFourKinds, grpcJson, SPEAKERS } from "../web/_speakers.ts";

Deno.test("web protocols over HTTP/1.1: gRPC-Web (binary, JSON, text) and Connect streaming serve all four RPC kinds", async () => {
  const server = await serveTwoFeatures();
  try {
    for (const speaker of SPEAKERS.filter((s) => s !== grpcJson)) {
      await checkFourKinds(
        speaker,
        100 + SPEAKERS.indexOf(speaker),
        (method, body) =>
          h1request(server.port, {
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

Deno.test("over HTTP/1.1: Connect unary (proto and JSON) and GET; gRPC+JSON gets 505, needing HTTP/2's trailers", async () => {
  const server = await serveTwoFeatures();
  try {
    const json = await h1request(server.port, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { "content-type": "application/json" },
      body: '{"latitude":10,"longitude":10}',
    });
    assert.equal(json.status, 200);
    assert.equal(JSON.parse(json.text()).name, "A");
    const proto = await h1request(server.port, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { "content-type": "application/proto" },
      body: pointProto(20, 20),
    });
    assert.equal(proto.status, 200);
    assert.equal(proto.headers["content-type"], "application/proto");
    const get = await h1request(server.port, {
      method: "GET",
      path: `/routeguide.RouteGuide/GetFeature?encoding=json&message=${
        encodeURIComponent('{"latitude":20,"longitude":20}')
      }`,
    });
    assert.equal(get.status, 200);
    assert.equal(JSON.parse(get.text()).name, "B");
    assert.ok(get.headers["cache-control"]);
    const grpc = await h1request(server.port, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { "content-type": "application/grpc+json" },
      body: envelope(0, "{}"),
    });
    assert.equal(grpc.status, 505);
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("over HTTP/1.1: GET and HEAD /healthz answer 200 while serving", async () => {
  const server = await serveTwoFeatures();
  try {
    const get = await h1request(server.port, { method: "GET", path: "/healthz" });
    assert.equal(get.status, 200);
    const head = await h1request(server.port, { method: "HEAD", path: "/healthz" });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("over HTTP/1.1: a client that goes away mid-call cancels it (in flight back to 0)", async () => {
  const server = await serveTwoFeatures();
  try {
    for (const type of ["application/grpc-web", "application/connect+proto"]) {
      // A chunked request body left open: the call runs until the client leaves.
      const socket = connect(server.port, "127.0.0.1");
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("connect", resolve));
      const note = envelope(0, noteProto(7, 7, "hello"));
      socket.write(
        `POST /routeguide.RouteGuide/RouteChat HTTP/1.1\r\nhost: t\r\ncontent-type: ${type}\r\n` +
          `transfer-encoding: chunked\r\n\r\n${note.length.toString(16)}\r\n`,
      );
      socket.write(Buffer.concat([note, Buffer.from("\r\n")]));
      await waitFor(() => server.inFlight === 1, () => `${type}: in flight ${server.inFlight}`);
      socket.destroy();
      await waitFor(() => server.inFlight === 0, () => `${type}: in flight ${server.inFlight}`);
    }
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("CORS over HTTP/1.1: --cors-origins lets a listed origin call, never echoes another; none by default", async () => {
  const preflight = (port: number, origin: string) =>
    h1request(port, {
      method: "OPTIONS",
      path: "/routeguide.RouteGuide/GetFeature",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version",
      },
    });
  const call = (port: number, origin: string) =>
    h1request(port, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { origin, "content-type": "application/json" },
      body: "{}",
    });
  {
    await using server = await startServer({ args: ["--cors-origins", "https://app.example"] });
    const allowed = await preflight(server.port, "https://app.example");
    assert.equal(allowed.headers["access-control-allow-origin"], "https://app.example");
    assert.match(String(allowed.headers["access-control-allow-methods"]), /POST/);
    const answer = await call(server.port, "https://app.example");
    assert.equal(answer.headers["access-control-allow-origin"], "https://app.example");
    assert.match(String(answer.headers["vary"]), /origin/i);
    for (const other of ["https://evil.example", "null"]) {
      assert.equal(
        (await preflight(server.port, other)).headers["access-control-allow-origin"],
        undefined,
      );
      assert.equal(
        (await call(server.port, other)).headers["access-control-allow-origin"],
        undefined,
      );
    }
  }
  {
    await using server = await startServer();
    const refused = await preflight(server.port, "https://app.example");
    assert.equal(refused.headers["access-control-allow-origin"], undefined);
  }
});

tlsTest(
  "over TLS: ALPN picks HTTP/1.1 or h2 on the one port, and both serve Connect and gRPC-Web",
  async () => {
    await using certs = await makeTestCerts();
    await using server = await startServer({
      args: ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey],
    });
    const caCerts = [await Deno.readTextFile(certs.caCert)];
    for (const [http1, http2] of [[true, false], [false, true]]) {
      using client = Deno.createHttpClient({ caCerts, http1, http2 });
      const json = await fetch(
        `https://localhost:${server.port}/routeguide.RouteGuide/GetFeature`,
        {
          client,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"latitude":407484000,"longitude":-739857000}',
        },
      );
      assert.equal(json.status, 200, `http1 ${http1}`);
      assert.equal((await json.json()).name, "Empire State Building, New York, NY");
      const web = await fetch(`https://localhost:${server.port}/routeguide.RouteGuide/GetFeature`, {
        client,
        method: "POST",
        headers: { "content-type": "application/grpc-web" },
        body: Buffer.from(envelope(0, pointProto(407484000, -739857000))),
      });
      const frames = envelopes(new Uint8Array(await web.arrayBuffer()));
      assert.equal(parseTrailerBlock(frames[frames.length - 1].data)["grpc-status"], "0");
    }
  },
);

Deno.test("--health-port answers GET /healthz too (HTTP/1.1), and nothing else of the web", async () => {
  const server = await serve({
    db: createFeatureDb([]).db,
    host: "127.0.0.1",
    port: 0,
    healthPort: 0,
  });
  try {
    const port = server.healthPort!;
    const health = await h1request(port, { method: "GET", path: "/healthz" });
    assert.equal(health.status, 200);
    const rpc = await h1request(port, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(rpc.status, 404);
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("shutdown over HTTP/1.1: a web call still running at the end of the grace period is cancelled, answered with Connection: close, and its connection closed", async () => {
  const server = await serveTwoFeatures();
  const socket = connect(server.port, "127.0.0.1");
  socket.on("error", () => {});
  let received = "";
  socket.on("data", (chunk: Uint8Array) => received += new TextDecoder().decode(chunk));
  const closed = new Promise((resolve) => socket.once("close", resolve));
  await new Promise((resolve) => socket.once("connect", resolve));
  const note = envelope(0, noteProto(8, 8, "still here"));
  socket.write(
    "POST /routeguide.RouteGuide/RouteChat HTTP/1.1\r\nhost: t\r\ncontent-type: application/connect+proto\r\n" +
      `transfer-encoding: chunked\r\n\r\n${note.length.toString(16)}\r\n`,
  );
  socket.write(Buffer.concat([note, Buffer.from("\r\n")]));
  await waitFor(() => server.inFlight === 1, () => `in flight ${server.inFlight}`);
  const result = await server.shutdown(200);
  assert.equal(result.cancelled, 1);
  await within(closed, 5000, "the connection to close");
  assert.match(received, /^HTTP\/1\.1 200 /);
  assert.match(received, /\r\nconnection: close\r\n/i);
  assert.match(received, /"error":\{"code":"(canceled|unavailable)"/);
});

Deno.test("over HTTP/1.1, RouteChat answers each note as it arrives, while the request body is still open", async () => {
  const server = await serveTwoFeatures();
  const socket = connect(server.port, "127.0.0.1");
  socket.on("error", () => {});
  let received = "";
  socket.on("data", (chunk: Uint8Array) => received += Buffer.from(chunk).toString("latin1"));
  try {
    await new Promise((resolve) => socket.once("connect", resolve));
    const chunk = (bytes: Uint8Array) =>
      Buffer.concat([
        Buffer.from(`${bytes.length.toString(16)}\r\n`),
        bytes,
        Buffer.from("\r\n"),
      ]);
    socket.write(
      "POST /routeguide.RouteGuide/RouteChat HTTP/1.1\r\nhost: t\r\n" +
        "content-type: application/connect+proto\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    socket.write(chunk(envelope(0, noteProto(9, 9, "first note"))));
    socket.write(chunk(envelope(0, noteProto(9, 9, "second note"))));
    // The earlier note comes back before the body ends.
    await waitFor(() => received.includes("first note"), () => `received: ${received}`);
    socket.write("0\r\n\r\n");
    await waitFor(() => received.includes("\r\n0\r\n\r\n"), () => `received: ${received}`);
  } finally {
    socket.destroy();
    await server.shutdown(1000);
  }
});
