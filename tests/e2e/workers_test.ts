/**
 * `--workers`, end to end: the real supervisor starts real worker processes
 * that share one port and one SQLite notes file. Which worker served a call
 * is read from the call log lines (`--log-level info --log-format json`),
 * which carry the worker's number.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  createRouteGuideClient,
  type RouteNote__Output,
  tlsChannelCredentials,
} from "../../lib/grpc/client.ts";
import { makeTestCerts, tlsTest } from "../_certs.ts";
import type { RouteNote } from "../../lib/core/notes_store.ts";
import { ROOT, SERVER_FLAGS, type ServerProcess, startServer } from "../_server.ts";
import { collect, waitFor, within } from "../_async.ts";
import { EMPIRE_STATE, EMPIRE_STATE_NAME } from "../_places.ts";

/** A temporary folder, removed when disposed. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "routeguide-workers-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** Starts a supervisor with two workers keeping notes in `dir`. */
function startWorkers(dir: string, extra: string[] = []): Promise<ServerProcess> {
  return startServer({
    args: [
      "--workers",
      "2",
      "--notes",
      `sqlite:${dir}/notes.sqlite`,
      "--log-level",
      "info",
      "--log-format",
      "json",
      ...extra,
    ],
  });
}

/** The JSON log lines written so far. */
function logLines(server: ServerProcess): Record<string, unknown>[] {
  return server.stderr().split("\n").filter((line) => line.startsWith("{")).map((line) =>
    JSON.parse(line)
  );
}

/** Waits until `count` log lines match and returns them, or fails after `ms`. */
async function waitForLogs(
  server: ServerProcess,
  test: (line: Record<string, unknown>) => boolean,
  count: number,
  ms: number,
  what: string,
): Promise<Record<string, unknown>[]> {
  let found: Record<string, unknown>[] = [];
  try {
    await waitFor(() => (found = logLines(server).filter(test)).length >= count, what, ms);
  } catch {
    throw new Error(`not ${count} log lines ${what} within ${ms} ms:\n${server.stderr()}`);
  }
  return found;
}

/** Waits until a log line matches, or fails after `ms`. */
async function waitForLog(
  server: ServerProcess,
  test: (line: Record<string, unknown>) => boolean,
  ms: number,
  what: string,
): Promise<Record<string, unknown>> {
  return (await waitForLogs(server, test, 1, ms, what))[0];
}

/** The pids of the workers, from their ready lines in the log (`--log-level info`). */
function workerPids(server: ServerProcess): number[] {
  return logLines(server).flatMap((l) => {
    const match = typeof l.msg === "string" ? l.msg.match(/^worker \d ready \(pid (\d+)\)$/) : null;
    return match === null ? [] : [Number(match[1])];
  });
}

/** One RouteChat call on a fresh connection: sends one note, returns the replies. */
async function chatOnce(target: string, note: RouteNote): Promise<RouteNote__Output[]> {
  const client = createRouteGuideClient(target);
  try {
    return await collect(client.routeChat([note], { deadline: Date.now() + 10_000 }));
  } finally {
    client.close();
  }
}

Deno.test("two workers share the port and RouteChat notes through SQLite", async () => {
  await using dir = await tempDir();
  await using server = await startWorkers(dir.path);
  assert.match(server.readyLine, /\(201 features, 2 workers\)$/);
  const place = { latitude: 1, longitude: 2 };
  // Each chat opens its own connection, which the kernel hands to either
  // worker; every chat must see every note sent before it, whichever
  // worker took it.
  const sent: string[] = [];
  for (let i = 0; i < 16; i++) {
    const message = `note ${i}`;
    const replies = await chatOnce(server.target, { location: place, message });
    assert.deepEqual(replies.map((r) => r.message), sent, `chat ${i}`);
    sent.push(message);
  }
  // Call lines are written as calls end; wait for all 16.
  const calls = await waitForLogs(
    server,
    (l) => l.msg === "call" && l.method === "routeguide.RouteGuide/RouteChat",
    16,
    10_000,
    "of RouteChat calls",
  );
  const workers = new Set(calls.map((l) => l.worker));
  // 16 connections all on one worker would happen 2 times in 65,536.
  assert.deepEqual([...workers].sort(), [1, 2], "both workers served chats");
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

Deno.test("ten --workers 2 starts on new SQLite files all succeed", async () => {
  // Both workers open the new file at about the same time: one could fail
  // ("database is locked") while the other switched it to WAL mode.
  for (let i = 0; i < 10; i++) {
    await using dir = await tempDir();
    await using server = await startWorkers(dir.path);
    const place = { latitude: 5, longitude: 6 };
    await chatOnce(server.target, { location: place, message: "first" });
    const replies = await chatOnce(server.target, { location: place, message: "second" });
    assert.deepEqual(replies.map((r) => r.message), ["first"], `start ${i}`);
    assert.equal((await server.stop("SIGTERM")).code, 0, `start ${i}: ${server.stderr()}`);
  }
});

Deno.test("a worker killed with SIGKILL is started again, and the service answers meanwhile", async () => {
  await using dir = await tempDir();
  await using server = await startWorkers(dir.path);
  const before = workerPids(server);
  assert.equal(before.length, 2);
  const client = createRouteGuideClient(server.target);
  try {
    assert.equal((await client.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
    Deno.kill(before[0], "SIGKILL");
    // While the worker is down (its restart waits 100 ms and then loads
    // the database), the other one takes every call: on this client's
    // connection (reconnected if it was the dead worker's) and on new ones.
    for (let i = 0; i < 20; i++) {
      assert.equal((await client.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
      const fresh = createRouteGuideClient(server.target);
      try {
        assert.equal((await fresh.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
      } finally {
        fresh.close();
      }
    }
    const died = await waitForLog(
      server,
      (l) =>
        typeof l.msg === "string" && l.msg.includes(`(pid ${before[0]}) was killed by SIGKILL`),
      15_000,
      "about the killed worker",
    );
    assert.equal(died.level, "error");
    const restarted = await waitForLog(
      server,
      (l) => typeof l.msg === "string" && /^worker \d started again \(pid \d+\)$/.test(l.msg),
      10_000,
      "about the restart",
    );
    assert.equal(restarted.worker, died.worker);
    // Only the killed one died.
    assert.equal(logLines(server).filter((l) => l.level === "error").length, 1, server.stderr());
    assert.equal((await client.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
  } finally {
    client.close();
  }
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

Deno.test("notes survive stopping every worker and starting again", async () => {
  await using dir = await tempDir();
  const place = { latitude: 3, longitude: 4 };
  {
    await using server = await startWorkers(dir.path);
    await chatOnce(server.target, { location: place, message: "before the restart" });
    assert.equal((await server.stop("SIGINT")).code, 0);
  }
  await using again = await startWorkers(dir.path);
  const replies = await chatOnce(again.target, { location: place, message: "after" });
  assert.deepEqual(replies.map((r) => r.message), ["before the restart"]);
});

Deno.test("a SIGHUP sent the moment the supervisor's ready line is read reaches every worker, every time", async () => {
  for (let round = 1; round <= 5; round++) {
    await using dir = await tempDir();
    await using server = await startWorkers(dir.path);
    server.process.kill("SIGHUP");
    const reloaded = await waitForLogs(
      server,
      (l) => typeof l.msg === "string" && l.msg.startsWith("SIGHUP"),
      2,
      15_000,
      `about SIGHUP (round ${round})`,
    );
    assert.deepEqual(reloaded.map((l) => l.worker).sort(), [1, 2], server.stderr());
    // Both still serve.
    const client = createRouteGuideClient(server.target);
    try {
      assert.equal((await client.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
    } finally {
      client.close();
    }
    assert.deepEqual({ ...await server.stop("SIGTERM") }, { success: true, code: 0, signal: null });
  }
});

Deno.test("workers start from the supervisor's own Deno binary, with no deno on PATH", async () => {
  const empty = await Deno.makeTempDir({ prefix: "routeguide-no-deno-" });
  try {
    await using server = await startServer({
      args: ["--workers", "2", "--notes", "memory"],
      env: { PATH: empty },
    });
    const client = createRouteGuideClient(server.target);
    try {
      assert.equal((await client.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
    } finally {
      client.close();
    }
    assert.equal((await server.stop("SIGTERM")).code, 0);
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("a supervisor that dies takes its workers with it, and frees the port", async () => {
  await using dir = await tempDir();
  const server = await startWorkers(dir.path);
  // The workers write to the supervisor's stderr, which stop() reads to
  // its end: it returns once every worker has exited too.
  await within(server.stop("SIGKILL"), 15_000, "the workers to exit");
  const stopped = logLines(server).filter((l) =>
    typeof l.msg === "string" && l.msg.startsWith("stopped;")
  );
  // Each saw its stdin close and shut down gracefully.
  assert.deepEqual(stopped.map((l) => l.worker).sort(), [1, 2], server.stderr());
  // The port is free again: a plain listener can take it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: server.port });
  listener.close();
});

Deno.test("a worker that cannot start fails the supervisor with exit code 1", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...SERVER_FLAGS,
      `${ROOT}server.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--workers",
      "2",
      "--notes",
      "memory",
      "--db",
      `${ROOT}data/no_such_file.json`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await within(child.output(), 30_000, "the supervisor to exit");
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 1, err);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.match(err, /no_such_file\.json/);
  assert.match(err, /error: worker \d exited with code 1 before it was ready/);
});

Deno.test("a second supervisor on a port in use says so instead of sharing it", async () => {
  await using dir = await tempDir();
  await using first = await startWorkers(dir.path);
  const second = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...SERVER_FLAGS,
      `${ROOT}server.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      String(first.port),
      "--workers",
      "2",
      "--notes",
      `sqlite:${dir.path}/notes.sqlite`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stderr } = await within(second.output(), 30_000, "the second to exit");
  assert.equal(code, 1);
  assert.match(new TextDecoder().decode(stderr), /the port is already in use/);
  assert.equal((await first.stop("SIGTERM")).code, 0);
});

Deno.test("--notes memory with workers warns that notes stay per worker", async () => {
  await using server = await startServer({ args: ["--workers", "2", "--notes", "memory"] });
  assert.match(server.stderr(), /WARN .*--notes memory with 2 workers: each worker keeps its own/);
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

tlsTest(
  "workers serve TLS, share the health port, and each reloads its certificate on SIGHUP",
  async () => {
    await using certs = await makeTestCerts();
    await using dir = await tempDir();
    await using server = await startWorkers(dir.path, [
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--health-port",
      "0",
    ]);
    const healthLine = /^health checks in plaintext on 127\.0\.0\.1:(\d+)$/;
    // Each worker wrote it before its ready line, but stderr is another pipe.
    const healthPorts = (await waitForLogs(
      server,
      (l) => typeof l.msg === "string" && healthLine.test(l.msg),
      2,
      10_000,
      "about the health port",
    )).map((l) => ({ worker: l.worker, port: Number((l.msg as string).match(healthLine)![1]) }));
    assert.equal(healthPorts.length, 2, server.stderr());
    assert.equal(healthPorts[0].port, healthPorts[1].port, "one health port for both");
    assert.notEqual(healthPorts[0].port, server.port);
    const credentials = tlsChannelCredentials({ ca: await Deno.readFile(certs.caCert) });
    // Fresh connections land on either worker; each answers over TLS.
    for (let i = 0; i < 6; i++) {
      const client = createRouteGuideClient(`localhost:${server.port}`, { credentials });
      try {
        assert.equal((await client.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
      } finally {
        client.close();
      }
    }
    server.process.kill("SIGHUP");
    const reloaded = await waitForLogs(
      server,
      (l) => l.msg === "SIGHUP: reloaded the TLS certificate and key",
      2,
      10_000,
      "of a reload",
    );
    assert.deepEqual(reloaded.map((l) => l.worker).sort(), [1, 2]);
    assert.equal((await server.stop("SIGTERM")).code, 0);
  },
);
