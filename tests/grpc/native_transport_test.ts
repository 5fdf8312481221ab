/**
 * Our HTTP/2 server under grpc-js: the seam grpc-js is hooked at (this
 * fails loudly if a grpc-js upgrade moves it), the socket glue (one socket
 * write per turn, write callbacks paced by the client's windows, resets as
 * normal closes) and the four RPC kinds through it.
 */

import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { seamFault, useNativeTransport } from "../../lib/grpc/native_transport.ts";
import { grpcTimeoutMs, Http2Server, type Http2ServerStream } from "../../lib/http2/server.ts";
import { createRouteGuideClient } from "../../lib/grpc/client.ts";
import { serveTwoFeatures } from "../_server.ts";
import { collect, waitFor, within } from "../_async.ts";
import { HpackDecoder } from "../../lib/http2/hpack.ts";
import {
  concat,
  Flag,
  frame,
  FrameParser,
  FrameType,
  grpcRequestHeaders,
  hpackLiterals,
  parseGoaway,
  PREFACE,
  rawConnect,
  settingsFrame,
} from "../_h2.ts";

/** Listens on a free loopback port, handing each socket to `accept`. */
async function listenWith(
  accept: (socket: net.Socket) => void,
): Promise<net.Server & AsyncDisposable> {
  const listener = net.createServer(accept);
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  return Object.assign(listener, {
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => listener.close(() => resolve())),
  });
}

/** The port a listener got. */
function portOf(listener: net.Server): number {
  return (listener.address() as net.AddressInfo).port;
}

Deno.test("grpc-js seam: connection injectors build their HTTP/2 server in createHttp2Server, replaced on one server only", async () => {
  const server = new grpc.Server();
  assert.equal(seamFault(server), undefined);
  const prototypeMethod = (grpc.Server.prototype as unknown as Record<string, unknown>)
    .createHttp2Server;
  useNativeTransport(server);
  // Nothing global changed.
  assert.equal(
    (grpc.Server.prototype as unknown as Record<string, unknown>).createHttp2Server,
    prototypeMethod,
  );
  const seam = server as unknown as { createHttp2Server(credentials: unknown): unknown };
  const replaced = seam.createHttp2Server.bind(seam);
  let made: unknown;
  seam.createHttp2Server = (credentials) => made = replaced(credentials);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  assert.ok(
    made instanceof Http2Server,
    "grpc-js no longer builds its injector's HTTP/2 server in createHttp2Server(): update lib/grpc/native_transport.ts",
  );
  try {
    // A socket handed to the injector is served by our server.
    await using listener = await listenWith((socket) => injector.injectConnection(socket));
    await using c = await rawConnect(portOf(listener));
    await c.write(concat([PREFACE, settingsFrame()]));
    const ack = await c.waitFor((f) => f.type === FrameType.SETTINGS && f.flags === Flag.ACK, 5000);
    assert.ok(ack, "the injected socket was not served");
  } finally {
    injector.destroy();
    server.forceShutdown();
  }
});

Deno.test("seamFault() names the method grpc-js no longer has", () => {
  assert.match(String(seamFault({} as grpc.Server)), /createHttp2Server/);
  assert.throws(() => useNativeTransport({} as grpc.Server), /createHttp2Server/);
});

Deno.test("native transport: all four RPC kinds, in process", async () => {
  const server = await serveTwoFeatures();
  const client = createRouteGuideClient(`127.0.0.1:${server.port}`);
  try {
    assert.equal((await client.getFeature({ latitude: 10, longitude: 10 })).name, "A");
    const listed = await collect(client.listFeatures({
      lo: { latitude: 0, longitude: 0 },
      hi: { latitude: 30, longitude: 30 },
    }));
    assert.deepEqual(listed.map((f) => f.name).sort(), ["A", "B"]);
    const summary = await client.recordRoute([
      { latitude: 10, longitude: 10 },
      { latitude: 20, longitude: 20 },
    ]);
    assert.equal(summary.point_count, 2);
    assert.equal(summary.feature_count, 2);
    const here = { latitude: 5, longitude: 5 };
    await collect(client.routeChat([{ location: here, message: "one" }]));
    const replies = await collect(client.routeChat([{ location: here, message: "two" }]));
    assert.deepEqual(replies.map((n) => n.message), ["one"]);
  } finally {
    client.close();
    await server.shutdown(1000);
  }
});

/** Serves `onStream` on a loopback port with our server; records its socket writes. */
async function withHttp2Server(
  onStream: (stream: Http2ServerStream, headers: Record<string, unknown>) => void,
  fn: (port: number, writes: Uint8Array[]) => Promise<void>,
  options: ConstructorParameters<typeof Http2Server>[0] = {},
): Promise<void> {
  const h2 = new Http2Server(options);
  h2.on("stream", onStream);
  const writes: Uint8Array[] = [];
  await using listener = await listenWith((socket) => {
    const write = socket.write.bind(socket) as (chunk: Uint8Array) => boolean;
    socket.write = ((chunk: Uint8Array) => {
      writes.push(new Uint8Array(chunk));
      return write(chunk);
    }) as typeof socket.write;
    h2.accept(socket);
  });
  await fn(portOf(listener), writes);
}

/** Makes a node:http2 request and resolves with its status, body and trailers. */
function request(
  port: number,
  headers: http2.OutgoingHttpHeaders,
): Promise<{ status: number; body: string; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": "/x", ...headers });
    let status = 0;
    let body = "";
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => status = Number(h[":status"]));
    stream.on("trailers", (t) => trailers = t);
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => body += chunk);
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve({ status, body, trailers });
    });
    stream.end();
  });
}

Deno.test("a response, its DATA and its trailers written in one turn leave in one socket write", async () => {
  await withHttp2Server((stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
      waitForTrailers: true,
    });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    for (let i = 0; i < 5; i++) stream.write(new TextEncoder().encode(`part ${i};`));
    stream.end();
  }, async (port, writes) => {
    const answer = await request(port, { "content-type": "application/grpc" });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, "part 0;part 1;part 2;part 3;part 4;");
    assert.equal(answer.trailers["grpc-status"], "0");
    // Every frame of stream 1 is in one write: headers, DATA, trailers.
    const perWrite = writes.map((bytes) =>
      new FrameParser().push(bytes).filter((f) => f.streamId === 1).map((f) => f.type)
    ).filter((types) => types.length > 0);
    assert.deepEqual(perWrite, [[FrameType.HEADERS, FrameType.DATA, FrameType.HEADERS]]);
  });
});

Deno.test("a request that is not gRPC gets 415 and a line saying what the port serves", async () => {
  await withHttp2Server(() => {
    throw new Error("a non-gRPC request reached the gRPC handler");
  }, async (port) => {
    const answer = await request(port, { "content-type": "text/plain" });
    assert.equal(answer.status, 415);
    assert.match(answer.body, /gRPC only/);
  });
});

Deno.test("write callbacks wait for the client's window: a client that does not read pauses the writer", async () => {
  const TOTAL = 1024 * 1024;
  let calledBack = 0;
  await withHttp2Server((stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" });
    const chunk = new Uint8Array(16384);
    const next = () => {
      if (calledBack >= TOTAL) return void stream.end();
      stream.write(chunk, (error) => {
        if (error !== undefined) return;
        calledBack += chunk.length;
        next();
      });
    };
    next();
  }, async (port) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/x",
        "content-type": "application/grpc",
      });
      stream.pause();
      // The writer goes as far as the client's windows let it, then waits.
      const window = 65535;
      await waitFor(() => calledBack >= window - 16384, "write callbacks for the whole window");
      // Two PING round trips: the server has handled all we sent and flushed what it could.
      for (let i = 0; i < 2; i++) await new Promise((resolve) => session.ping(resolve));
      assert.ok(calledBack <= window, `${calledBack} bytes called back with nothing read`);
      const total = await new Promise<number>((resolve) => {
        let n = 0;
        stream.on("data", (chunk: Uint8Array) => n += chunk.length);
        stream.on("end", () => resolve(n));
        stream.resume();
      });
      assert.equal(total, TOTAL);
    } finally {
      session.destroy();
    }
  });
});

Deno.test("a client that resets its TCP connection closes the session and its streams quietly", async () => {
  let closedStream!: () => void;
  const streamClosed = new Promise<void>((resolve) => closedStream = resolve);
  const h2 = new Http2Server();
  let ours: Http2ServerStream | undefined;
  h2.on("stream", (stream: Http2ServerStream) => {
    ours = stream;
    stream.on("close", () => closedStream());
    stream.respond({ ":status": 200, "content-type": "application/grpc" });
  });
  const sessionClosed = new Promise<void>((resolve) =>
    h2.on("session", (session) => session.on("close", () => resolve()))
  );
  await using listener = await listenWith((socket) => h2.accept(socket));
  const session = http2.connect(`http://127.0.0.1:${portOf(listener)}`);
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": "/x",
    "content-type": "application/grpc",
  });
  stream.on("error", () => {});
  await new Promise((resolve) => stream.once("response", resolve));
  (session.socket as net.Socket).resetAndDestroy();
  try {
    await within(
      Promise.all([streamClosed, sessionClosed]),
      5000,
      "the stream and session to close",
    );
  } finally {
    session.destroy();
  }
  // Closed as the client's doing (aborted, CANCEL), with no error thrown or emitted.
  assert.ok(ours !== undefined);
  assert.equal(ours.closed, true);
  assert.equal(ours.aborted, true);
  assert.equal(ours.rstCode, http2.constants.NGHTTP2_CANCEL);
});

Deno.test("session.close() with no streams open sends GOAWAY NO_ERROR and closes at once", async () => {
  const h2 = new Http2Server();
  let closedCallback = false;
  h2.on("session", (session) => setTimeout(() => session.close(() => closedCallback = true), 50));
  await using listener = await listenWith((socket) => h2.accept(socket));
  await using c = await rawConnect(portOf(listener));
  await c.write(concat([PREFACE, settingsFrame()]));
  assert.ok(await c.waitClosed(5000), "the session did not close");
  const goaway = c.parser.frames.find((f) => f.type === FrameType.GOAWAY);
  assert.ok(goaway, "no GOAWAY");
  assert.deepEqual(parseGoaway(goaway), { lastStreamId: 0, errorCode: 0 });
  await waitFor(() => closedCallback, "close() did not call back");
});

Deno.test("a gRPC call still open past its deadline (grpc-timeout) with a client not reading is reset, its queued data dropped", async () => {
  let failedWrites = 0;
  await withHttp2Server((stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" });
    // Far more than the client's window: most of it stays queued.
    for (let i = 0; i < 64; i++) {
      stream.write(new Uint8Array(16384), (error) => error !== undefined && failedWrites++);
    }
  }, async (port) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/x",
        "content-type": "application/grpc",
        "grpc-timeout": "200m",
      });
      stream.pause();
      const started = Date.now();
      const code = await within(
        new Promise<number>((resolve) => stream.on("close", () => resolve(stream.rstCode))),
        5000,
        "the stream past its deadline to be reset",
      );
      assert.equal(code, http2.constants.NGHTTP2_CANCEL);
      // Due at 200 ms + 300 ms of grace: not before (less a little for clock steps), and not hanging.
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 450 && elapsed < 5000, `reset after ${elapsed} ms`);
      await waitFor(() => failedWrites > 0, "no queued write was dropped");
    } finally {
      session.destroy();
    }
  }, { deadlineGraceMs: 300 });
});

Deno.test("grpcTimeoutMs() reads every unit and refuses what is not a timeout", () => {
  assert.equal(grpcTimeoutMs("2H"), 7_200_000);
  assert.equal(grpcTimeoutMs("3M"), 180_000);
  assert.equal(grpcTimeoutMs("4S"), 4000);
  assert.equal(grpcTimeoutMs("250m"), 250);
  assert.equal(grpcTimeoutMs("5000u"), 5);
  assert.equal(grpcTimeoutMs("7000000n"), 7);
  for (const bad of ["", "5", "123456789S", "1.5S", "-1S", "5s", undefined, ["1S"]]) {
    assert.equal(grpcTimeoutMs(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("grpc-js seam: dispatch() hands a stream to the 'stream' handler grpc-js wired on its HTTP/2 server", () => {
  const server = new grpc.Server();
  const transport = useNativeTransport(server);
  assert.throws(
    () => transport.dispatch({}, {}),
    /native_transport\.ts/,
    "dispatch() before grpc-js wired its handler must say so",
  );
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  try {
    // The least of a node:http2 stream: grpc-js answers an unknown method at once.
    const answered: Record<string, unknown>[] = [];
    const stream = Object.assign({}, {
      session: { socket: {} },
      once: () => stream,
      on: () => stream,
      respond: (headers: Record<string, unknown>) => answered.push(headers),
    });
    transport.dispatch(stream, {
      ":method": "POST",
      ":path": "/no.Such/Method",
      "content-type": "application/grpc",
    });
    assert.equal(
      answered.length,
      1,
      "grpc-js did not answer a dispatched stream: its 'stream' handler moved; update lib/grpc/native_transport.ts",
    );
    assert.equal(String(answered[0]["grpc-status"]), "12");
  } finally {
    injector.destroy();
    server.forceShutdown();
  }
});

Deno.test("grpc-timeout is honoured by the server: DEADLINE_EXCEEDED reaches a client that enforces no deadline itself, not early", async () => {
  const server = await serveTwoFeatures();
  try {
    await using c = await rawConnect(server.port);
    const started = Date.now();
    // RouteChat, request left open: only the server's deadline can end it.
    const headers: [string, string][] = [
      ...grpcRequestHeaders("/routeguide.RouteGuide/RouteChat"),
      ["grpc-timeout", "300m"],
    ];
    await c.write(concat([
      PREFACE,
      settingsFrame(),
      frame(FrameType.SETTINGS, Flag.ACK, 0),
      frame(FrameType.HEADERS, Flag.END_HEADERS, 1, hpackLiterals(headers)),
    ]));
    const trailers = await c.waitFor(
      (f) => f.type === FrameType.HEADERS && f.streamId === 1 && (f.flags & Flag.END_STREAM) !== 0,
      5000,
    );
    const elapsed = Date.now() - started;
    assert.ok(trailers, "no trailers within 5 s");
    const fields = new HpackDecoder().decode(trailers.payload);
    assert.deepEqual(fields.find(([n]) => n === "grpc-status"), ["grpc-status", "4"]);
    assert.ok(elapsed >= 250 && elapsed < 5000, `DEADLINE_EXCEEDED after ${elapsed} ms`);
  } finally {
    await server.shutdown(1000);
  }
});
