import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { RouteNote } from "../../lib/core/notes_store.ts";
import { createSqliteNotesStore } from "../../lib/notes/sqlite.ts";
import { assertKeptAcrossReopen, assertSharedInOrder, runNotesStoreContract } from "./contract.ts";
import { collectText, TextLineReader } from "../_lines.ts";

// Every database of this file lives under one directory: the contract closes
// its stores but has no hook to delete their files.
const dir = Deno.makeTempDirSync({ prefix: "sqlite_notes_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
let files = 0;
const freshPath = () => `${dir}/notes_${files++}.db`;

const note = (latitude: number, longitude: number, message: string): RouteNote => ({
  location: { latitude, longitude },
  message,
});
const messages = (notes: RouteNote[]) => notes.map((n) => n.message);

/** The journal mode of the file at `path`, as a new connection reads it. */
function journalModeOf(path: string): unknown {
  const db = new DatabaseSync(path);
  try {
    return db.prepare("PRAGMA journal_mode").get()?.journal_mode;
  } finally {
    db.close();
  }
}

/** Another process using the file at `path`: see tests/fixtures/sqlite_peer.ts. */
function startPeer(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${dir}`,
      new URL("../fixtures/sqlite_peer.ts", import.meta.url).pathname,
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = new TextLineReader(child.stdout);
  const err = collectText(child.stderr);
  const stdin = child.stdin.getWriter();
  let ended: Promise<void> | undefined;
  const end = () => ended ??= stdin.close().catch(() => {});
  return {
    /** The next line it printed. */
    next: () => lines.next(),
    /** Writes a line to its stdin. */
    send: (line: string) => stdin.write(new TextEncoder().encode(`${line}\n`)),
    /** Closes its stdin. */
    end,
    status: child.status,
    stderr: err.text,
    async [Symbol.asyncDispose]() {
      await end();
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      while (await lines.next() !== undefined) { /* drain */ }
      await err.done;
    },
  };
}

runNotesStoreContract(
  "createSqliteNotesStore()",
  (limits) => createSqliteNotesStore(freshPath(), limits),
);

Deno.test("createSqliteNotesStore() keeps notes across closing and reopening the file", async () => {
  const path = freshPath();
  await assertKeptAcrossReopen((limits) => createSqliteNotesStore(path, limits));
});

Deno.test("createSqliteNotesStore() stores sharing a file see each other's notes in order", async () => {
  const path = freshPath();
  const one = await createSqliteNotesStore(path);
  const two = await createSqliteNotesStore(path);
  try {
    await assertSharedInOrder(one, two);
  } finally {
    await one.close();
    await two.close();
  }
});

Deno.test("createSqliteNotesStore() workers sharing a file each see exactly the earlier notes", async () => {
  const path = freshPath();
  const perWriter = 200;
  const moduleUrl = new URL("../../lib/notes/sqlite.ts", import.meta.url).href;
  // Each worker is a separate SQLite connection on its own thread, racing the
  // others and this thread for the write lock as server processes would.
  // Two workers only: `deno test` type-checks each worker's imports anew.
  const source = `
    import { createSqliteNotesStore } from ${JSON.stringify(moduleUrl)};
    self.onmessage = async ({ data: { path, id, count } }) => {
      const store = await createSqliteNotesStore(path, { maxNotesPerLocation: 1000 });
      self.onmessage = () => run(store, id, count);
      self.postMessage("ready");
    };
    async function run(store, id, count) {
      const seen = [];
      for (let i = 0; i < count; i++) {
        const earlier = await store.exchange({
          location: { latitude: 9, longitude: 9 },
          message: id + ":" + i,
        });
        seen.push(earlier.map((n) => n.message));
      }
      await store.close();
      self.postMessage(seen);
      self.close();
    }
  `;
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  // Each worker opens its store, says "ready", and starts writing on any
  // message, so that all writers start together.
  const start = (id: number) => {
    const worker = new Worker(url, { type: "module" });
    const messages: unknown[] = [];
    let wake = () => {};
    let failed: Error | undefined;
    worker.onmessage = (event) => {
      messages.push(event.data);
      wake();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      failed = new Error(event.message);
      wake();
    };
    const next = async () => {
      while (messages.length === 0 && failed === undefined) {
        await new Promise<void>((resolve) => wake = resolve);
      }
      if (failed) throw failed;
      return messages.shift();
    };
    worker.postMessage({ path, id, count: perWriter });
    return { worker, next };
  };
  const workers = [start(0), start(1)];
  const here = await createSqliteNotesStore(path, { maxNotesPerLocation: 1000 });
  const inThisThread = async (id: number) => {
    const seen: string[][] = [];
    for (let i = 0; i < perWriter; i++) {
      seen.push(messages(await here.exchange(note(9, 9, `${id}:${i}`))));
    }
    return seen;
  };
  try {
    for (const { next } of workers) assert.equal(await next(), "ready");
    for (const { worker } of workers) worker.postMessage("go");
    const results = await Promise.all([
      ...workers.map(({ next }) => next() as Promise<string[][]>),
      inThisThread(2),
    ]);
    const final = messages(await here.exchange(note(9, 9, "last")));
    const total = results.length * perWriter;
    assert.equal(final.length, total);
    const counts = results.flat().map((s) => s.length).sort((x, y) => x - y);
    assert.deepEqual(counts, [...Array(total).keys()]);
    for (const [id, result] of results.entries()) {
      for (const [i, earlier] of result.entries()) {
        assert.deepEqual(earlier, final.slice(0, earlier.length));
        assert.equal(final[earlier.length], `${id}:${i}`);
      }
    }
  } finally {
    for (const { worker } of workers) worker.terminate();
    URL.revokeObjectURL(url);
    await here.close();
  }
});

Deno.test("createSqliteNotesStore() puts the file in WAL mode", async () => {
  const path = freshPath();
  const store = await createSqliteNotesStore(path);
  await store.exchange(note(1, 1, "x"));
  await store.close();
  assert.equal(journalModeOf(path), "wal");
});

Deno.test("createSqliteNotesStore() opening a new file waits while another process holds its lock", async () => {
  const path = freshPath();
  // The other process creates the file and takes its write lock before
  // this one switches it to WAL mode, which needs that lock and so far
  // failed at once ("database is locked") instead of waiting.
  await using holder = startPeer(["hold", path]);
  assert.equal(await holder.next(), "locked", holder.stderr());
  let settled = false;
  const opening = createSqliteNotesStore(path);
  opening.then(() => settled = true, () => settled = true);
  // Round trips to the holder need this event loop, which the wait leaves free.
  for (let i = 0; i < 3; i++) {
    await holder.send("ping");
    assert.equal(await holder.next(), "pong");
  }
  assert.equal(settled, false, "the open waits for the lock");
  await holder.end();
  assert.equal((await holder.status).code, 0, holder.stderr());
  const store = await opening;
  try {
    assert.equal(journalModeOf(path), "wal");
    assert.deepEqual(await store.exchange(note(1, 1, "first")), []);
    assert.deepEqual(messages(await store.exchange(note(1, 1, "second"))), ["first"]);
  } finally {
    await store.close();
  }
});

Deno.test("createSqliteNotesStore() gives up opening a file locked for more than 5 s, and says so", async () => {
  const path = freshPath();
  const other = new DatabaseSync(path);
  try {
    other.exec("BEGIN IMMEDIATE");
    const started = Date.now();
    await assert.rejects(
      createSqliteNotesStore(path),
      (error) =>
        error instanceof Error &&
        error.message.includes(`Cannot open notes store at "${path}": database is locked`) &&
        error.message.includes("another process held it for more than 5 s"),
    );
    assert.ok(Date.now() - started >= 4_900);
    other.exec("ROLLBACK");
    // Nothing is left half open: the file opens once the lock is free.
    const store = await createSqliteNotesStore(path);
    assert.deepEqual(await store.exchange(note(1, 1, "now")), []);
    await store.close();
  } finally {
    other.close();
  }
});

Deno.test("createSqliteNotesStore() processes opening one new file at once all succeed", async () => {
  const peers = 4;
  for (let round = 0; round < 6; round++) {
    const path = freshPath();
    const started = Array.from({ length: peers }, (_, i) => startPeer(["open", path, `peer ${i}`]));
    // Holding the new file's lock lines them all up: each tries to open it
    // while this one holds it, and they race as soon as it lets go.
    const gate = new DatabaseSync(path);
    try {
      gate.exec("BEGIN IMMEDIATE");
      for (const peer of started) assert.equal(await peer.next(), "ready", peer.stderr());
      await Promise.all(started.map((peer) => peer.send("go")));
      for (const peer of started) assert.equal(await peer.next(), "opening", peer.stderr());
      gate.exec("ROLLBACK");
      gate.close();
      const seen: string[][] = [];
      for (const peer of started) {
        const line = await peer.next();
        assert.match(line ?? "", /^ok /, `round ${round}: ${line}\n${peer.stderr()}`);
        seen.push(JSON.parse(line!.slice("ok ".length)));
      }
      assert.equal(journalModeOf(path), "wal");
      const store = await createSqliteNotesStore(path);
      const final = messages(await store.exchange(note(7, 7, "last")));
      await store.close();
      // Each saw exactly the notes written before its own.
      assert.deepEqual(seen.map((s) => s.length).sort(), [...Array(peers).keys()]);
      for (const [i, earlier] of seen.entries()) {
        assert.deepEqual(earlier, final.slice(0, earlier.length));
        assert.equal(final[earlier.length], `peer ${i}`);
      }
    } finally {
      if (gate.isOpen) gate.close();
      await Promise.all(started.map((peer) => peer[Symbol.asyncDispose]()));
    }
  }
});

Deno.test("createSqliteNotesStore() refuses a database that cannot be in WAL mode", async () => {
  await assert.rejects(
    createSqliteNotesStore(":memory:"),
    (error) =>
      error instanceof Error &&
      error.message.includes(`Cannot open notes store at ":memory:"`) &&
      error.message.includes(`it cannot be put in WAL mode: its journal mode stays "memory"`),
  );
});

Deno.test("createSqliteNotesStore() names the path when its directory does not exist", async () => {
  const path = `${dir}/no_such_dir/notes.db`;
  await assert.rejects(
    createSqliteNotesStore(path),
    (error) =>
      error instanceof Error &&
      error.message.includes(`Cannot open notes store at "${path}"`) &&
      error.message.includes("does not exist"),
  );
});

Deno.test("createSqliteNotesStore() names the path when it is a directory", async () => {
  await assert.rejects(
    createSqliteNotesStore(dir),
    (error) =>
      error instanceof Error &&
      error.message.includes(`Cannot open notes store at "${dir}"`) &&
      error.message.includes("is a directory"),
  );
});

Deno.test("createSqliteNotesStore() names the path when the file is not a database", async () => {
  const path = freshPath();
  await Deno.writeTextFile(path, "not a database, just text that is long enough to matter\n");
  await assert.rejects(
    createSqliteNotesStore(path),
    (error) =>
      error instanceof Error &&
      error.message.includes(`Cannot open notes store at "${path}"`) &&
      error.message.includes("not a database"),
  );
});

Deno.test("createSqliteNotesStore() rejects limits that are not positive integers", async () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
    for (const name of ["maxNotesPerLocation", "maxLocations"]) {
      await assert.rejects(
        createSqliteNotesStore(freshPath(), { [name]: bad }),
        (error) =>
          error instanceof RangeError &&
          error.message.includes(`${name} must be a positive integer: current value is ${bad}`),
        `${name} ${bad}`,
      );
    }
  }
});

Deno.test("createSqliteNotesStore() rejects exchanges once closed", async () => {
  const store = await createSqliteNotesStore(freshPath());
  await store.close();
  await assert.rejects(() => store.exchange(note(1, 1, "late")), /the notes store is closed/);
  // Closing again is harmless.
  await store.close();
});

Deno.test("createSqliteNotesStore() waits for another writer's lock without blocking the event loop", async () => {
  const path = freshPath();
  const store = await createSqliteNotesStore(path);
  const other = new DatabaseSync(path);
  try {
    // Another connection (as another process would) holds the write lock.
    other.exec("PRAGMA busy_timeout = 5000");
    other.exec("BEGIN IMMEDIATE");
    const started = performance.now();
    let exchanged: number | undefined;
    const pending = store.exchange(note(5, 5, "waits")).then((r) => {
      exchanged = performance.now() - started;
      return r;
    });
    // Timers keep firing while the exchange waits.
    const ticks: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 10));
      ticks.push(performance.now() - before);
    }
    assert.equal(exchanged, undefined, "the exchange waited for the lock");
    // A blocked event loop would stall for the 5 s busy timeout.
    assert.ok(Math.max(...ticks) < 2_500, `a 10 ms timer took ${Math.max(...ticks)} ms`);
    other.exec("COMMIT");
    assert.deepEqual(await pending, []);
    assert.deepEqual(messages(await store.exchange(note(5, 5, "next"))), ["waits"]);
  } finally {
    other.close();
    await store.close();
  }
});

Deno.test("createSqliteNotesStore() gives up on a lock held for more than 5 s", async () => {
  const path = freshPath();
  const store = await createSqliteNotesStore(path);
  const other = new DatabaseSync(path);
  try {
    other.exec("BEGIN IMMEDIATE");
    const started = Date.now();
    await assert.rejects(store.exchange(note(6, 6, "never")), /database is locked/);
    assert.ok(Date.now() - started >= 4_900);
    other.exec("ROLLBACK");
    // The store still works once the lock is free.
    assert.deepEqual(await store.exchange(note(6, 6, "now")), []);
  } finally {
    other.close();
    await store.close();
  }
});

Deno.test("createSqliteNotesStore() runs exchanges that arrive together in order, each seeing the ones before", async () => {
  const store = await createSqliteNotesStore(freshPath(), { maxNotesPerLocation: 3 });
  try {
    const here = (i: number) => note(9, 9, `n${i}`);
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.exchange(here(i))),
    );
    // Arrival order is write order, and the cap applies between them too.
    replies.forEach((seen, i) => {
      const expected = Array.from(
        { length: Math.min(i, 3) },
        (_, k) => `n${i - Math.min(i, 3) + k}`,
      );
      assert.deepEqual(messages(seen), expected, `exchange ${i}`);
    });
  } finally {
    await store.close();
  }
});

Deno.test("createSqliteNotesStore() rejects exchanges still waiting for the lock when closed", async () => {
  const path = freshPath();
  const store = await createSqliteNotesStore(path);
  const other = new DatabaseSync(path);
  try {
    other.exec("BEGIN IMMEDIATE");
    const waiting = [1, 2, 3].map((i) => store.exchange(note(8, 8, `w${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await store.close();
    for (const pending of waiting) {
      await assert.rejects(pending, /the notes store is closed/);
    }
    other.exec("ROLLBACK");
  } finally {
    other.close();
  }
});
