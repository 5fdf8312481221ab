/**
 * `lib/server/tls.ts` with the connection tracker of `listener.ts`: a TLS
 * connection counts against the cap from its TCP accept, and the silence
 * deadline covers the handshake, the client-certificate check and the
 * first bytes; failed handshakes are closed and reported.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { ConnectionTracker, listen } from "../../lib/server/listener.ts";
import { createTlsListener } from "../../lib/server/tls.ts";
import { createLogger } from "../../lib/server/telemetry.ts";
import { makeTestCerts, type TestCerts, tlsTest } from "../_certs.ts";
import { STEP_MS, waitFor, within } from "../_async.ts";

/** A deadline short enough for a test, long enough that a handshake on loopback beats it. */
const SHORT_SILENCE_MS = 300;

interface ListenerSetup {
  maxConnections?: number;
  silentConnectionMs: number;
  checkClient?: () => Promise<string | undefined>;
}

/** A TLS listener feeding a tracker; records what was handed over and each refusal. */
async function trackedTlsListener(certs: TestCerts, setup: ListenerSetup) {
  const refusals: string[] = [];
  const handed: Socket[] = [];
  const tracker = new ConnectionTracker({
    maxConnections: setup.maxConnections,
    silentConnectionMs: setup.silentConnectionMs,
    onRefusal: (why) => refusals.push(why),
  });
  const sink = { injectConnection: (socket: Socket) => handed.push(socket) };
  const { server } = await createTlsListener(
    { certFile: certs.serverCert, keyFile: certs.serverKey },
    {
      admit: (raw) => tracker.admit(raw, sink),
      logger: createLogger({ level: "off" }),
      onHandshakeFailed: () => refusals.push("handshake"),
      checkClient: setup.checkClient,
    },
  );
  const port = await listen(server, { host: "127.0.0.1", port: 0 });
  const clients: Socket[] = [];
  return {
    tracker,
    handed,
    refusals,
    port,
    /** Every client socket the test opened, closed on dispose. */
    clients,
    async [Symbol.asyncDispose]() {
      // Closing the clients too: a regression that leaves server sockets
      // untracked must fail the test, not hang it in server.close().
      for (const client of clients) client.destroy();
      tracker.destroyAll();
      await within(
        new Promise((resolve) => server.close(resolve)),
        STEP_MS,
        "the listener to close",
      );
    },
  };
}

/** A socket and a promise of its close; reads (and drops) what arrives, so it sees the close. */
interface Watched<S extends Socket> {
  socket: S;
  closed: Promise<void>;
  isClosed(): boolean;
}

function watch<S extends Socket>(socket: S, opened: Socket[]): Watched<S> {
  opened.push(socket);
  let done = false;
  socket.on("error", () => {});
  socket.resume();
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      done = true;
      resolve();
    })
  );
  return { socket, closed, isClosed: () => done };
}

/** A listener's port and the list of the client sockets opened to it. */
interface Target {
  port: number;
  clients: Socket[];
}

/** A TCP connection that never starts a handshake. */
function rawClient(target: Target): Watched<Socket> {
  return watch(connect(target.port, "127.0.0.1"), target.clients);
}

/** A TLS client; resolves once its handshake is done. */
async function tlsClient(
  target: Target,
  certs: TestCerts,
  identity?: { cert: string; key: string },
): Promise<Watched<TLSSocket>> {
  const socket = tlsConnect({
    port: target.port,
    host: "127.0.0.1",
    servername: "localhost",
    ca: await Deno.readTextFile(certs.caCert),
    ALPNProtocols: ["h2"],
    ...identity,
  });
  const watched = watch(socket, target.clients);
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
    }),
    STEP_MS,
    "the TLS handshake",
  );
  return watched;
}

tlsTest("TLS: connections over the cap are closed on arrival, before any handshake", async () => {
  await using certs = await makeTestCerts();
  await using listener = await trackedTlsListener(certs, {
    maxConnections: 3,
    silentConnectionMs: 60_000,
  });
  const clients = Array.from({ length: 10 }, () => rawClient(listener));
  await waitFor(
    () => clients.filter((c) => c.isClosed()).length === 7,
    () => `7 of 10 closed; ${clients.filter((c) => c.isClosed()).length} are`,
    STEP_MS,
  );
  assert.equal(listener.tracker.size, 3);
  assert.deepEqual(listener.refusals, Array(7).fill("cap"));
  assert.equal(listener.handed.length, 0);
  // A slot freed is a slot for the next one.
  clients.find((c) => !c.isClosed())!.socket.destroy();
  await waitFor(() => listener.tracker.size === 2, "the tracker to see it closed", STEP_MS);
  const next = rawClient(listener);
  await waitFor(() => listener.tracker.size === 3, "the next connection", STEP_MS);
  assert.equal(next.isClosed(), false);
  assert.equal(listener.refusals.length, 7);
});

tlsTest(
  "TLS: silent, stalled mid-handshake and handshaken-but-mute connections are closed at the deadline",
  async () => {
    await using certs = await makeTestCerts();
    await using listener = await trackedTlsListener(certs, {
      silentConnectionMs: SHORT_SILENCE_MS,
    });
    const silent = rawClient(listener);
    // A TLS handshake record header announcing 200 bytes, then only 5 of them.
    const stalled = rawClient(listener);
    stalled.socket.write(
      new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03]),
    );
    const mute = await tlsClient(listener, certs);
    const speaking = await tlsClient(listener, certs);
    speaking.socket.write("hello");
    for (const [c, what] of [[silent, "silent"], [stalled, "stalled"], [mute, "mute"]] as const) {
      await within(c.closed, STEP_MS, `the ${what} connection to be closed`);
    }
    // The speaking one came in with them, so its deadline has passed too.
    await waitFor(() => listener.tracker.size === 1, "the tracker to see them closed", STEP_MS);
    assert.equal(speaking.isClosed(), false);
    assert.deepEqual(listener.refusals, ["silent", "silent", "silent"]);
    assert.equal(listener.handed.length, 2);
  },
);

tlsTest(
  "mTLS: a connection whose certificate check is pending counts, and the deadline covers the check",
  async (t) => {
    await using certs = await makeTestCerts();
    const identity = {
      cert: await Deno.readTextFile(certs.clientCert),
      key: await Deno.readTextFile(certs.clientKey),
    };
    await t.step("it holds its slot", async () => {
      const { promise: checked, resolve: accept } = Promise.withResolvers<string | undefined>();
      const { promise: asked, resolve: ask } = Promise.withResolvers<void>();
      await using listener = await trackedTlsListener(certs, {
        maxConnections: 1,
        silentConnectionMs: 60_000,
        checkClient: () => (ask(), checked),
      });
      const client = await tlsClient(listener, certs, identity);
      await within(asked, STEP_MS, "the certificate check to start");
      const late = rawClient(listener);
      await within(late.closed, STEP_MS, "the connection over the cap to be closed");
      assert.deepEqual(listener.refusals, ["cap"]);
      assert.equal(listener.handed.length, 0);
      accept(undefined);
      await waitFor(() => listener.handed.length === 1, "the checked connection", STEP_MS);
      assert.equal(client.isClosed(), false);
    });
    await t.step("it is closed when the check outlasts the deadline", async () => {
      const { promise: checked, resolve: accept } = Promise.withResolvers<string | undefined>();
      await using listener = await trackedTlsListener(certs, {
        silentConnectionMs: SHORT_SILENCE_MS,
        checkClient: () => checked,
      });
      const client = await tlsClient(listener, certs, identity);
      await within(client.closed, STEP_MS, "the connection to be closed");
      assert.deepEqual(listener.refusals, ["silent"]);
      await waitFor(() => listener.tracker.size === 0, "the tracker to see it closed", STEP_MS);
      // An acceptance that comes too late hands nothing over.
      accept(undefined);
      await checked;
      await Promise.resolve();
      assert.equal(listener.handed.length, 0);
    });
  },
);

tlsTest(
  "TLS: a failed handshake is closed at once and reported as one; a hang-up is not one",
  async () => {
    await using certs = await makeTestCerts();
    await using listener = await trackedTlsListener(certs, { silentConnectionMs: 60_000 });
    // A client that hangs up (a TCP probe does) failed nothing.
    const probe = rawClient(listener);
    await waitFor(() => listener.tracker.size === 1, "the probe to be accepted", STEP_MS);
    probe.socket.end();
    await within(probe.closed, STEP_MS, "the probe to be closed");
    await waitFor(() => listener.tracker.size === 0, "the tracker to see the probe go", STEP_MS);
    const plaintext = rawClient(listener);
    plaintext.socket.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await within(plaintext.closed, STEP_MS, "the plaintext client to be closed");
    await waitFor(() => listener.tracker.size === 0, "the tracker to see it closed", STEP_MS);
    assert.deepEqual(listener.refusals, ["handshake"]);
  },
);
