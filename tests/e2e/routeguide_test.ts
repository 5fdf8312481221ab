/**
 * End to end: the real server process on a free loopback port, driven by the
 * client library.
 */

import assert from "node:assert/strict";
import { Code } from "../../lib/core/rpc_error.ts";
import { createRouteGuideClient, type RouteGuideClient } from "../../lib/grpc/client.ts";
import { type E7Point, haversineMeters } from "../../lib/core/geo.ts";
import { type ServerProcess, startServer } from "../_server.ts";
import { collect } from "../_async.ts";
import { rejectsWith } from "../_assert.ts";
import { BROOKLYN_BRIDGE, EMPIRE_STATE, freshPoint } from "../_places.ts";

const UNNAMED = { latitude: 405500000, longitude: -745500000 };

async function withServer(
  fn: (client: RouteGuideClient, server: ServerProcess) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  await using server = await startServer({ args });
  const client = createRouteGuideClient(server.target);
  try {
    await fn(client, server);
  } finally {
    client.close();
  }
}

const DB = JSON.parse(
  await Deno.readTextFile(new URL("../../data/route_guide_db.json", import.meta.url)),
) as { name: string; location: E7Point }[];

Deno.test("GetFeature returns the named feature, or an unnamed one echoing the point", async () => {
  await withServer(async (client) => {
    const named = await client.getFeature(EMPIRE_STATE);
    assert.equal(named.name, "Empire State Building, New York, NY");
    assert.deepEqual(named.location, EMPIRE_STATE);
    const unnamed = await client.getFeature(UNNAMED);
    assert.deepEqual(unnamed, { name: "", location: UNNAMED });
    const nowhere = { latitude: 1, longitude: -1 };
    assert.deepEqual(await client.getFeature(nowhere), { name: "", location: nowhere });
    // An unset point is (0, 0), as proto3 reads it.
    assert.deepEqual(await client.getFeature({}), {
      name: "",
      location: { latitude: 0, longitude: 0 },
    });
  });
});

Deno.test("ListFeatures streams every feature in the rectangle, corners in any order", async () => {
  await withServer(async (client) => {
    const box = (lo: E7Point, hi: E7Point) =>
      collect(client.listFeatures({ lo, hi })).then((fs) =>
        fs.map((f) => `${f.name}@${f.location?.latitude},${f.location?.longitude}`).sort()
      );
    const sw = { latitude: 400000000, longitude: -750000000 };
    const ne = { latitude: 420000000, longitude: -730000000 };
    const all = await box(sw, ne);
    assert.equal(all.length, DB.length);
    assert.deepEqual(await box(ne, sw), all);
    assert.deepEqual(
      await box({ latitude: 400000000, longitude: -730000000 }, {
        latitude: 420000000,
        longitude: -750000000,
      }),
      all,
    );
    // Edges are inclusive: a rectangle that is just the point finds it.
    assert.deepEqual(await box(BROOKLYN_BRIDGE, BROOKLYN_BRIDGE), [
      `Brooklyn Bridge, New York, NY@${BROOKLYN_BRIDGE.latitude},${BROOKLYN_BRIDGE.longitude}`,
    ]);
    // Unnamed features are listed too.
    assert.ok(all.some((f) => f.startsWith(`@${UNNAMED.latitude}`)));
    // An unset rectangle is (0,0)-(0,0): empty here.
    assert.deepEqual(await collect(client.listFeatures({})), []);
  });
});

Deno.test("RecordRoute summarises the points once the client half-closes", async () => {
  await withServer(async (client) => {
    const route = [EMPIRE_STATE, UNNAMED, BROOKLYN_BRIDGE, { latitude: 1, longitude: 1 }];
    const summary = await client.recordRoute(route);
    let expected = 0;
    for (let i = 1; i < route.length; i++) expected += haversineMeters(route[i - 1], route[i]);
    assert.deepEqual(summary, {
      point_count: 4,
      feature_count: 2, // the unnamed DB point and the empty spot do not count
      distance: Math.trunc(expected),
      elapsed_time: 0,
    });
    assert.deepEqual(await client.recordRoute([]), {
      point_count: 0,
      feature_count: 0,
      distance: 0,
      elapsed_time: 0,
    });
  });
});

Deno.test("RecordRoute's elapsed time runs from the start of the call to the half-close", async () => {
  await withServer(async (client) => {
    let started!: () => void;
    const onServer = new Promise<void>((resolve) => started = resolve);
    const slowRoute = async function* () {
      yield EMPIRE_STATE;
      // From the moment the server has the call, more than a second passes
      // before the half-close, and far less than two.
      await onServer;
      await new Promise((resolve) => setTimeout(resolve, 1050));
      yield BROOKLYN_BRIDGE;
    };
    const before = Date.now();
    const summary = client.recordRoute(slowRoute());
    // Calls on one client share a connection whose streams the server takes
    // in order: the reply to this later call means the RecordRoute started.
    await client.getFeature(EMPIRE_STATE, { deadline: Date.now() + 10_000 });
    started();
    const { point_count, elapsed_time } = await summary;
    const wholeCall = (Date.now() - before) / 1000;
    assert.equal(point_count, 2);
    // Exact seconds are checked with an injected clock (handlers_test); end to end, only
    // bounds that hold on any machine: over 1.05 s from the server's start to the
    // half-close, and no more than the whole call took as the client saw it.
    assert.ok(elapsed_time >= 1 && elapsed_time <= wholeCall, `${elapsed_time} s of ${wholeCall}`);
  });
});

Deno.test("RouteChat replays earlier notes at the same place from every client, oldest first", async () => {
  await withServer(async (client, server) => {
    const here = freshPoint();
    const elsewhere = freshPoint();
    const first = await collect(client.routeChat([
      { location: here, message: "one" },
      { location: elsewhere, message: "other place" },
      { location: here, message: "two" },
    ]));
    assert.deepEqual(first.map((n) => n.message), ["one"]);
    // A second connection sees the first client's notes.
    const other = createRouteGuideClient(server.target);
    try {
      const replies = await collect(other.routeChat([{ location: here, message: "three" }]));
      assert.deepEqual(replies, [
        { location: here, message: "one" },
        { location: here, message: "two" },
      ]);
    } finally {
      other.close();
    }
  });
});

Deno.test("RouteChat replies flow while the client is still sending", async () => {
  await withServer(async (client) => {
    const here = freshPoint();
    await collect(client.routeChat([{ location: here, message: "left earlier" }]));
    let resolveReply!: () => void;
    const replied = new Promise<void>((resolve) => resolveReply = resolve);
    let sentSecond = false;
    const notes = async function* () {
      yield { location: here, message: "hello" };
      // Only continue once the reply to the first note arrived.
      await replied;
      sentSecond = true;
      yield { location: freshPoint(), message: "bye" };
    };
    const got: string[] = [];
    for await (const note of client.routeChat(notes(), { deadline: Date.now() + 10_000 })) {
      got.push(note.message ?? "");
      assert.equal(sentSecond, false);
      resolveReply();
    }
    assert.deepEqual(got, ["left earlier"]);
    assert.ok(sentSecond);
  });
});

Deno.test("two concurrent chat clients share notes server-wide", async () => {
  await withServer(async (client, server) => {
    const here = freshPoint();
    // A's second note goes where a note is waiting: the server handles a
    // chat's notes in order, so its reply means "from A" is stored.
    const marker = freshPoint();
    await collect(client.routeChat([{ location: marker, message: "marker" }]));
    const b = createRouteGuideClient(server.target);
    try {
      let aStored!: () => void;
      const stored = new Promise<void>((resolve) => aStored = resolve);
      let bFinished!: () => void;
      const bDone = new Promise<void>((resolve) => bFinished = resolve);
      const aNotes = async function* () {
        yield { location: here, message: "from A" };
        yield { location: marker, message: "A again" };
        // A stays open until B has its answer: the two chats overlap.
        await bDone;
      };
      const bNotes = async function* () {
        await stored;
        yield { location: here, message: "from B" };
      };
      const fromA = (async () => {
        const got = [];
        for await (const note of client.routeChat(aNotes(), { deadline: Date.now() + 10_000 })) {
          got.push(note);
          if (note.message === "marker") aStored();
        }
        return got;
      })().finally(aStored);
      const fromB = collect(b.routeChat(bNotes(), { deadline: Date.now() + 10_000 }))
        .finally(bFinished);
      assert.deepEqual(await fromB, [{ location: here, message: "from A" }]);
      // Nothing came back to A at `here`: B's note came after A's.
      assert.deepEqual(await fromA, [{ location: marker, message: "marker" }]);
    } finally {
      b.close();
    }
  });
});

Deno.test("invalid coordinates get INVALID_ARGUMENT naming the field and value, in every RPC", async () => {
  await withServer(async (client) => {
    await rejectsWith(
      client.getFeature({ latitude: 900000001, longitude: 0 }),
      Code.INVALID_ARGUMENT,
      /latitude is out of range.*900000001/,
    );
    await rejectsWith(
      collect(client.listFeatures({ lo: { latitude: 0, longitude: -1800000001 }, hi: {} })),
      Code.INVALID_ARGUMENT,
      /lo\.longitude is out of range.*-1800000001/,
    );
    await rejectsWith(
      collect(client.listFeatures({ lo: {}, hi: { latitude: -900000001 } })),
      Code.INVALID_ARGUMENT,
      /hi\.latitude/,
    );
    await rejectsWith(
      client.recordRoute([EMPIRE_STATE, EMPIRE_STATE, { latitude: 0, longitude: 1800000001 }]),
      Code.INVALID_ARGUMENT,
      /point\[2\]\.longitude is out of range.*1800000001/,
    );
    await rejectsWith(
      collect(client.routeChat([{ location: { latitude: 2000000000 }, message: "x" }])),
      Code.INVALID_ARGUMENT,
      /note\[0\]\.location\.latitude.*2000000000/,
    );
    // The limits themselves are valid.
    const pole = { latitude: 900000000, longitude: -1800000000 };
    assert.deepEqual(await client.getFeature(pole), { name: "", location: pole });
  });
});

Deno.test("a RouteNote message over the limit gets INVALID_ARGUMENT", async () => {
  await withServer(async (client) => {
    await rejectsWith(
      collect(client.routeChat([{ location: freshPoint(), message: "é".repeat(40) }])),
      Code.INVALID_ARGUMENT,
      /message is too long: 80 bytes, the limit is 64/,
    );
  }, ["--max-note-bytes", "64"]);
});

Deno.test("a deadline shorter than the work ends the call with DEADLINE_EXCEEDED", async () => {
  await withServer(async (client) => {
    // A request stream that never sends anything.
    // deno-lint-ignore require-yield
    const never = async function* <T>(): AsyncGenerator<T> {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    };
    await rejectsWith(
      client.recordRoute(never<E7Point>(), { deadline: Date.now() + 300 }),
      Code.DEADLINE_EXCEEDED,
    );
    await rejectsWith(
      collect(client.routeChat(never<{ message: string }>(), { deadline: Date.now() + 300 })),
      Code.DEADLINE_EXCEEDED,
    );
    // The server is still fine.
    assert.equal((await client.getFeature(EMPIRE_STATE)).name.length > 0, true);
  });
});

Deno.test("cancelling each streaming RPC midway leaves the server healthy", async () => {
  await withServer(async (client) => {
    // ListFeatures: take one feature, then stop.
    const controller = new AbortController();
    let seen = 0;
    await rejectsWith(
      (async () => {
        for await (
          const _ of client.listFeatures({
            lo: { latitude: 400000000, longitude: -750000000 },
            hi: { latitude: 420000000, longitude: -730000000 },
          }, { signal: controller.signal })
        ) {
          seen++;
          controller.abort();
        }
      })(),
      Code.CANCELLED,
    );
    assert.ok(seen >= 1 && seen < DB.length, `saw ${seen}`);

    // RecordRoute: abort while points are still coming.
    const record = new AbortController();
    const endless = async function* () {
      for (let i = 0;; i++) {
        if (i === 5) record.abort();
        yield EMPIRE_STATE;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await rejectsWith(client.recordRoute(endless(), { signal: record.signal }), Code.CANCELLED);

    // RouteChat: abort an open chat.
    const chat = new AbortController();
    const openEnded = async function* () {
      yield { location: freshPoint(), message: "hello" };
      chat.abort();
      await new Promise((resolve) => setTimeout(resolve, 5000));
    };
    await rejectsWith(
      collect(client.routeChat(openEnded(), { signal: chat.signal })),
      Code.CANCELLED,
    );

    assert.equal(
      (await client.getFeature(EMPIRE_STATE)).name,
      "Empire State Building, New York, NY",
    );
    assert.equal((await collect(client.listFeatures({ lo: UNNAMED, hi: UNNAMED }))).length, 1);
  });
});
