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
import net from "node:net";
import {
  Code,
  createRouteGuideClient,
  type Feature,
  haversineMeters,
  type Point,
  type RouteGuideClient,
  type RouteNote,
  RpcError,
  tlsChannelCredentials,
} from "../../lib/mod.ts";
import { createFeatureDb } from "../../lib/core/feature_index.ts";
import { isTransportFailure } from "../../lib/grpc/client.ts";
import { serve } from "../../lib/server/serve.ts";
import { createLogger } from "../../lib/server/telemetry.ts";
import { writeGridDb } from "../_db.ts";
import { type ServerProcess, startServer } from "../_server.ts";
import { makeTestCerts, tlsTest } from "../_certs.ts";
import { frame, FrameParser, FrameType } from "../_h2.ts";
import { collect, deadline, sleep, STEP_MS, waitFor } from "../_async.ts";
import { rejectsWith } from "../_assert.ts";
import {
  BROOKLYN_BRIDGE,
  EMPIRE_STATE,
  EMPIRE_STATE_NAME,
  EVERYWHERE,
  freshPoint,
} from "../_places.ts";

const DB = JSON.parse(
  await Deno.readTextFile(new URL("../../data/route_guide_db.json", import.meta.url)),
) as { name: string; location: Point }[];

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
  const lines = () => server.stderr().split("\n").filter((line) => pattern.test(line));
  try {
    await waitFor(() => lines().length >= count, `${count} lines matching ${pattern}`, STEP_MS);
  } catch {
    throw new Error(`expected ${count} lines matching ${pattern}, stderr:\n${server.stderr()}`);
  }
  return lines();
}

/** How many calls a server started with `--log-level info` has logged. */
function calls(server: ServerProcess): number {
  return server.stderr().split("\n").filter((l) => / call method=routeguide\.RouteGuide\//.test(l))
    .length;
}

/**
 * Calls GetFeature over and over, checking each answer, until `spread()`
 * holds (say, each server behind the client has answered some); `counts`
 * says how the calls went should it not within a step.
 */
async function callUntil(
  client: RouteGuideClient,
  spread: () => boolean,
  counts: () => string,
): Promise<void> {
  await waitFor(
    async () => {
      const feature = await client.getFeature(EMPIRE_STATE, { deadline: deadline() });
      assert.equal(feature.name, EMPIRE_STATE_NAME);
      return spread();
    },
    counts,
    STEP_MS,
  );
}

/**
 * SIGTERM; asserts a clean, prompt exit with nothing cancelled: a call the
 * server had not counted out would hold the shutdown for the whole grace
 * period (10 s) and then be cancelled. (The count of calls in flight at the
 * signal is not asserted: a cancelled call is logged before its handler has
 * finished unwinding, and nothing outside the process shows when it has.)
 */
async function stopIdle(server: ServerProcess): Promise<void> {
  const started = Date.now();
  const status = await server.stop("SIGTERM");
  const tookMs = Date.now() - started;
  assert.equal(status.code, 0, server.stderr());
  assert.match(server.stderr(), /stopped; 0 calls cancelled/, server.stderr());
  assert.ok(tookMs < 5000, `the shutdown took ${tookMs} ms: a call was left in flight`);
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
  // Far more than HTTP/2's windows hold (about 3 MB of features against
  // 64 KiB), so the server is still sending when the client goes: with the
  // 201 features of the default database, a busy machine can let the server
  // finish (status OK) before the cancel arrives.
  await using db = await writeGridDb({
    count: 100_000,
    step: { latitude: 40000, longitude: 100000 },
  });
  await using server = await startServer({ args: ["--log-level", "info", "--db", db.path] });
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
    assert.equal((await collect(client.listFeatures(EVERYWHERE))).length, 100_000);
    await waitForLines(server, /call method=routeguide\.RouteGuide\/ListFeatures .*status=OK/);
  });
  // Nothing is left in flight: the server counted the abandoned call out.
  await stopIdle(server);
});

/**
 * Two servers behind one client: calls reach each of them, and carry on at
 * the other when one stops.
 */
async function twoServers(targetOf: (first: ServerProcess, second: ServerProcess) => string) {
  await using first = await startServer({ args: ["--log-level", "info", "--grace", "1"] });
  await using second = await startServer({ args: ["--log-level", "info", "--grace", "1"] });
  const client = createRouteGuideClient(targetOf(first, second));
  try {
    await client.waitForReady(deadline());
    // Round robin: keep calling until each server answered some.
    await callUntil(
      client,
      () => calls(first) > 0 && calls(second) > 0,
      () => `first ${calls(first)} calls, second ${calls(second)}`,
    );

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
}

Deno.test("client library: a target of two servers keeps working when one stops", () =>
  twoServers((first, second) => `${first.target},${second.target}`));

Deno.test("client library: a target list of host names (localhost:P1,localhost:P2) spreads calls over both servers and keeps working when one stops", () =>
  twoServers((first, second) => `localhost:${first.port}, localhost:${second.port}`));

/** Why the machine cannot listen on IPv6 loopback, or `undefined` when it can. */
function ipv6LoopbackProblem(): string | undefined {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return undefined;
  } catch (error) {
    return `no IPv6 loopback here (${(error as Error).message}); see \`ip -6 addr\``;
  }
}

const IPV6_PROBLEM = ipv6LoopbackProblem();
if (IPV6_PROBLEM !== undefined) console.log(`skipping the [::1] target test: ${IPV6_PROBLEM}`);

Deno.test({
  name: "client library: [::1]:PORT works alone and mixed with a host name in a list",
  ignore: IPV6_PROBLEM !== undefined,
  async fn() {
    const logged = ["--log-level", "info"];
    await using v6 = await startServer({ args: [...logged, "--host", "::1"] });
    await using v4 = await startServer({ args: logged });
    assert.match(v6.readyLine, /^listening on \[::1\]:/);
    const alone = createRouteGuideClient(`[::1]:${v6.port}`);
    try {
      const feature = await alone.getFeature(EMPIRE_STATE, { deadline: deadline() });
      assert.equal(feature.name, EMPIRE_STATE_NAME);
    } finally {
      alone.close();
    }
    const mixed = createRouteGuideClient(`[::1]:${v6.port},localhost:${v4.port}`);
    try {
      await callUntil(
        mixed,
        () => calls(v6) >= 2 && calls(v4) > 0,
        () => `[::1] ${calls(v6)} calls, localhost ${calls(v4)}`,
      );
    } finally {
      mixed.close();
    }
  },
});

Deno.test("client library: a bad entry in a target list is a TypeError naming it", () => {
  const cases: [string, RegExp][] = [
    ["localhost:50051,app2", /entry "app2" has no port: write it as app2:PORT/],
    [
      "localhost:50051,::1:50052",
      /entry "::1:50052" is an IPv6 address without brackets: write it as \[::1\]:50052/,
    ],
    ["localhost:50051,,localhost:50052", /entry "" is empty \(a stray comma\?\)/],
    [
      "localhost:50051,localhost:99999",
      /entry "localhost:99999" has port "99999": a port is a whole number from 1 to 65535/,
    ],
    ["localhost:50051,dns:///x:1", /entry "dns:\/\/\/x:1" is not HOST:PORT/],
    [
      "bad host:1,localhost:2",
      /entry "bad host:1" has "bad host", which is not a host name or an IP address/,
    ],
    [
      "[1.2.3.4]:1,localhost:2",
      /entry "\[1\.2\.3\.4\]:1" has "1\.2\.3\.4" in brackets, which is not an IPv6 address/,
    ],
  ];
  for (const [target, message] of cases) {
    assert.throws(() => createRouteGuideClient(target), (error) => {
      assert.ok(error instanceof TypeError, `${target}: ${error}`);
      assert.match(error.message, message);
      return true;
    }, target);
  }
});

tlsTest(
  "client library: with TLS, a list of host names checks each server's certificate",
  async () => {
    await using certs = await makeTestCerts();
    const tlsArgs = [
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--log-level",
      "info",
    ];
    await using first = await startServer({ args: tlsArgs });
    await using second = await startServer({ args: tlsArgs });
    const credentials = tlsChannelCredentials({ ca: await Deno.readFile(certs.caCert) });
    const client = createRouteGuideClient(`localhost:${first.port},localhost:${second.port}`, {
      credentials,
    });
    try {
      await callUntil(
        client,
        () => calls(first) > 0 && calls(second) > 0,
        () => `first ${calls(first)} calls, second ${calls(second)}`,
      );
    } finally {
      client.close();
    }
    // Each server is checked against the name it is listed under, not the
    // list's first entry: with an IP address first (a name Deno's TLS refuses
    // to check), the server listed as localhost still answers.
    const ipFirst = createRouteGuideClient(`127.0.0.1:${first.port},localhost:${second.port}`, {
      credentials,
    });
    try {
      for (let i = 0; i < 3; i++) {
        const feature = await ipFirst.getFeature(EMPIRE_STATE, { deadline: deadline() });
        assert.equal(feature.name, EMPIRE_STATE_NAME);
      }
    } finally {
      ipFirst.close();
    }
  },
);

// --- Retries: only what is safe ---------------------------------------------------

/**
 * An in-process server over the project's features that counts the calls
 * reaching its GetFeature and ListFeatures handlers (through the database
 * they read) and, with `fail`, fails each of them by throwing it.
 */
async function countingServer(fail?: () => never) {
  const { db } = createFeatureDb(DB);
  let calls = 0;
  const counted = new Proxy(db, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      if (key !== "get" && key !== "within") return value.bind(target);
      return (...args: unknown[]) => {
        calls++;
        fail?.();
        return value.apply(target, args);
      };
    },
  });
  // The handler's error is the point of the test: keep it out of the output, for the test to read.
  const lines: string[] = [];
  const logger = createLogger({ format: "json", write: (line) => lines.push(line) });
  const server = await serve({ db: counted, host: "127.0.0.1", port: 0, logger });
  return {
    port: server.port,
    calls: () => calls,
    lines,
    [Symbol.asyncDispose]: () => server.shutdown(1000).then(() => {}),
  };
}

for (
  const [what, fail] of [
    ["a handler that throws", () => {
      throw new Error("a bug in the handler");
    }],
    ["an INTERNAL status that mentions EPIPE", () => {
      throw new RpcError(Code.INTERNAL, "the database said: write EPIPE (Connection dropped)");
    }],
  ] as [string, () => never][]
) {
  Deno.test(`client library: GetFeature and ListFeatures failing with INTERNAL from ${what} are called once, not retried`, async () => {
    await using server = await countingServer(fail);
    const client = createRouteGuideClient(`127.0.0.1:${server.port}`);
    try {
      await rejectsWith(
        client.getFeature(EMPIRE_STATE, { deadline: deadline() }),
        Code.INTERNAL,
        "GetFeature",
      );
      assert.equal(server.calls(), 1, `GetFeature reached the handler ${server.calls()} times`);
      await rejectsWith(
        collect(client.listFeatures(EVERYWHERE, { deadline: deadline() })),
        Code.INTERNAL,
        "ListFeatures",
      );
      assert.equal(server.calls(), 2, `ListFeatures made ${server.calls()} calls in all`);
    } finally {
      client.close();
    }
  });
}

Deno.test('a handler that throws: the client gets INTERNAL "internal error" and nothing of the error; the log gets it, stack included', async () => {
  const secret = "password=hunter2 at db.internal:5432";
  await using server = await countingServer(() => {
    throw new Error(secret);
  });
  const client = createRouteGuideClient(`127.0.0.1:${server.port}`);
  try {
    await assert.rejects(client.getFeature(EMPIRE_STATE, { deadline: deadline() }), (error) => {
      assert.ok(error instanceof RpcError, `not an RpcError: ${error}`);
      assert.equal(error.code, Code.INTERNAL);
      assert.equal(error.message, "internal error");
      assert.doesNotMatch(JSON.stringify({ ...error, message: error.message }), /hunter2|Error:/);
      return true;
    });
  } finally {
    client.close();
  }
  const logged = server.lines.map((line) => JSON.parse(line))
    .filter((line) => line.msg === "unexpected handler error");
  assert.equal(logged.length, 1, `log lines: ${server.lines.join("\n")}`);
  assert.equal(logged[0].level, "error");
  assert.equal(logged[0].method, "GetFeature");
  // The stack, not just the message: "Error: <message>" and then "    at <frame>" lines.
  assert.match(logged[0].error, new RegExp(`^Error: ${secret}\n\\s+at `));
});

/**
 * A TCP proxy to `port` that cuts its first connection as the server's reply
 * to a call begins: before the response HEADERS frame (grpc-js has not
 * committed the call and its retry policy may try again), or just after it
 * (committed: only the client library's own retry can help). Either way the
 * call reached the server and its connection died under it. Later
 * connections pass through.
 */
async function cuttingProxy(port: number, options: { afterHeaders: boolean }) {
  let cuts = 0;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  const server = net.createServer((client) => {
    const cut = connections++ === 0;
    const upstream = net.connect(port, "127.0.0.1");
    track(client);
    track(upstream);
    client.pipe(upstream);
    const parser = new FrameParser();
    upstream.on("data", (chunk: Uint8Array) => {
      if (!cut) {
        client.write(chunk);
        return;
      }
      // Frame by frame, so the cut falls exactly at the response HEADERS.
      for (const f of parser.push(chunk)) {
        const reply = f.type === FrameType.HEADERS && f.streamId > 0;
        if (!reply || options.afterHeaders) {
          client.write(frame(f.type, f.flags, f.streamId, f.payload));
        }
        if (reply) {
          cuts++;
          // Let the HEADERS reach the client before the connection dies.
          client.end(() => client.destroy());
          upstream.destroy();
          return;
        }
      }
    });
    upstream.on("close", () => client.end());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cuts: () => cuts,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

for (const method of ["GetFeature", "ListFeatures"]) {
  for (const afterHeaders of [false, true]) {
    const when = afterHeaders ? "after its response headers" : "before its response headers";
    Deno.test(`client library: a ${method} whose connection dies under it ${when} is tried again and succeeds`, async () => {
      await using server = await countingServer();
      await using proxy = await cuttingProxy(server.port, { afterHeaders });
      const client = createRouteGuideClient(`127.0.0.1:${proxy.port}`);
      try {
        if (method === "GetFeature") {
          const feature = await client.getFeature(EMPIRE_STATE, { deadline: deadline() });
          assert.equal(feature.name, EMPIRE_STATE_NAME);
        } else {
          const bridge = await collect(
            client.listFeatures({ lo: BROOKLYN_BRIDGE, hi: BROOKLYN_BRIDGE }, {
              deadline: deadline(),
            }),
          );
          assert.equal(bridge.length, 1);
        }
        assert.equal(proxy.cuts(), 1, "the proxy did not cut the first connection");
        assert.equal(server.calls(), 2, "the server saw the call and its retry");
      } finally {
        client.close();
      }
    });
  }
}

Deno.test("isTransportFailure() tells grpc-js's words for a dead connection from a server's status", () => {
  const transport = [
    new RpcError(Code.UNAVAILABLE, "Connection dropped"),
    new RpcError(Code.UNAVAILABLE, "read ECONNRESET"),
    new RpcError(
      Code.INTERNAL,
      "Received RST_STREAM with code 2 triggered by internal client error: write EPIPE",
    ),
  ];
  const server = [
    new RpcError(Code.INTERNAL, "internal error"),
    new RpcError(Code.INTERNAL, "write EPIPE"),
    new RpcError(Code.INTERNAL, "Received RST_STREAM with code 2 (Internal server error)"),
    new RpcError(Code.UNKNOWN, "Connection dropped"),
    new RpcError(Code.UNAVAILABLE, "the server is shutting down; retry on another server or later"),
  ];
  for (const error of transport) assert.ok(isTransportFailure(error), error.message);
  for (const error of server) assert.ok(!isTransportFailure(error), error.message);
});
