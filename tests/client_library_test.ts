/**
 * The typed client library, through its public entry `lib/mod.ts`, against
 * the real server process: each method, cancellation by `AbortSignal` for
 * each, deadlines, breaking out of a `for await` early, both shapes of a
 * RecordRoute input, and a target of two servers that keeps working when one
 * of them stops.
 *
 * Where a test must know that the server has finished a call (to check that
 * nothing is left in flight), it runs the server with `--log-level info` and
 * waits for the call's log line, then reads the in-flight count from the
 * SIGTERM line.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  Code,
  createRouteGuideClient,
  type Feature,
  haversineMeters,
  type Point,
  point,
  type RouteGuideClient,
  type RouteNote,
} from "../lib/mod.ts";
import { type ServerProcess, startServer, writeGridDb } from "./_server.ts";
import { collect, sleep } from "./_async.ts";
import { rejectsWith } from "./_assert.ts";

/** Every single step (a call, a log line, an exit) must finish within this. */
const STEP_MS = 10_000;

const EMPIRE_STATE = point(40.7484, -73.9857);
const EMPIRE_STATE_NAME = "Empire State Building, New York, NY";
const BROOKLYN_BRIDGE = point(40.7061, -73.9969);
/** Every feature of the project's database lies in here. */
const EVERYWHERE = { lo: point(40, -75), hi: point(42, -73) };

const DB = JSON.parse(
  await Deno.readTextFile(new URL("../data/route_guide_db.json", import.meta.url)),
) as { name: string; location: Point }[];

const deadline = () => Date.now() + STEP_MS;

/** A random valid point far from every feature, so server-wide notes do not mix. */
function freshPoint(): Point {
  return {
    latitude: -800000000 + Math.floor(Math.random() * 100000000),
    longitude: Math.floor(Math.random() * 1000000000),
  };
}

/** A request stream that yields `first`, then waits until `release()` and ends. */
function held<T>(first: T[]) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const items = (async function* () {
    yield* first;
    await released;
  })();
  return { items, release };
}

/** Resolves once the server's stderr has `count` lines matching `pattern`. */
async function waitForLines(server: ServerProcess, pattern: RegExp, count = 1): Promise<string[]> {
  const until = Date.now() + STEP_MS;
  while (true) {
    const lines = server.stderr().split("\n").filter((line) => pattern.test(line));
    if (lines.length >= count) return lines;
    if (Date.now() > until) {
      throw new Error(`expected ${count} lines matching ${pattern}, stderr:\n${server.stderr()}`);
    }
    await sleep(20);
  }
}

/** SIGTERM; asserts a clean exit with nothing in flight and nothing cancelled. */
async function stopIdle(server: ServerProcess): Promise<void> {
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0, server.stderr());
  assert.match(server.stderr(), /SIGTERM: shutting down; 0 calls in flight/, server.stderr());
  assert.match(server.stderr(), /stopped; 0 calls cancelled/, server.stderr());
}

async function withClient(
  server: ServerProcess,
  fn: (client: RouteGuideClient) => Promise<void>,
): Promise<void> {
  const client = createRouteGuideClient(server.target);
  try {
    await fn(client);
  } finally {
    client.close();
  }
}

Deno.test("client library: each of the four methods", async () => {
  await using server = await startServer();
  await withClient(server, async (client) => {
    await client.waitForReady(deadline());

    const feature: Feature = await client.getFeature(EMPIRE_STATE, { deadline: deadline() });
    assert.deepEqual(feature, { name: EMPIRE_STATE_NAME, location: EMPIRE_STATE });
    const nowhere = freshPoint();
    assert.deepEqual(await client.getFeature(nowhere), { name: "", location: nowhere });

    const all = await collect(client.listFeatures(EVERYWHERE, { deadline: deadline() }));
    assert.equal(all.length, DB.length);
    const bridge = await collect(client.listFeatures({ lo: BROOKLYN_BRIDGE, hi: BROOKLYN_BRIDGE }));
    assert.deepEqual(bridge, [{
      name: "Brooklyn Bridge, New York, NY",
      location: BROOKLYN_BRIDGE,
    }]);

    const summary = await client.recordRoute([EMPIRE_STATE, BROOKLYN_BRIDGE], {
      deadline: deadline(),
    });
    assert.deepEqual(summary, {
      point_count: 2,
      feature_count: 2,
      distance: Math.trunc(haversineMeters(EMPIRE_STATE, BROOKLYN_BRIDGE)),
      elapsed_time: 0,
    });

    const here = freshPoint();
    const notes: RouteNote[] = [
      { location: here, message: "one" },
      { location: freshPoint(), message: "elsewhere" },
      { location: here, message: "two" },
      { location: here, message: "three" },
    ];
    const replies = await collect(client.routeChat(notes, { deadline: deadline() }));
    assert.deepEqual(replies.map((n) => n.message), ["one", "one", "two"]);
    assert.deepEqual(replies[0].location, here);

    await rejectsWith(
      client.getFeature({ latitude: 0, longitude: 1800000001 }),
      Code.INVALID_ARGUMENT,
      "GetFeature with a bad longitude",
    );
  });
});

Deno.test("client library: recordRoute takes an array or an async generator alike", async () => {
  await using server = await startServer();
  await withClient(server, async (client) => {
    const route = [EMPIRE_STATE, freshPoint(), BROOKLYN_BRIDGE, EMPIRE_STATE];
    const fromArray = await client.recordRoute(route, { deadline: deadline() });
    const fromGenerator = await client.recordRoute(
      (async function* () {
        for (const p of route) {
          await sleep(5);
          yield p;
        }
      })(),
      { deadline: deadline() },
    );
    // A plain (sync) iterable too.
    const fromSet = await client.recordRoute(new Set(route).values(), { deadline: deadline() });
    assert.equal(fromArray.point_count, 4);
    assert.equal(fromArray.feature_count, 3);
    assert.deepEqual(fromGenerator, fromArray);
    assert.equal(fromSet.point_count, 3);
    assert.deepEqual(await client.recordRoute([]), {
      point_count: 0,
      feature_count: 0,
      distance: 0,
      elapsed_time: 0,
    });
    // An error thrown by the generator fails the call with that error.
    const broken = (async function* () {
      yield EMPIRE_STATE;
      throw new Error("the route source broke");
    })();
    await assert.rejects(client.recordRoute(broken), /the route source broke/);
  });
});

Deno.test("client library: an AbortSignal cancels each kind of call", async () => {
  await using server = await startServer({ args: ["--log-level", "info"] });
  await withClient(server, async (client) => {
    await client.waitForReady(deadline());

    // GetFeature with a signal aborted before the call.
    await rejectsWith(
      client.getFeature(EMPIRE_STATE, { signal: AbortSignal.abort() }),
      Code.CANCELLED,
      "GetFeature, already aborted",
    );

    // ListFeatures aborted after its first feature.
    const list = new AbortController();
    let seen = 0;
    await rejectsWith(
      (async () => {
        for await (const _ of client.listFeatures(EVERYWHERE, { signal: list.signal })) {
          seen++;
          list.abort();
        }
      })(),
      Code.CANCELLED,
      "ListFeatures aborted after one feature",
    );
    assert.ok(seen >= 1 && seen < DB.length, `saw ${seen} of ${DB.length} features`);

    // RecordRoute aborted while its points are still coming.
    const record = new AbortController();
    const route = held([EMPIRE_STATE, BROOKLYN_BRIDGE]);
    setTimeout(() => record.abort(), 200);
    try {
      await rejectsWith(
        client.recordRoute(route.items, { signal: record.signal }),
        Code.CANCELLED,
        "RecordRoute aborted",
      );
    } finally {
      route.release();
    }

    // RouteChat aborted while open, after a reply arrived.
    const chat = new AbortController();
    const here = freshPoint();
    const notes = held<RouteNote>([
      { location: here, message: "first" },
      { location: here, message: "second" },
    ]);
    const replies: string[] = [];
    try {
      await rejectsWith(
        (async () => {
          for await (const note of client.routeChat(notes.items, { signal: chat.signal })) {
            replies.push(note.message);
            chat.abort();
          }
        })(),
        Code.CANCELLED,
        "RouteChat aborted",
      );
    } finally {
      notes.release();
    }
    assert.deepEqual(replies, ["first"]);

    // The server has finished the three calls that reached it (their status
    // there is racy, see the ignored test below)...
    for (const method of ["ListFeatures", "RecordRoute", "RouteChat"]) {
      await waitForLines(server, new RegExp(`call method=routeguide\\.RouteGuide/${method} `));
    }
    // ...and still serves.
    assert.equal(
      (await client.getFeature(EMPIRE_STATE, { deadline: deadline() })).name,
      EMPIRE_STATE_NAME,
    );
  });
  await sleep(100);
  await stopIdle(server);
});

Deno.test({
  name:
    "client library: aborted RecordRoute and RouteChat calls end on the server as CANCELLED or OK",
  // grpc-js's cancel() sends an empty DATA frame with END_STREAM just before
  // RST_STREAM(CANCEL); grpc-js on the server turns the END_STREAM into a
  // half-close. The adapter waits one turn of the event loop at the end of a
  // request stream and treats a reset stream as CANCELLED, and the call log
  // takes the status a stream closed with; a reset that comes later than that
  // is a race no server can see through (below).
  async fn() {
    await using server = await startServer({ args: ["--log-level", "info"] });
    await withClient(server, async (client) => {
      await client.waitForReady(deadline());
      const rounds = 10;
      for (let i = 0; i < rounds; i++) {
        const record = new AbortController();
        const route = held([EMPIRE_STATE, BROOKLYN_BRIDGE]);
        setTimeout(() => record.abort(), 50);
        try {
          await rejectsWith(
            client.recordRoute(route.items, { signal: record.signal }),
            Code.CANCELLED,
            "RecordRoute aborted",
          );
        } finally {
          route.release();
        }
        const chat = new AbortController();
        const here = freshPoint();
        const notes = held<RouteNote>([
          { location: here, message: "first" },
          { location: here, message: "second" },
        ]);
        try {
          await rejectsWith(
            (async () => {
              for await (const _ of client.routeChat(notes.items, { signal: chat.signal })) {
                chat.abort();
              }
            })(),
            Code.CANCELLED,
            "RouteChat aborted",
          );
        } finally {
          notes.release();
        }
      }
      for (const method of ["RecordRoute", "RouteChat"]) {
        const lines = await waitForLines(
          server,
          new RegExp(`call method=routeguide\\.RouteGuide/${method} `),
          rounds,
        );
        // A grpc-js client's cancel sends END_STREAM, then RST_STREAM. When
        // they reach the server in separate reads, the call has every sign of
        // a client that finished sending and the server may complete it with
        // OK before the reset arrives (any gRPC server would); the client sees
        // CANCELLED either way. What must hold: every aborted call ended on
        // the server, as CANCELLED or OK, and nothing else.
        const cancelled = lines.filter((line) => /status=CANCELLED/.test(line));
        const other = lines.filter((line) => !/status=(CANCELLED|OK)/.test(line));
        assert.deepEqual(other, [], `${method}: unexpected statuses`);
        console.log(
          `${method}: ${cancelled.length} of ${rounds} aborted calls logged as CANCELLED`,
        );
      }
    });
  },
});

Deno.test("client library: a deadline ends a RouteChat that sends nothing with DEADLINE_EXCEEDED", async () => {
  await using server = await startServer();
  await withClient(server, async (client) => {
    await client.waitForReady(deadline());
    const silent = held<RouteNote>([]);
    const started = Date.now();
    try {
      await rejectsWith(
        collect(client.routeChat(silent.items, { deadline: Date.now() + 300 })),
        Code.DEADLINE_EXCEEDED,
        "RouteChat past its deadline",
      );
    } finally {
      silent.release();
    }
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 5000, `the deadline took ${took} ms`);
    // A Date works as well as milliseconds, and a passed deadline fails at once.
    await rejectsWith(
      client.getFeature(EMPIRE_STATE, { deadline: new Date(Date.now() - 1) }),
      Code.DEADLINE_EXCEEDED,
      "GetFeature with a passed deadline",
    );
    assert.equal(
      (await client.getFeature(EMPIRE_STATE, { deadline: new Date(deadline()) })).name,
      EMPIRE_STATE_NAME,
    );
  });
});

Deno.test("client library: breaking out of listFeatures early cancels the call on the server", async () => {
  // A listing larger than the flow-control windows, so the server is still
  // sending when the client breaks off (a small one may be sent whole first).
  const GRID = 5000;
  const db = await writeGridDb(GRID);
  await using _db = { [Symbol.asyncDispose]: () => Deno.remove(db) };
  await using server = await startServer({ args: ["--log-level", "info", "--db", db] });
  await withClient(server, async (client) => {
    let seen = 0;
    for await (const feature of client.listFeatures(EVERYWHERE, { deadline: deadline() })) {
      assert.ok(feature.name !== undefined);
      if (++seen === 2) break;
    }
    assert.equal(seen, 2);
    const [line] = await waitForLines(server, /call method=routeguide\.RouteGuide\/ListFeatures /);
    assert.match(line, /status=CANCELLED/);
    // The connection is fine: a second listing runs to the end.
    assert.equal((await collect(client.listFeatures(EVERYWHERE))).length, GRID);
    await waitForLines(server, /call method=routeguide\.RouteGuide\/ListFeatures .*status=OK/);
  });
  await sleep(100);
  // Nothing is left in flight: the server counted the abandoned call out.
  await stopIdle(server);
});

Deno.test("client library: a target of two servers keeps working when one stops", async () => {
  await using first = await startServer({ args: ["--log-level", "info", "--grace", "1"] });
  await using second = await startServer({ args: ["--log-level", "info", "--grace", "1"] });
  const client = createRouteGuideClient(`${first.target},${second.target}`);
  const calls = (server: ServerProcess) =>
    server.stderr().split("\n").filter((l) => / call method=routeguide\.RouteGuide\//.test(l))
      .length;
  try {
    await client.waitForReady(deadline());
    // Round robin: keep calling until each server answered some.
    const until = Date.now() + STEP_MS;
    while (calls(first) === 0 || calls(second) === 0) {
      assert.ok(Date.now() < until, `first ${calls(first)} calls, second ${calls(second)}`);
      assert.equal(
        (await client.getFeature(EMPIRE_STATE, { deadline: deadline() })).name,
        EMPIRE_STATE_NAME,
      );
      await sleep(10);
    }

    const status = await first.stop("SIGTERM");
    assert.equal(status.code, 0, first.stderr());
    const before = calls(second);
    for (let i = 0; i < 10; i++) {
      assert.equal(
        (await client.getFeature(EMPIRE_STATE, { deadline: deadline() })).name,
        EMPIRE_STATE_NAME,
      );
    }
    assert.equal(
      (await collect(client.listFeatures({ lo: BROOKLYN_BRIDGE, hi: BROOKLYN_BRIDGE }))).length,
      1,
    );
    assert.equal(
      (await client.recordRoute([EMPIRE_STATE], { deadline: deadline() })).point_count,
      1,
    );
    const here = freshPoint();
    assert.deepEqual(
      (await collect(client.routeChat([
        { location: here, message: "a" },
        { location: here, message: "b" },
      ], { deadline: deadline() }))).map((n) => n.message),
      ["a"],
    );
    // Every one of those went to the server still running.
    await waitForLines(second, / call method=routeguide\.RouteGuide\//, before + 13);
  } finally {
    client.close();
  }
});
