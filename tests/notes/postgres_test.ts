/**
 * The PostgreSQL notes store against throwaway PostgreSQL servers: the
 * shared contract, stores sharing a database, the caps under concurrency,
 * the schema, failures to connect, and the permissions the server runs
 * with. See `tests/_postgres.ts` for where PostgreSQL comes from; without
 * it the tests that need a server are skipped, except under `CI=true`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createPostgresNotesStore } from "../../lib/notes/postgres.ts";
import type { RouteNote, RouteNotesStore } from "../../lib/core/notes_store.ts";
import { createPgTests, type ThrowawayPostgres } from "../_postgres.ts";
import { waitFor } from "../_async.ts";
import { seededRandom } from "../_random.ts";
import { ROOT, SERVER_FLAGS } from "../_server.ts";
import { assertKeptAcrossReopen, assertSharedInOrder, runNotesStoreContract } from "./contract.ts";

const pg = createPgTests();

const note = (latitude: number, longitude: number, message: string): RouteNote => ({
  location: { latitude, longitude },
  message,
});
const messages = (notes: RouteNote[]) => notes.map((n) => n.message);

/** A port nothing listens on (just freed; nothing else here binds it that fast). */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Counts the connections open to `url`'s database, as the server sees them. */
async function connectionsTo(server: ThrowawayPostgres, url: string): Promise<number> {
  const database = new URL(url).pathname.slice(1);
  const [{ count }] = await server.query(
    `SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = '${database}'`,
  );
  return Number(count);
}

/** Runs the server-side query `sql` in the database of `url`. */
function queryAt(server: ThrowawayPostgres, url: string, sql: string) {
  return server.query(sql, new URL(url).pathname.slice(1));
}

/**
 * Sends `perStore` notes at (`at`, `at`) through each store at once, the
 * messages `S:I` (store, index), and returns what each exchange saw, by message.
 */
async function exchangeFromEach(
  stores: RouteNotesStore[],
  perStore: number,
  at: number,
): Promise<Map<string, string[]>> {
  const results = new Map<string, string[]>();
  await Promise.all(stores.flatMap((store, s) =>
    Array.from({ length: perStore }, async (_, i) => {
      const message = `${s}:${i}`;
      results.set(message, messages(await store.exchange(note(at, at, message))));
    })
  ));
  return results;
}

/**
 * Checks what concurrent exchanges at one location saw, with no cap
 * reached: the counts are 0..n-1, each saw a prefix of the final order, and
 * its own note comes right after that prefix.
 */
function assertSerial(results: Map<string, string[]>, final: string[]): void {
  const n = results.size;
  assert.equal(final.length, n);
  assert.deepEqual([...results.values()].map((r) => r.length).sort((a, b) => a - b), [
    ...Array(n).keys(),
  ]);
  for (const [message, seen] of results) {
    assert.deepEqual(seen, final.slice(0, seen.length), message);
    assert.equal(final[seen.length], message);
  }
}

if (pg.available) {
  runNotesStoreContract(
    "createPostgresNotesStore()",
    async (limits) => createPostgresNotesStore(await (await pg.server()).createDatabase(), limits),
  );
} else {
  // Stands for the contract's tests: skipped, or failing under CI=true.
  pg.test("createPostgresNotesStore() meets the notes-store contract", () => {});
}

pg.test("createPostgresNotesStore() keeps notes across closing and reopening", async (server) => {
  const url = await server.createDatabase();
  await assertKeptAcrossReopen((limits) => createPostgresNotesStore(url, limits));
});

pg.test("createPostgresNotesStore() stores sharing a database see each other's notes in order", async (server) => {
  const url = await server.createDatabase();
  const one = await createPostgresNotesStore(url);
  const two = await createPostgresNotesStore(url);
  try {
    await assertSharedInOrder(one, two);
  } finally {
    await one.close();
    await two.close();
  }
});

pg.test("createPostgresNotesStore() concurrent exchanges from two stores at one location each see exactly the earlier notes", async (server) => {
  const url = await server.createDatabase();
  const perStore = 200;
  // Two pools of 10 connections: up to 20 server processes racing for the
  // location, as 20 server replicas would.
  const stores = [
    await createPostgresNotesStore(url, { maxNotesPerLocation: 1000 }),
    await createPostgresNotesStore(url, { maxNotesPerLocation: 1000 }),
  ];
  try {
    const results = await exchangeFromEach(stores, perStore, 9);
    const final = messages(await stores[0].exchange(note(9, 9, "last")));
    assertSerial(results, final);
  } finally {
    for (const store of stores) await store.close();
  }
});

pg.test("createPostgresNotesStore() keeps to READ COMMITTED where the database defaults to SERIALIZABLE", async (server) => {
  const url = await server.createDatabase();
  const database = new URL(url).pathname.slice(1);
  await server.query(
    `ALTER DATABASE ${database} SET default_transaction_isolation = 'serializable'`,
  );
  const stores = [await createPostgresNotesStore(url), await createPostgresNotesStore(url)];
  try {
    // Under SERIALIZABLE, exchanges waiting for the location's lock would
    // fail with serialization errors instead of seeing the note before.
    const results = await exchangeFromEach(stores, 25, 2);
    assertSerial(results, messages(await stores[0].exchange(note(2, 2, "last"))));
  } finally {
    for (const store of stores) await store.close();
  }
});

pg.test("createPostgresNotesStore() the per-location cap holds under concurrency from two stores", async (server) => {
  const url = await server.createDatabase();
  const cap = 5;
  const perStore = 100;
  const stores = [
    await createPostgresNotesStore(url, { maxNotesPerLocation: cap }),
    await createPostgresNotesStore(url, { maxNotesPerLocation: cap }),
  ];
  try {
    const results = await exchangeFromEach(stores, perStore, 8);
    const lengths = [...results.values()].map((r) => r.length).sort((a, b) => a - b);
    assert.deepEqual(lengths, [0, 1, 2, 3, 4, ...Array(2 * perStore - cap).fill(cap)]);
    // Each exchange saw the last notes before its own: so the last one it
    // saw is its predecessor, and following predecessors from the end gives
    // back the whole write order, in which each saw exactly the `cap` before it.
    const successor = new Map<string | undefined, string>();
    for (const [message, seen] of results) {
      const previous = seen.at(-1);
      assert.ok(
        !successor.has(previous),
        `${message} and ${successor.get(previous)} both follow ${previous}`,
      );
      successor.set(previous, message);
    }
    const order: string[] = [];
    for (let m = successor.get(undefined); m !== undefined; m = successor.get(m)) order.push(m);
    assert.equal(order.length, 2 * perStore);
    for (const [i, message] of order.entries()) {
      assert.deepEqual(results.get(message), order.slice(Math.max(0, i - cap), i), message);
    }
    assert.deepEqual(messages(await stores[1].exchange(note(8, 8, "last"))), order.slice(-cap));
    const [{ count }] = await queryAt(
      server,
      url,
      "SELECT count(*)::int AS count FROM route_notes",
    );
    assert.equal(count, cap);
  } finally {
    for (const store of stores) await store.close();
  }
});

pg.test("createPostgresNotesStore() the location cap holds under concurrency from two stores", async (server) => {
  const url = await server.createDatabase();
  const limits = { maxNotesPerLocation: 3, maxLocations: 10 };
  const stores = [
    await createPostgresNotesStore(url, limits),
    await createPostgresNotesStore(url, limits),
  ];
  const random = seededRandom(7);
  try {
    // 30 places for 10 slots: new locations evict while other exchanges
    // hold the row locks of the ones being evicted.
    await Promise.all(stores.flatMap((store, s) =>
      Array.from({ length: 300 }, async (_, i) => {
        const place = Math.floor(random() * 30);
        const seen = await store.exchange(note(place, -place, `${s}:${i}`));
        assert.ok(seen.length <= limits.maxNotesPerLocation, `${seen.length} notes`);
        for (const n of seen) assert.deepEqual(n.location, { latitude: place, longitude: -place });
      })
    ));
    const [state] = await queryAt(
      server,
      url,
      `SELECT
        (SELECT count(*)::int FROM route_note_locations) AS locations,
        (SELECT count FROM route_note_location_count) AS counted,
        (SELECT count(*)::int FROM route_notes n WHERE NOT EXISTS (
          SELECT 1 FROM route_note_locations l
          WHERE l.latitude = n.latitude AND l.longitude = n.longitude)) AS orphans,
        (SELECT count(*)::int FROM route_note_locations l WHERE NOT EXISTS (
          SELECT 1 FROM route_notes n
          WHERE l.latitude = n.latitude AND l.longitude = n.longitude)) AS empty,
        (SELECT coalesce(max(c), 0)::int FROM (SELECT count(*) AS c FROM route_notes
          GROUP BY latitude, longitude) AS per) AS most,
        (SELECT count(*)::int FROM route_note_locations l WHERE last_write <> (
          SELECT max(id) FROM route_notes n
          WHERE l.latitude = n.latitude AND l.longitude = n.longitude)) AS stale`,
    );
    assert.ok(
      state.most as number <= limits.maxNotesPerLocation,
      `${state.most} notes at one place`,
    );
    assert.deepEqual({ ...state, most: undefined }, {
      locations: limits.maxLocations,
      counted: limits.maxLocations,
      orphans: 0,
      empty: 0,
      most: undefined,
      stale: 0,
    });
  } finally {
    for (const store of stores) await store.close();
  }
});

pg.test("createPostgresNotesStore() stores starting at once on an empty database all succeed", async (server) => {
  const url = await server.createDatabase();
  const stores = await Promise.all(
    Array.from({ length: 4 }, () => createPostgresNotesStore(url, {}, { maxConnections: 2 })),
  );
  try {
    const seen = [];
    for (const [i, store] of stores.entries()) {
      seen.push(messages(await store.exchange(note(3, 3, `s${i}`))));
    }
    assert.deepEqual(seen, [[], ["s0"], ["s0", "s1"], ["s0", "s1", "s2"]]);
    assert.deepEqual(await queryAt(server, url, "SELECT version FROM route_notes_schema"), [
      { version: 1 },
    ]);
  } finally {
    for (const store of stores) await store.close();
  }
});

pg.test("createPostgresNotesStore() refuses a database with a newer schema", async (server) => {
  const url = await server.createDatabase();
  await (await createPostgresNotesStore(url)).close();
  await queryAt(server, url, "UPDATE route_notes_schema SET version = 99");
  const port = new URL(url).port;
  await assert.rejects(
    () => createPostgresNotesStore(url),
    (error: Error) =>
      error.message.startsWith(
        `Cannot open notes store: PostgreSQL at 127.0.0.1:${port}/${
          new URL(url).pathname.slice(1)
        }: `,
      ) && error.message.includes("the notes schema there is version 99, newer than"),
  );
  assert.equal(await connectionsTo(server, url), 0);
});

pg.test("createPostgresNotesStore() names the database when it does not exist", async (server) => {
  const url = `postgres://postgres:hunter2@127.0.0.1:${server.port}/no_such_database`;
  const error = await createPostgresNotesStore(url).then(
    () => assert.fail("opened a database that does not exist"),
    (error: Error) => error,
  );
  assert.equal(
    error.message,
    `Cannot open notes store: PostgreSQL at 127.0.0.1:${server.port}/no_such_database says: ` +
      `database "no_such_database" does not exist (SQLSTATE 3D000)`,
  );
  assert.ok(!String(error.cause).includes("hunter2"));
});

pg.test("createPostgresNotesStore() names the user when the role does not exist", async (server) => {
  await assert.rejects(
    () => createPostgresNotesStore(`postgres://nobody_here@127.0.0.1:${server.port}/postgres`),
    {
      message: `Cannot open notes store: PostgreSQL at 127.0.0.1:${server.port}/postgres says: ` +
        `role "nobody_here" does not exist (SQLSTATE 28000)`,
    },
  );
});

pg.test("createPostgresNotesStore() opens at most maxConnections and closes them all", async (server) => {
  const url = await server.createDatabase();
  const store = await createPostgresNotesStore(url, {}, { maxConnections: 3 });
  try {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => store.exchange(note(i % 7, 0, `n${i}`))),
    );
    const open = await connectionsTo(server, url);
    assert.ok(open >= 1 && open <= 3, `${open} connections`);
  } finally {
    await store.close();
  }
  // The server may take a moment to see the last connection go: poll its own count.
  let open = -1;
  await waitFor(
    async () => (open = await connectionsTo(server, url)) === 0,
    () => `the server still counts ${open} connections`,
  );
});

pg.test("createPostgresNotesStore() carries on after the server drops its connections", async (server) => {
  const url = await server.createDatabase();
  const store = await createPostgresNotesStore(url, {}, { maxConnections: 3 });
  let closed = false;
  try {
    await Promise.all([1, 2, 3].map((i) => store.exchange(note(7, 7, `before ${i}`))));
    const dropped = await queryAt(
      server,
      url,
      "SELECT pg_terminate_backend(pid) AS dropped FROM pg_stat_activity " +
        "WHERE application_name = 'routeguide' AND pid <> pg_backend_pid()",
    );
    assert.ok(dropped.length >= 1, "no connection to drop");
    // An exchange sent on a connection before the store hears that it is
    // gone fails (and is not retried: it may have been stored); there are
    // at most as many of those as connections.
    const failures: string[] = [];
    let seen: string[] | undefined;
    while (seen === undefined && failures.length <= 3) {
      try {
        seen = messages(await store.exchange(note(7, 7, "after")));
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    assert.ok(seen !== undefined, failures.join("\n"));
    assert.deepEqual(seen.slice(0, 3).sort(), ["before 1", "before 2", "before 3"]);
    for (const failure of failures) assert.match(failure, /^Cannot exchange note: /);
    const started = performance.now();
    closed = true;
    await store.close();
    const ms = performance.now() - started;
    // Not the 5 s close() would give exchanges still in flight.
    assert.ok(ms < 4000, `close() took ${ms} ms`);
  } finally {
    if (!closed) await store.close();
  }
});

pg.test("createPostgresNotesStore() needs no right to create tables once the schema is there", async (server) => {
  const url = await server.createDatabase();
  await (await createPostgresNotesStore(url)).close();
  const database = new URL(url).pathname.slice(1);
  const role = `app_${database}`;
  await queryAt(
    server,
    url,
    `CREATE ROLE ${role} LOGIN;
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role};
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role};`,
  );
  const store = await createPostgresNotesStore(url.replace("postgres@", `${role}@`));
  try {
    assert.deepEqual(await store.exchange(note(1, 1, "as the app")), []);
  } finally {
    await store.close();
  }
  // Where the schema is missing, the same role cannot create it, and says so.
  const empty = await server.createDatabase();
  await queryAt(server, empty, "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  await assert.rejects(() => createPostgresNotesStore(empty.replace("postgres@", `${role}@`)), {
    message: `Cannot open notes store: PostgreSQL at 127.0.0.1:${server.port}/${
      new URL(empty).pathname.slice(1)
    } says: permission denied for schema public (SQLSTATE 42501)`,
  });
});

pg.test("createPostgresNotesStore() rejects exchanges once closed", async (server) => {
  const store = await createPostgresNotesStore(await server.createDatabase());
  await store.exchange(note(1, 1, "before"));
  await store.close();
  await assert.rejects(() => store.exchange(note(1, 1, "late")), {
    message: "Cannot exchange note: the notes store is closed",
  });
  // Closing again is harmless.
  await store.close();
});

pg.test("createPostgresNotesStore() round-trips any Unicode message exactly", async (server) => {
  const store = await createPostgresNotesStore(await server.createDatabase());
  const texts = [
    "👋🏽 family: 👨‍👩‍👧‍👦, flags: 🇳🇿🇯🇵",
    "漢字、かな、한국어, 中文（繁體）",
    "e\u0301 a\u0308 (combining) vs \u00e9 \u00e4; Z\u0351\u0358\u0359a\u035c\u035dl\u035e\u0360g\u0361o",
    "right-to-left: \u202eשלום مرحبا\u202c",
    "nul \u0000 in the middle, \u0000\u0000 twice, and at the end \u0000",
    "every control: " + Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join(""),
    'json-ish: "quotes", \\backslash\\, \\u0000 as text, {"a": [1, 2]}',
    "null",
    "[]",
    " ",
    "\u2028\u2029 line and paragraph separators",
    "\uFEFF byte order mark, \uFFFD replacement, \uFFFF and \u{10FFFF}",
    "lone surrogates \uD800 and \uDFFF",
    "x".repeat(1 << 20),
  ];
  try {
    for (const text of texts) await store.exchange(note(6, 6, text));
    const back = messages(await store.exchange(note(6, 6, "end")));
    assert.equal(back.length, texts.length);
    for (const [i, text] of texts.entries()) assert.ok(back[i] === text, `text ${i}`);
  } finally {
    await store.close();
  }
});

pg.test("createPostgresNotesStore() keeps its tables in the schema search_path names", async (server) => {
  const url = await server.createDatabase();
  await queryAt(server, url, "CREATE SCHEMA notes");
  const store = await createPostgresNotesStore(`${url}?search_path=notes`);
  try {
    await store.exchange(note(1, 2, "in the notes schema"));
  } finally {
    await store.close();
  }
  assert.deepEqual(
    await queryAt(server, url, "SELECT message #>> '{}' AS message FROM notes.route_notes"),
    [{ message: "in the notes schema" }],
  );
});

pg.test("createPostgresNotesStore() works with exactly the server's permissions, and the process exits", async (server) => {
  const url = await server.createDatabase();
  const dir = await Deno.makeTempDir({ prefix: "postgres_notes_test_" });
  try {
    const script = `${dir}/use_store.ts`;
    await Deno.writeTextFile(
      script,
      `
      import { createPostgresNotesStore } from ${
        JSON.stringify(new URL("../../lib/notes/postgres.ts", import.meta.url).href)
      };
      const [url, deadUrl] = Deno.args;
      const store = await createPostgresNotesStore(url);
      await store.exchange({ location: { latitude: 1, longitude: 1 }, message: "one" });
      const seen = await store.exchange({ location: { latitude: 1, longitude: 1 }, message: "two" });
      await store.close();
      const failed = await createPostgresNotesStore(deadUrl).catch((error) => error.message);
      console.log(JSON.stringify({ seen: seen.map((n) => n.message), failed }));
      // No exit call: the process ends once nothing is left running.
      `,
    );
    const deadUrl = `postgres://postgres@127.0.0.1:${deadPort()}/routeguide`;
    const started = performance.now();
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", `${ROOT}deno.json`, ...SERVER_FLAGS, script, url, deadUrl],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assert.equal(code, 0, decode(stderr));
    assert.deepEqual(JSON.parse(decode(stdout)), {
      seen: ["one"],
      failed: `Cannot open notes store: cannot reach PostgreSQL at ${
        new URL(deadUrl).host
      }/routeguide: connection refused`,
    });
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 10, `the process took ${seconds.toFixed(1)} s`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Failures that need no PostgreSQL server.

Deno.test("createPostgresNotesStore() fails fast when nothing listens, never naming the password", async () => {
  const port = deadPort();
  const started = performance.now();
  const error = await createPostgresNotesStore(
    `postgres://routeguide:s3cr%C3%A9t-pw@127.0.0.1:${port}/routeguide`,
  ).then(() => assert.fail("connected to nothing"), (error: Error) => error);
  // Not the 5 s connect timeout.
  assert.ok(performance.now() - started < 4000, `took ${performance.now() - started} ms`);
  assert.equal(
    error.message,
    `Cannot open notes store: cannot reach PostgreSQL at 127.0.0.1:${port}/routeguide: connection refused`,
  );
  for (const text of [error.message, String(error.cause), Deno.inspect(error)]) {
    assert.ok(!/s3cr|%C3%A9t|pw@/.test(text), text);
  }
});

/**
 * Serves `answer` to every connection on a free port while `fn` runs, as a
 * server that is not PostgreSQL would.
 */
async function withFakeServer(
  answer: (conn: Deno.Conn) => Promise<void>,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const serving = (async () => {
    const handled: Promise<void>[] = [];
    for await (const conn of listener) {
      conns.add(conn);
      handled.push(answer(conn).catch(() => {}));
    }
    await Promise.all(handled);
  })();
  try {
    await fn((listener.addr as Deno.NetAddr).port);
  } finally {
    listener.close();
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await serving;
  }
}

const hangUp = (conn: Deno.Conn) => {
  conn.close();
  return Promise.resolve();
};

Deno.test("createPostgresNotesStore() fails when the server hangs up without a word", async () => {
  await withFakeServer(hangUp, async (port) => {
    await assert.rejects(() => createPostgresNotesStore(`postgres://u@127.0.0.1:${port}/db`), {
      message:
        `Cannot open notes store: cannot reach PostgreSQL at 127.0.0.1:${port}/db: the server hung up without a word`,
    });
  });
});

Deno.test("createPostgresNotesStore() fails when the server does not speak PostgreSQL", async () => {
  const http = async (conn: Deno.Conn) => {
    await conn.read(new Uint8Array(1024));
    await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
    conn.close();
  };
  await withFakeServer(http, async (port) => {
    await assert.rejects(() => createPostgresNotesStore(`postgres://u@127.0.0.1:${port}/db`), {
      message: `Cannot open notes store: cannot reach PostgreSQL at 127.0.0.1:${port}/db: ` +
        "the server there does not speak PostgreSQL's protocol",
    });
  });
});

Deno.test("createPostgresNotesStore() gives up on a server that never answers", async () => {
  const silent = async (conn: Deno.Conn) => {
    // Reads until the store gives up and closes its end.
    while (await conn.read(new Uint8Array(1024)) !== null) { /* ignore */ }
    conn.close();
  };
  await withFakeServer(silent, async (port) => {
    const started = performance.now();
    await assert.rejects(
      () =>
        createPostgresNotesStore(`postgres://u@127.0.0.1:${port}/db`, {}, {
          connectTimeoutSeconds: 0.5,
        }),
      {
        message:
          `Cannot open notes store: cannot reach PostgreSQL at 127.0.0.1:${port}/db: no answer within 0.5 s`,
      },
    );
    const ms = performance.now() - started;
    // The 0.5 s asked for, not the default 5 s.
    assert.ok(ms >= 450 && ms < 4000, `took ${ms} ms`);
  });
});

Deno.test("createPostgresNotesStore() rejects URLs it cannot use, never echoing them", async () => {
  for (
    const [url, why] of [
      ["not a url:s3cret", "the URL does not parse"],
      ["mysql://u:s3cret@host/db", 'the URL\'s scheme is "mysql:"'],
      ["postgres://u:s3cret@/db", "the URL does not parse"],
      ["postgres:///s3cret", "the URL names no host"],
      ["postgres://:s3cret@host/db", "the URL names no user"],
      ["postgres://u:s3cret@host/db?sslmode=sometimes", "sslmode must be one of"],
    ]
  ) {
    await assert.rejects(
      () => createPostgresNotesStore(url),
      (error: Error) =>
        error instanceof TypeError && error.message.startsWith("Cannot create notes store: ") &&
        error.message.includes(why) && !error.message.includes("s3cret"),
      url,
    );
  }
});

Deno.test("createPostgresNotesStore() rejects limits and options out of range", async () => {
  const url = "postgres://u@127.0.0.1:1/db";
  for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
    for (const name of ["maxNotesPerLocation", "maxLocations"]) {
      await assert.rejects(
        () => createPostgresNotesStore(url, { [name]: bad }),
        (error: Error) =>
          error instanceof RangeError &&
          error.message.includes(`${name} must be a positive integer: current value is ${bad}`),
        `${name} ${bad}`,
      );
    }
    await assert.rejects(
      () => createPostgresNotesStore(url, {}, { maxConnections: bad }),
      RangeError,
      `maxConnections ${bad}`,
    );
  }
  await assert.rejects(() => createPostgresNotesStore(url, { maxLocations: 2 ** 31 }), RangeError);
  for (const bad of [0, -1, NaN, Infinity]) {
    await assert.rejects(
      () => createPostgresNotesStore(url, {}, { connectTimeoutSeconds: bad }),
      RangeError,
      `connectTimeoutSeconds ${bad}`,
    );
  }
});

Deno.test("stop the throwaway PostgreSQL", pg.stop);
