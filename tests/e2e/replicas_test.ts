/**
 * Replicas, end to end: real server processes on different ports sharing
 * notes through a throwaway PostgreSQL cluster (tests/_postgres.ts), and
 * clients that spread their calls over several of them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createRouteGuideClient, type RouteNote__Output } from "../../lib/grpc/client.ts";
import type { RouteNote } from "../../lib/core/notes_store.ts";
import { ROOT, runClientProcess, SERVER_FLAGS, startServer } from "../_server.ts";
import { collect, within } from "../_async.ts";
import { createPgTests, type ThrowawayPostgres } from "../_postgres.ts";
import { EMPIRE_STATE, EMPIRE_STATE_NAME } from "../_places.ts";

const pg = createPgTests();

/** Registers a test given a fresh, empty database on the file's throwaway PostgreSQL. */
function pgTest(name: string, fn: (url: string) => Promise<void>): void {
  pg.test(name, async (server: ThrowawayPostgres) => await fn(await server.createDatabase()));
}

/** One RouteChat call on its own channel to `target`: sends the notes, returns every reply. */
async function chat(target: string, notes: RouteNote[]): Promise<RouteNote__Output[]> {
  const client = createRouteGuideClient(target);
  try {
    return await collect(client.routeChat(notes, { deadline: Date.now() + 10_000 }));
  } finally {
    client.close();
  }
}

pgTest("two replicas sharing PostgreSQL replay each other's notes, in order", async (url) => {
  await using a = await startServer({ args: ["--notes", url] });
  await using b = await startServer({ args: ["--notes", url] });
  const here = { latitude: 10, longitude: 20 };
  assert.deepEqual(await chat(a.target, [{ location: here, message: "from a" }]), []);
  assert.deepEqual(
    (await chat(b.target, [{ location: here, message: "from b" }])).map((n) => n.message),
    ["from a"],
  );
  assert.deepEqual(
    (await chat(a.target, [{ location: here, message: "a again" }])).map((n) => n.message),
    ["from a", "from b"],
  );
  // Concurrent chats through both at one place: each note is stored once,
  // and the last reply of each call lists the notes before it in one order.
  const there = { latitude: 11, longitude: 21 };
  const sends = (name: string) =>
    Array.from({ length: 20 }, (_, i) => ({ location: there, message: `${name}${i}` }));
  await Promise.all([chat(a.target, sends("a")), chat(b.target, sends("b"))]);
  const all = (await chat(a.target, [{ location: there, message: "last" }])).map((n) => n.message);
  assert.equal(all.length, 40);
  assert.deepEqual(all.filter((m) => m.startsWith("a")), sends("a").map((n) => n.message));
  assert.deepEqual(all.filter((m) => m.startsWith("b")), sends("b").map((n) => n.message));
  assert.equal((await a.stop("SIGTERM")).code, 0);
  assert.equal((await b.stop("SIGTERM")).code, 0);
});

pgTest("a client of two replicas keeps working, notes included, when one stops", async (url) => {
  await using a = await startServer({ args: ["--notes", url] });
  await using b = await startServer({ args: ["--notes", url] });
  const client = createRouteGuideClient(`${a.target},${b.target}`);
  const here = { latitude: 30, longitude: 40 };
  try {
    for (let i = 0; i < 4; i++) {
      assert.equal((await client.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
      await collect(client.routeChat([{ location: here, message: `before ${i}` }]));
    }
    assert.equal((await a.stop("SIGTERM")).code, 0);
    for (let i = 0; i < 10; i++) {
      assert.equal((await client.getFeature(EMPIRE_STATE)).name, EMPIRE_STATE_NAME);
    }
    // The notes sent through the replica that stopped are still there.
    const replies = await collect(client.routeChat([{ location: here, message: "after" }]));
    assert.deepEqual(replies.map((n) => n.message), [0, 1, 2, 3].map((i) => `before ${i}`));
  } finally {
    client.close();
  }
});

pgTest("workers on PostgreSQL share notes with a replica of their own", async (url) => {
  await using workers = await startServer({ args: ["--workers", "2", "--notes", url] });
  assert.match(workers.readyLine, /, 2 workers\)$/);
  await using single = await startServer({ args: ["--notes", url] });
  const here = { latitude: 50, longitude: 60 };
  await chat(workers.target, [{ location: here, message: "through the workers" }]);
  assert.deepEqual(
    (await chat(single.target, [{ location: here, message: "single" }])).map((n) => n.message),
    ["through the workers"],
  );
  assert.equal((await workers.stop("SIGTERM")).code, 0);
});

Deno.test("the server refuses to start when PostgreSQL cannot be reached, and hides the password", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const url = `postgres://routeguide:hunter2secret@127.0.0.1:${port}/routeguide`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...SERVER_FLAGS, `${ROOT}server.ts`, "--port", "0", "--notes", url],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await within(child.output(), 20_000, "the server to give up");
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 1, err);
  assert.equal(new TextDecoder().decode(stdout), "", "no ready line");
  assert.match(err, new RegExp(`cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}/routeguide`));
  assert.doesNotMatch(err, /hunter2secret/);
});

pgTest("notes on PostgreSQL survive a replica killed with SIGKILL", async (url) => {
  const here = { latitude: 70, longitude: 80 };
  {
    await using first = await startServer({ args: ["--notes", url] });
    await chat(first.target, [{ location: here, message: "before the crash" }]);
    await first.stop("SIGKILL");
  }
  await using second = await startServer({ args: ["--notes", url] });
  assert.deepEqual(
    (await chat(second.target, [{ location: here, message: "after" }])).map((n) => n.message),
    ["before the crash"],
  );
});

pgTest("the CLI with two targets answers while one of the replicas is down", async (url) => {
  await using a = await startServer({ args: ["--notes", url] });
  await using b = await startServer({ args: ["--notes", url] });
  const targets = `${a.target},${b.target}`;
  const first = await runClientProcess(["--target", targets, "chat", "40.7", "-74", "one"]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await b.stop("SIGTERM")).code, 0);
  for (let i = 0; i < 3; i++) {
    const got = await runClientProcess(["--target", targets, "get", "40.7484", "-73.9857"]);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /Empire State Building/);
  }
  const second = await runClientProcess([
    "--target",
    targets,
    "--json",
    "chat",
    "40.7",
    "-74",
    "two",
  ]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /"message":"one"/);
});

Deno.test("stop the throwaway PostgreSQL", pg.stop);
