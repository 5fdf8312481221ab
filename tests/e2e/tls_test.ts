/**
 * TLS end to end, against the real server process with throwaway
 * certificates made by `openssl` (tests/_certs.ts):
 *
 * - `--tls-cert/--tls-key`: our client over TLS (all four RPC kinds), a
 *   plaintext client refused, and the CLI with `--tls-ca`;
 * - mutual TLS with `--tls-client-ca`: a CA-signed client certificate is
 *   accepted, also one sent with its intermediate CA or without
 *   extendedKeyUsage; none, a self-signed one, one from a look-alike CA, or
 *   the server's own (serverAuth only) are not, and a refusal is logged with
 *   its reason (tests/server/client_certs_test.ts checks every reason);
 * - SIGHUP: new certificate for new connections, open streams untouched,
 *   bad files keep the old certificate;
 * - an independent client: Python grpcio over TLS and mTLS
 *   (tests/interop/tls_check.py).
 *
 * A TLS client must dial `localhost:PORT`: Deno refuses an IP address as a
 * TLS server name. The certificates name both `localhost` and `127.0.0.1`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect as tlsConnect } from "node:tls";
import { Code } from "../../lib/core/rpc_error.ts";
import {
  createRouteGuideClient,
  type RouteGuideClient,
  type RouteNote,
  tlsChannelCredentials,
} from "../../lib/grpc/client.ts";
import { makeClientCertCases, makeTestCerts, type TestCerts, tlsTest } from "../_certs.ts";
import { ROOT, runClientProcess, type ServerProcess, startServer } from "../_server.ts";
import { assertPythonChecksPass, pythonTest } from "../_python.ts";
import { deadline, STEP_MS, waitFor, within } from "../_async.ts";
import {
  BROOKLYN_BRIDGE,
  EMPIRE_STATE,
  EMPIRE_STATE_NAME,
  freshPoint,
  LOWER_MANHATTAN,
} from "../_places.ts";
import { rejectsWith } from "../_assert.ts";

/** Our client over TLS to `localhost:PORT`, trusting the test CA, with an optional client cert. */
async function tlsClient(
  server: ServerProcess,
  certs: TestCerts,
  client?: { cert: string; key: string },
  retry = false,
): Promise<RouteGuideClient> {
  return createRouteGuideClient(`localhost:${server.port}`, {
    retry,
    credentials: tlsChannelCredentials({
      ca: await Deno.readFile(certs.caCert),
      cert: client && await Deno.readFile(client.cert),
      key: client && await Deno.readFile(client.key),
    }),
  });
}

/** A RouteChat whose notes are pushed one at a time, with replies read one at a time. */
function openChat(client: RouteGuideClient) {
  const queued: RouteNote[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const notes = (async function* () {
    while (true) {
      while (queued.length > 0) yield queued.shift()!;
      if (closed) return;
      await new Promise<void>((resolve) => wake = resolve);
      wake = undefined;
    }
  })();
  const replies = client.routeChat(notes, { deadline: Date.now() + 60_000 })[
    Symbol.asyncIterator
  ]();
  return {
    send(note: RouteNote) {
      queued.push(note);
      wake?.();
    },
    /** The next reply's message. */
    async next(): Promise<string> {
      const r = await within(replies.next(), STEP_MS, "a RouteChat reply");
      assert.ok(!r.done, "the RouteChat ended early");
      return r.value.message;
    },
    async close() {
      closed = true;
      wake?.();
      await replies.return?.(undefined).catch(() => {});
    },
  };
}

/** One quick call of each of the four kinds. */
async function allFourKinds(client: RouteGuideClient): Promise<void> {
  const feature = await client.getFeature(EMPIRE_STATE, { deadline: deadline() });
  assert.equal(feature.name, EMPIRE_STATE_NAME);

  const listed: string[] = [];
  for await (
    const f of client.listFeatures(LOWER_MANHATTAN, { deadline: deadline() })
  ) listed.push(f.name);
  assert.deepEqual(listed.sort(), [
    "Brooklyn Bridge, New York, NY",
    "Manhattan Bridge, New York, NY",
    "Whitehall Ferry Terminal, New York, NY",
  ]);

  const summary = await client.recordRoute([EMPIRE_STATE, BROOKLYN_BRIDGE], {
    deadline: deadline(),
  });
  assert.equal(summary.point_count, 2);
  assert.equal(summary.feature_count, 2);
  assert.ok(summary.distance > 4000 && summary.distance < 6000, `distance ${summary.distance}`);

  const at = freshPoint();
  const replies: string[] = [];
  for await (
    const note of client.routeChat([
      { location: at, message: "one" },
      { location: at, message: "two" },
    ], { deadline: deadline() })
  ) replies.push(note.message);
  assert.deepEqual(replies, ["one"]);
}

/** The serial number of the certificate a NEW TLS connection to the server sees. */
function servedSerial(port: number, ca: string): Promise<string> {
  return within(
    new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca,
        ALPNProtocols: ["h2"],
      }, () => {
        try {
          assert.ok(socket.authorized, `not authorized: ${socket.authorizationError}`);
          assert.equal(socket.alpnProtocol, "h2");
          resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
        } catch (error) {
          reject(error);
        } finally {
          socket.destroy();
        }
      });
      socket.on("error", (error) => {
        socket.destroy();
        reject(error);
      });
    }),
    STEP_MS,
    "a TLS handshake with the server",
  );
}

/** The serial number of a PEM certificate file, as `openssl x509 -serial` prints it. */
async function fileSerial(path: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["x509", "-noout", "-serial", "-in", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim().replace(/^serial=/, "").toUpperCase();
}

/** Waits for a line of the server's stderr, after its first `from` characters, that matches. */
async function waitForStderrLine(
  server: ServerProcess,
  pattern: RegExp,
  from = 0,
): Promise<string> {
  const line = () => server.stderr().slice(from).split("\n").find((l) => pattern.test(l));
  try {
    await waitFor(() => line() !== undefined, `${pattern}`, STEP_MS);
  } catch {
    throw new Error(
      `no line matching ${pattern} within ${STEP_MS} ms; stderr:\n${server.stderr()}`,
    );
  }
  return line()!;
}

/** Sends SIGHUP and waits for the server's next line about it. */
function sighup(server: ServerProcess): Promise<string> {
  const before = server.stderr().length;
  server.process.kill("SIGHUP");
  return waitForStderrLine(server, /SIGHUP:/, before);
}

/** Replaces a file atomically (write a sibling, then rename), as deploy tools do. */
async function replaceFile(path: string, from: string): Promise<void> {
  await Deno.copyFile(from, `${path}.new`);
  await Deno.rename(`${path}.new`, path);
}

tlsTest("TLS: our client does all four RPC kinds over TLS to localhost:PORT", async () => {
  await using certs = await makeTestCerts();
  await using server = await startServer({
    args: ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey],
  });
  const client = await tlsClient(server, certs);
  try {
    await allFourKinds(client);
  } finally {
    client.close();
  }
});

tlsTest("TLS: a plaintext client to the TLS port gets UNAVAILABLE", async () => {
  await using certs = await makeTestCerts();
  await using server = await startServer({
    args: ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey],
  });
  for (const target of [server.target, `localhost:${server.port}`]) {
    const plain = createRouteGuideClient(target, { retry: false });
    try {
      await rejectsWith(
        plain.getFeature(EMPIRE_STATE, { deadline: deadline() }),
        Code.UNAVAILABLE,
        `plaintext GetFeature to ${target}`,
      );
    } finally {
      plain.close();
    }
  }
  // The refused plaintext connection did not hurt the server.
  const client = await tlsClient(server, certs);
  try {
    const feature = await client.getFeature(EMPIRE_STATE, { deadline: deadline() });
    assert.equal(feature.name, EMPIRE_STATE_NAME);
  } finally {
    client.close();
  }
});

tlsTest("TLS: the CLI with --tls-ca gets a feature", async () => {
  await using certs = await makeTestCerts();
  await using server = await startServer({
    args: ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey],
  });
  const result = await within(
    runClientProcess([
      "--target",
      `localhost:${server.port}`,
      "--tls-ca",
      certs.caCert,
      "get",
      "40.7484",
      "-73.9857",
    ]),
    30_000,
    "the CLI",
  );
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /Empire State Building, New York, NY/);
});

/** Server flags for TLS that also requires client certificates from the test CA. */
function mtlsArgs(certs: { serverCert: string; serverKey: string; caCert: string }): string[] {
  return [
    "--tls-cert",
    certs.serverCert,
    "--tls-key",
    certs.serverKey,
    "--tls-client-ca",
    certs.caCert,
  ];
}

tlsTest(
  "mTLS: CA-signed client certificates are accepted (also sent with an intermediate, or without extendedKeyUsage); none, self-signed, from a look-alike CA or serverAuth-only are refused, with the reason logged",
  async () => {
    await using certs = await makeTestCerts();
    const more = await makeClientCertCases(certs);
    await using server = await startServer({
      args: mtlsArgs(certs),
    });
    const cases: [string, { cert: string; key: string } | undefined, Code | undefined][] = [
      [
        "a CA-signed client certificate",
        { cert: certs.clientCert, key: certs.clientKey },
        undefined,
      ],
      ["a leaf sent with the intermediate CA that signed it", more.viaIntermediate, undefined],
      ["a leaf without extendedKeyUsage", more.noEku, undefined],
      // The server's own certificate: same CA, extendedKeyUsage serverAuth only.
      ["a serverAuth-only certificate of the same CA", more.serverOnly, Code.UNAVAILABLE],
      ["no client certificate", undefined, Code.UNAVAILABLE],
      ["a self-signed client certificate", {
        cert: certs.rogueCert,
        key: certs.rogueKey,
      }, Code.UNAVAILABLE],
      ["a certificate from a CA with the same name but another key", {
        cert: certs.impostorCert,
        key: certs.impostorKey,
      }, Code.UNAVAILABLE],
    ];
    for (const [what, identity, code] of cases) {
      const client = await tlsClient(server, certs, identity);
      try {
        if (code === undefined) {
          await allFourKinds(client);
        } else {
          await rejectsWith(client.getFeature(EMPIRE_STATE, { deadline: deadline() }), code, what);
        }
      } finally {
        client.close();
      }
    }
    // A retrying client without a certificate is refused too, in bounded time.
    const started = Date.now();
    const retrying = await tlsClient(server, certs, undefined, true);
    try {
      await rejectsWith(
        retrying.getFeature(EMPIRE_STATE, { deadline: deadline() }),
        Code.UNAVAILABLE,
        "a retrying client without a certificate",
      );
    } finally {
      retrying.close();
    }
    assert.ok(Date.now() - started < STEP_MS, `took ${Date.now() - started} ms`);
    // Each refusal is logged with its reason.
    const line = await waitForStderrLine(server, /client certificate refused.*extendedKeyUsage/);
    assert.match(line, /WARN/);
    assert.match(
      line,
      /"localhost\\?": its extendedKeyUsage \(1\.3\.6\.1\.5\.5\.7\.3\.1\) does not allow/,
    );
    assert.match(line, /peer=127\.0\.0\.1:\d+/);
    assert.match(server.stderr(), /client certificate refused reason="no client certificate"/);
  },
);

tlsTest(
  "mTLS: the CLI with --tls-ca, --tls-cert and --tls-key gets a feature; without them it fails",
  async () => {
    await using certs = await makeTestCerts();
    await using server = await startServer({
      args: mtlsArgs(certs),
    });
    const target = ["--target", `localhost:${server.port}`, "--tls-ca", certs.caCert];
    const get = ["get", "40.7484", "-73.9857"];
    const ok = await within(
      runClientProcess([
        ...target,
        "--tls-cert",
        certs.clientCert,
        "--tls-key",
        certs.clientKey,
        ...get,
      ]),
      30_000,
      "the CLI with a client certificate",
    );
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.match(ok.stdout, /Empire State Building, New York, NY/);

    const refused = await within(
      runClientProcess([...target, ...get]),
      30_000,
      "the CLI without a client certificate",
    );
    assert.notEqual(refused.code, 0, `${refused.stdout}\n${refused.stderr}`);
    assert.doesNotMatch(refused.stdout, /Empire State/);
  },
);

tlsTest(
  "SIGHUP: new connections get the new certificate while an open RouteChat keeps working",
  async () => {
    await using certs = await makeTestCerts();
    const certFile = `${certs.dir}/live.pem`;
    const keyFile = `${certs.dir}/live.key`;
    await Deno.copyFile(certs.serverCert, certFile);
    await Deno.copyFile(certs.serverKey, keyFile);
    await using server = await startServer({
      args: ["--tls-cert", certFile, "--tls-key", keyFile],
    });
    const ca = await Deno.readTextFile(certs.caCert);
    const [serial1, serial2] = [
      await fileSerial(certs.serverCert),
      await fileSerial(certs.server2Cert),
    ];
    assert.notEqual(serial1, serial2);
    assert.equal(await servedSerial(server.port, ca), serial1);

    const client = await tlsClient(server, certs);
    const chat = openChat(client);
    try {
      const at = freshPoint();
      chat.send({ location: at, message: "before 1" });
      chat.send({ location: at, message: "before 2" });
      assert.equal(await chat.next(), "before 1");

      // Renew: new files in place, then SIGHUP.
      await replaceFile(keyFile, certs.server2Key);
      await replaceFile(certFile, certs.server2Cert);
      assert.match(await sighup(server), /SIGHUP: reloaded the TLS certificate and key/);

      // The stream opened before the reload still carries notes both ways.
      chat.send({ location: at, message: "after" });
      assert.equal(await chat.next(), "before 1");
      assert.equal(await chat.next(), "before 2");
      // So do new calls on the old connection.
      const feature = await client.getFeature(EMPIRE_STATE, { deadline: deadline() });
      assert.equal(feature.name, EMPIRE_STATE_NAME);

      // A new connection sees the new certificate, and a new client works.
      assert.equal(await servedSerial(server.port, ca), serial2);
      const fresh = await tlsClient(server, certs);
      try {
        await allFourKinds(fresh);
      } finally {
        fresh.close();
      }

      // The open stream is still alive after all that.
      chat.send({ location: at, message: "last" });
      assert.equal(await chat.next(), "before 1");
      assert.equal(await chat.next(), "before 2");
      assert.equal(await chat.next(), "after");
    } finally {
      await chat.close();
      client.close();
    }
    assert.doesNotMatch(server.stderr(), /unexpected error/);
  },
);

tlsTest("SIGHUP with an unreadable key keeps the old certificate and says so", async () => {
  await using certs = await makeTestCerts();
  const certFile = `${certs.dir}/live.pem`;
  const keyFile = `${certs.dir}/live.key`;
  await Deno.copyFile(certs.serverCert, certFile);
  await Deno.copyFile(certs.serverKey, keyFile);
  await using server = await startServer({ args: ["--tls-cert", certFile, "--tls-key", keyFile] });
  const ca = await Deno.readTextFile(certs.caCert);
  const serial1 = await fileSerial(certs.serverCert);

  // The new certificate is in place but its key cannot be read: the tests
  // may run as root, which reads any mode, so the key is simply not there.
  await replaceFile(certFile, certs.server2Cert);
  await Deno.remove(keyFile);
  const line = await sighup(server);
  assert.match(line, /SIGHUP: kept the old TLS files/);
  assert.ok(line.includes(keyFile), line);
  assert.equal(await servedSerial(server.port, ca), serial1);
  const client = await tlsClient(server, certs);
  try {
    await allFourKinds(client);
  } finally {
    client.close();
  }

  // Once the key is back, the next SIGHUP takes the new pair.
  await replaceFile(keyFile, certs.server2Key);
  assert.match(await sighup(server), /SIGHUP: reloaded/);
  assert.equal(await servedSerial(server.port, ca), await fileSerial(certs.server2Cert));
});

// node:tls on Deno 2.8.3 takes a key that does not match the certificate (or
// is not a key) without a word and then fails every new handshake; the server
// checks the pair itself (lib/server/tls.ts readTlsFiles) and keeps the old files.
tlsTest(
  "SIGHUP with a key that does not match the certificate keeps the old certificate",
  async () => {
    await using certs = await makeTestCerts();
    const certFile = `${certs.dir}/live.pem`;
    const keyFile = `${certs.dir}/live.key`;
    await Deno.copyFile(certs.serverCert, certFile);
    await Deno.copyFile(certs.serverKey, keyFile);
    await using server = await startServer({
      args: ["--tls-cert", certFile, "--tls-key", keyFile],
    });
    const ca = await Deno.readTextFile(certs.caCert);
    const serial1 = await fileSerial(certs.serverCert);

    // Half a renewal: the new certificate, the old key.
    await replaceFile(certFile, certs.server2Cert);
    assert.match(await sighup(server), /SIGHUP: kept the old TLS files/);
    assert.equal(await servedSerial(server.port, ca), serial1);

    // A key that is not a key at all.
    await Deno.writeTextFile(keyFile, "not a key\n");
    assert.match(await sighup(server), /SIGHUP: kept the old TLS files/);
    assert.equal(await servedSerial(server.port, ca), serial1);
  },
);

// Same check at start: a mismatched pair ends the server with one line
// before the port opens.
tlsTest("a key that does not match the certificate is refused at start", async () => {
  await using certs = await makeTestCerts();
  await assert.rejects(
    startServer({ args: ["--tls-cert", certs.serverCert, "--tls-key", certs.server2Key] }),
    /server did not start[\s\S]*error: .*key/,
  );
});

// --------------------------------------------------------------------------
// An independent client: Python grpcio over TLS and mutual TLS.

const PY_SCRIPT = `${ROOT}tests/interop/tls_check.py`;

pythonTest(
  "TLS interop: Python grpcio over TLS and mTLS; no, a self-signed or a serverAuth-only client certificate refused",
  async (python) => {
    await using certs = await makeTestCerts();
    await using tlsServer = await startServer({
      args: ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey],
    });
    await using mtlsServer = await startServer({
      args: mtlsArgs(certs),
    });
    const args = [
      PY_SCRIPT,
      "--tls-target",
      `localhost:${tlsServer.port}`,
      "--mtls-target",
      `localhost:${mtlsServer.port}`,
      "--ca",
      certs.caCert,
      "--cert",
      certs.clientCert,
      "--key",
      certs.clientKey,
      "--rogue-cert",
      certs.rogueCert,
      "--rogue-key",
      certs.rogueKey,
      // The server's own certificate: same CA, extendedKeyUsage serverAuth only.
      "--server-only-cert",
      certs.serverCert,
      "--server-only-key",
      certs.serverKey,
    ];
    await assertPythonChecksPass(python, args, {
      summary: "python tls",
      context: () =>
        `--- TLS server stderr ---\n${tlsServer.stderr()}\n` +
        `--- mTLS server stderr ---\n${mtlsServer.stderr()}`,
    });
  },
  { register: tlsTest },
);
