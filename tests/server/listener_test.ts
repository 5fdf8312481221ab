/**
 * `lib/server/listener.ts`: binding with one-line errors, reserving a port, and
 * the connection tracker (cap, silent connections, waiting for close).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
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

// In process, without sockets: stand-ins for node:net's server and socket, so each branch of
// the listener's bookkeeping is driven by events the test emits.

/** A `net.Server` stand-in: `listen()` records its options; the test emits the outcome. */
class FakeServer extends EventEmitter {
  options: unknown[] = [];
  listen(options: unknown): this {
    this.options.push(options);
    return this;
  }
  address() {
    return { port: 4321 };
  }
}

/** Rejects `listen()` on a stand-in server with an error of `code`, and returns the message. */
async function listenError(host: string, code: string | undefined, message = "boom") {
  const server = new FakeServer();
  const listening = listen(server as unknown as Server, { host, port: 80 });
  server.emit("error", Object.assign(new Error(message), { code }));
  const error = await listening.then(() => undefined, (e: Error) => e);
  assert.ok(error instanceof Error, "listen() resolved on an error");
  assert.equal(server.listenerCount("listening"), 0, "a listener left behind on error");
  return error.message;
}

Deno.test("listen() words each bind error in one line saying what to do", async () => {
  assert.equal(
    await listenError("127.0.0.1", "EACCES"),
    "cannot listen on 127.0.0.1:80: permission denied (ports below 1024 need privileges)",
  );
  for (const code of ["EADDRNOTAVAIL", "ENOTFOUND"]) {
    assert.equal(
      await listenError("192.0.2.1", code),
      "cannot listen on 192.0.2.1:80: no such local address (check --host)",
    );
  }
  assert.equal(
    await listenError("::1", "EADDRINUSE"),
    [
      "cannot listen on [::1]:80: the port is already in use",
      "(stop the other server or pick another --port)",
    ].join(" "),
  );
  assert.equal(await listenError("::1", "EOTHER", "odd"), "cannot listen on [::1]:80: odd");
});

Deno.test("listen() asks for SO_REUSEPORT only when told, and leaves no error listener once listening", async () => {
  for (const reusePort of [undefined, true, false]) {
    const server = new FakeServer();
    const listening = listen(server as unknown as Server, { host: "h", port: 7, reusePort });
    server.emit("listening");
    assert.equal(await listening, 4321);
    assert.deepEqual(server.options, [{ host: "h", port: 7, reusePort: reusePort ?? false }]);
    assert.equal(server.listenerCount("error"), 0, "listen()'s error listener outlived it");
  }
});

/** A `net.Socket` stand-in: `destroy()` marks it and, unless `quietClose`, emits 'close'. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  bytesRead = 0;
  alpnProtocol?: string | false;
  paused = false;
  unshifted: Uint8Array[] = [];
  quietClose = false;
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (!this.quietClose) this.emit("close");
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  unshift(chunk: Uint8Array): void {
    this.unshifted.push(chunk);
  }
}

/** A sink that records each connection and deadline it is handed. */
function recordingSink() {
  const handed: { socket: unknown; deadline?: number }[] = [];
  return {
    handed,
    injectConnection: (socket: unknown, deadline?: number) => handed.push({ socket, deadline }),
  };
}

const asSocket = (fake: FakeSocket) => fake as unknown as Socket;

Deno.test("ConnectionTracker's defaults: 1000 connections, 10 s of silence", () => {
  const tracker = new ConnectionTracker();
  assert.equal(tracker.maxConnections, 1000);
  assert.equal(tracker.silentMs, 10_000);
  const set = new ConnectionTracker({ maxConnections: 3, silentConnectionMs: 5 });
  assert.equal(set.maxConnections, 3);
  assert.equal(set.silentMs, 5);
});

Deno.test("ConnectionTracker refuses the connection past the cap, destroys it and reports 'cap'", () => {
  const refusals: string[] = [];
  const tracker = new ConnectionTracker({
    maxConnections: 2,
    silentConnectionMs: 60_000,
    onRefusal: (why) => refusals.push(why),
  });
  const sink = recordingSink();
  const sockets = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
  const admissions = sockets.map((s) => tracker.admit(asSocket(s), sink));
  assert.ok(admissions[0] !== undefined && admissions[1] !== undefined);
  assert.equal(admissions[2], undefined);
  assert.deepEqual(sockets.map((s) => s.destroyed), [false, false, true]);
  assert.deepEqual(refusals, ["cap"]);
  assert.equal(tracker.size, 2);
  // Without onRefusal, a refusal is only a closed socket.
  const quiet = new ConnectionTracker({ maxConnections: 0 });
  const refused = new FakeSocket();
  assert.equal(quiet.admit(asSocket(refused), sink), undefined);
  assert.ok(refused.destroyed);
  tracker.destroyAll();
  assert.ok(sockets.every((s) => s.destroyed));
  assert.equal(tracker.size, 0);
});

Deno.test("ConnectionTracker hands a connection over once, with the deadline of its accept", () => {
  const tracker = new ConnectionTracker({ silentConnectionMs: 60_000 });
  const sink = recordingSink();
  const raw = new FakeSocket();
  const before = Date.now();
  const admission = tracker.admit(asSocket(raw), sink)!;
  const after = Date.now();
  const tls = new FakeSocket();
  admission.handOver(asSocket(tls));
  admission.handOver(asSocket(new FakeSocket()));
  assert.equal(sink.handed.length, 1, "handed over twice");
  assert.equal(sink.handed[0].socket, tls);
  const deadline = sink.handed[0].deadline!;
  assert.ok(deadline >= before + 60_000 && deadline <= after + 60_000, `deadline ${deadline}`);

  // A connection closed before its handshake ended is not handed over, nor a closed TLS socket.
  const closedRaw = new FakeSocket();
  const late = tracker.admit(asSocket(closedRaw), sink)!;
  closedRaw.destroy();
  late.handOver(asSocket(new FakeSocket()));
  const deadTls = new FakeSocket();
  deadTls.destroyed = true;
  tracker.admit(asSocket(new FakeSocket()), sink)!.handOver(asSocket(deadTls));
  assert.equal(sink.handed.length, 1);
  tracker.destroyAll();
});

Deno.test("ConnectionTracker closes a silent connection (and its TLS socket) and reports 'silent', keeps one that spoke", async () => {
  const refusals: string[] = [];
  const silentReported = Promise.withResolvers<void>();
  const tracker = new ConnectionTracker({
    silentConnectionMs: 1,
    onRefusal: (why) => {
      refusals.push(why);
      silentReported.resolve();
    },
  });
  const sink = recordingSink();
  // Deadlines fire in the order of admission. This one closed at once (without even being marked
  // destroyed): its deadline went with it.
  const gone = new FakeSocket();
  tracker.admit(asSocket(gone), sink);
  gone.emit("close");
  // It has spoken by its deadline, and is kept.
  const spokeRaw = new FakeSocket();
  const spokeTls = new FakeSocket();
  tracker.admit(asSocket(spokeRaw), sink)!.handOver(asSocket(spokeTls));
  spokeTls.bytesRead = 5;
  // A raw socket already destroyed whose 'close' has not come yet: not counted as silent.
  const closing = new FakeSocket();
  closing.quietClose = true;
  tracker.admit(asSocket(closing), sink);
  closing.destroy();
  const silentRaw = new FakeSocket();
  const silentTls = new FakeSocket();
  tracker.admit(asSocket(silentRaw), sink)!.handOver(asSocket(silentTls));
  await silentReported.promise;
  assert.deepEqual(refusals, ["silent"]);
  assert.ok(silentRaw.destroyed && silentTls.destroyed);
  assert.ok(!spokeRaw.destroyed && !spokeTls.destroyed, "a connection that spoke was closed");
  assert.ok(!gone.destroyed, "the deadline of a closed connection fired");
  closing.emit("close");
  assert.equal(tracker.size, 1);
  tracker.destroyAll();
});

Deno.test("ConnectionTracker.allClosed() resolves at once with nothing open, when the last closes, or after its time", async () => {
  const tracker = new ConnectionTracker({ silentConnectionMs: 60_000 });
  await within(tracker.allClosed(60_000), 5000, "allClosed() with nothing open");
  const sink = recordingSink();
  const a = new FakeSocket();
  const b = new FakeSocket();
  tracker.admit(asSocket(a), sink);
  tracker.admit(asSocket(b), sink);
  let resolved = false;
  const closed = tracker.allClosed(60_000).then(() => resolved = true);
  a.destroy();
  await Promise.resolve();
  assert.equal(resolved, false, "resolved with a socket still open");
  b.destroy();
  await within(closed, 5000, "allClosed() after the last close");
  // With a socket that never closes, after its time.
  const stuck = new FakeSocket();
  tracker.admit(asSocket(stuck), sink);
  await within(tracker.allClosed(1), 5000, "allClosed() after 1 ms");
  assert.equal(stuck.listenerCount("close"), 1, "only the tracker's own listener stays");
  tracker.destroyAll();
});

Deno.test("splitByProtocol() hands a TLS connection on by its ALPN protocol without reading it", () => {
  const http2 = recordingSink();
  const http1 = recordingSink();
  const split = splitByProtocol({ http2, http1 });
  const h2 = new FakeSocket();
  h2.alpnProtocol = "h2";
  split.injectConnection(asSocket(h2), Date.now() + 60_000);
  const h1 = new FakeSocket();
  h1.alpnProtocol = "http/1.1";
  split.injectConnection(asSocket(h1), Date.now() + 60_000);
  assert.deepEqual(http2.handed.map((h) => h.socket), [h2]);
  assert.deepEqual(http1.handed.map((h) => h.socket), [h1]);
  assert.equal(h2.listenerCount("data") + h1.listenerCount("data"), 0, "it read the socket");
});

Deno.test("splitByProtocol() sniffs a connection without ALPN: the preface's first bytes wait, a differing byte decides at once", () => {
  const http2 = recordingSink();
  const http1 = recordingSink();
  const split = splitByProtocol({ http2, http1 });
  const socket = new FakeSocket();
  socket.alpnProtocol = false;
  split.injectConnection(asSocket(socket), Date.now() + 60_000);
  const bytes = (text: string) => Buffer.from(text, "latin1");
  socket.emit("data", bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r"));
  assert.equal(http2.handed.length, 0, "23 bytes of the preface are not enough");
  socket.emit("data", bytes("\nX"));
  assert.deepEqual(http2.handed.map((h) => h.socket), [socket]);
  assert.equal(new TextDecoder().decode(socket.unshifted[0]), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nX");
  assert.equal(socket.paused, false, "the HTTP/2 side is resumed");
  assert.equal(socket.listenerCount("data") + socket.listenerCount("close"), 0);

  // More bytes reach the new owner only.
  socket.emit("data", bytes("more"));
  assert.equal(http2.handed.length + http1.handed.length, 1);
  assert.equal(socket.unshifted.length, 1);

  // The whole preface (RFC 9113 §3.4: 24 octets) and nothing after it is enough.
  const exact = new FakeSocket();
  split.injectConnection(asSocket(exact), Date.now() + 60_000);
  exact.emit("data", bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  assert.deepEqual(http2.handed.map((h) => h.socket), [socket, exact]);

  const other = new FakeSocket();
  split.injectConnection(asSocket(other));
  other.emit("data", bytes("PRX"));
  assert.deepEqual(http1.handed.map((h) => h.socket), [other]);
  assert.equal(new TextDecoder().decode(other.unshifted[0]), "PRX");
  assert.equal(other.paused, true, "the HTTP/1.1 server resumes the socket itself");
});

Deno.test("splitByProtocol() closes a connection silent past the deadline it came with, not its own timeout, and says so once", async () => {
  const silent = Promise.withResolvers<void>();
  let reports = 0;
  const split = splitByProtocol({
    http2: recordingSink(),
    http1: recordingSink(),
    timeoutMs: 60_000,
    onSilent: () => {
      reports++;
      silent.resolve();
    },
  });
  // Deadlines fire in their order. This one is a minute away: still open when the others fire.
  const patient = new FakeSocket();
  split.injectConnection(asSocket(patient), Date.now() + 60_000);
  // Closed (by the tracker, say) before its deadline: no report for it.
  const closedFirst = new FakeSocket();
  closedFirst.quietClose = true;
  split.injectConnection(asSocket(closedFirst), Date.now());
  closedFirst.destroy();
  const socket = new FakeSocket();
  split.injectConnection(asSocket(socket), Date.now() - 1000);
  await within(silent.promise, 5000, "the deadline of the accept");
  assert.ok(socket.destroyed);
  assert.equal(reports, 1);
  assert.ok(!patient.destroyed, "closed before its deadline");
  patient.destroy();
  // Closed by its peer while sniffed: the timer goes with it.
  const gone = new FakeSocket();
  split.injectConnection(asSocket(gone), Date.now() + 60_000);
  gone.destroy();
  assert.equal(gone.listenerCount("data") + gone.listenerCount("close"), 0);
});
