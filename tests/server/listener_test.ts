/**
 * `lib/server/listener.ts`: binding with one-line errors, reserving a port, and
 * the connection tracker (cap, silent connections, waiting for close).
 */
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import {
  ConnectionTracker,
  formatAddress,
  listen,
  reservePort,
  splitByProtocol,
} from "../../lib/server/listener.ts";
import { waitFor, within } from "../_async.ts";

Deno.test("formatAddress() puts IPv6 literals in brackets", () => {
  assert.equal(formatAddress("127.0.0.1", 5), "127.0.0.1:5");
  assert.equal(formatAddress("::1", 5), "[::1]:5");
  assert.equal(formatAddress("[::1]", 5), "[::1]:5");
  assert.equal(formatAddress("localhost", 0), "localhost:0");
});

Deno.test("listen() on a port in use rejects with one line saying what to do", async () => {
  const first = createServer();
  const port = await listen(first, { host: "127.0.0.1", port: 0 });
  try {
    await assert.rejects(
      listen(createServer(), { host: "127.0.0.1", port }),
      new Error(
        `cannot listen on 127.0.0.1:${port}: the port is already in use ` +
          "(stop the other server or pick another --port)",
      ),
    );
    await assert.rejects(reservePort("127.0.0.1", port), /already in use/);
  } finally {
    await new Promise((resolve) => first.close(resolve));
  }
});

Deno.test("reservePort() picks a free port and leaves it free", async () => {
  const port = await reservePort("127.0.0.1", 0);
  assert.ok(port > 0);
  const again = createServer();
  assert.equal(await listen(again, { host: "127.0.0.1", port }), port);
  await new Promise((resolve) => again.close(resolve));
});

/** A plaintext listener feeding `tracker`; the sink keeps what it was handed. */
async function trackedListener(tracker: ConnectionTracker) {
  const handed: Socket[] = [];
  const server = createServer(tracker.acceptInto({ injectConnection: (s) => handed.push(s) }));
  const port = await listen(server, { host: "127.0.0.1", port: 0 });
  return {
    handed,
    /** A client connection; resolves once it is closed by either side. */
    connect() {
      const client = connect(port, "127.0.0.1");
      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      client.on("error", () => {});
      return { client, closed };
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

Deno.test("ConnectionTracker closes connections over the cap and counts the rest until they close", async () => {
  const tracker = new ConnectionTracker({ maxConnections: 1, silentConnectionMs: 60_000 });
  const listener = await trackedListener(tracker);
  try {
    const first = listener.connect();
    await waitFor(() => tracker.size === 1, "the first connection");
    const second = listener.connect();
    await within(second.closed, 10_000, "the connection over the cap to be closed");
    assert.equal(tracker.size, 1);
    assert.equal(listener.handed.length, 1);
    const allClosed = tracker.allClosed(60_000);
    first.client.destroy();
    await within(allClosed, 10_000, "allClosed()");
    assert.equal(tracker.size, 0);
    const third = listener.connect();
    await waitFor(() => tracker.size === 1, "the third connection");
    tracker.destroyAll();
    await within(third.closed, 10_000, "destroyAll() to close it");
    await waitFor(() => tracker.size === 0, "the tracker to see it closed");
  } finally {
    tracker.destroyAll();
    await listener.close();
  }
});

Deno.test("ConnectionTracker closes a connection that stays silent", async () => {
  const tracker = new ConnectionTracker({ silentConnectionMs: 50 });
  const listener = await trackedListener(tracker);
  try {
    const silent = listener.connect();
    await within(silent.closed, 10_000, "the silent connection to be closed");
    await waitFor(() => tracker.size === 0, "the tracker to see it closed");
    assert.equal(listener.handed.length, 1);
  } finally {
    tracker.destroyAll();
    await listener.close();
  }
});

/** A listener on a free loopback port whose connections go through `splitByProtocol`. */
async function splitting(timeoutMs = 10_000) {
  const got: { kind: "http2" | "http1"; bytes: Promise<string> }[] = [];
  const sink = (kind: "http2" | "http1") => ({
    injectConnection(socket: Socket) {
      // Both owners read from the first byte, the sniffed ones included.
      let text = "";
      const bytes = new Promise<string>((resolve) => {
        socket.on("data", (chunk: Uint8Array) => {
          text += new TextDecoder().decode(chunk);
          if (text.endsWith("END")) resolve(text);
        });
      });
      if (kind === "http1") socket.resume();
      got.push({ kind, bytes });
    },
  });
  const splitter = splitByProtocol({ http2: sink("http2"), http1: sink("http1"), timeoutMs });
  const server = createServer((socket) => splitter.injectConnection(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    got,
    port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Connects and writes `pieces` one by one, each after the last was flushed. */
async function sendPieces(port: number, pieces: string[]): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  for (const piece of pieces) await new Promise((resolve) => socket.write(piece, resolve));
  return socket;
}

Deno.test("splitByProtocol() hands a connection starting with the HTTP/2 preface to the HTTP/2 sink, bytes intact, however it is split", async () => {
  await using split = await splitting();
  const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const socket = await sendPieces(split.port, [
    preface.slice(0, 3),
    preface.slice(3, 20),
    preface.slice(20) + "END",
  ]);
  try {
    await waitFor(() => split.got.length === 1, "a sink to get the connection");
    assert.equal(split.got[0].kind, "http2");
    assert.equal(await within(split.got[0].bytes, 5000, "the bytes"), preface + "END");
  } finally {
    socket.destroy();
  }
});

Deno.test("splitByProtocol() hands anything else (HTTP/1.1) to the other sink at its first differing byte, bytes intact", async () => {
  await using split = await splitting();
  const socket = await sendPieces(split.port, ["P", "OST / HTTP/1.1\r\n\r\nEND"]);
  try {
    await waitFor(() => split.got.length === 1, "a sink to get the connection");
    assert.equal(split.got[0].kind, "http1");
    assert.equal(await within(split.got[0].bytes, 5000, "the bytes"), "POST / HTTP/1.1\r\n\r\nEND");
  } finally {
    socket.destroy();
  }
});

Deno.test("splitByProtocol() closes a connection that stops partway through the preface", async () => {
  await using split = await splitting(200);
  const socket = await sendPieces(split.port, ["PRI * HTTP/2"]);
  await within(new Promise((resolve) => socket.once("close", resolve)), 5000, "the close");
  assert.equal(split.got.length, 0);
});
