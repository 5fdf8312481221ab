import assert from "node:assert/strict";
import { createFeatureDb, type Feature } from "../../lib/core/feature_index.ts";
import { EARTH_RADIUS_M, haversineMeters, INT32_MAX } from "../../lib/core/geo.ts";
import {
  type CallContext,
  createRouteGuideHandlers,
  DEFAULT_MAX_NOTE_BYTES,
  type PointInput,
  type RouteGuideHandlersOptions,
  type RouteNoteInput,
} from "../../lib/core/handlers.ts";
import type { RouteNote, RouteNotesStore } from "../../lib/core/notes_store.ts";
import { createMemoryNotesStore } from "../../lib/notes/memory.ts";
import { Code, RpcError } from "../../lib/core/rpc_error.ts";
import { collect, waitFor, within } from "../_async.ts";
import { pt } from "../_geo.ts";

const LIBERTY = pt(406892000, -740445000);
const BRIDGE = pt(407061000, -739969000);
const EMPIRE = pt(407484000, -739857000);
const UNNAMED = pt(405500000, -745500000);
const NOWHERE = pt(123456789, 98765432);

const FEATURES: Feature[] = [
  { name: "Statue of Liberty", location: LIBERTY },
  { name: "Brooklyn Bridge", location: BRIDGE },
  { name: "Empire State Building", location: EMPIRE },
  { name: "", location: UNNAMED },
];

function setup(options: Partial<RouteGuideHandlersOptions> = {}) {
  const notes = options.notes ?? createMemoryNotesStore();
  const db = options.db ?? createFeatureDb(FEATURES).db;
  return { notes, handlers: createRouteGuideHandlers({ ...options, db, notes }) };
}

const ctx = (): CallContext => ({ signal: new AbortController().signal });

async function* from<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/** Asserts that an error is an `RpcError` with `INVALID_ARGUMENT` and a matching message. */
function invalidArgument(message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${error}`);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, message);
    return true;
  };
}

/** Fails when a promise does not settle within 10 s, instead of hanging the test. */
function soon<T>(promise: Promise<T>, what: string): Promise<T> {
  return within(promise, 10_000, what);
}

/** Whether a promise is still pending after the event loop has had a turn. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol("pending");
  const result = await Promise.race([
    promise,
    new Promise((resolve) => setTimeout(() => resolve(marker), 10)),
  ]);
  return result === marker;
}

/** An async iterable the test feeds by hand, recording how it is consumed. */
class Channel<T> implements AsyncIterable<T> {
  #queue: T[] = [];
  #waiting: ((result: IteratorResult<T, undefined>) => void)[] = [];
  #ended = false;
  /** Items handed to the consumer. */
  taken = 0;
  /** Whether the consumer stopped early with `return()`. */
  returned = false;

  push(item: T): void {
    const wake = this.#waiting.shift();
    if (wake !== undefined) {
      this.taken++;
      wake({ value: item, done: false });
    } else this.#queue.push(item);
  }

  end(): void {
    this.#ended = true;
    for (const wake of this.#waiting.splice(0)) wake({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => {
        if (this.#queue.length > 0) {
          this.taken++;
          return Promise.resolve({ value: this.#queue.shift()!, done: false });
        }
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiting.push(resolve));
      },
      return: () => {
        this.returned = true;
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Wraps a store, counting exchanges. */
function spyOn(store: RouteNotesStore) {
  const spy = {
    exchanges: 0,
    store: {
      exchange(note: RouteNote) {
        spy.exchanges++;
        return store.exchange(note);
      },
      close: () => store.close(),
    } satisfies RouteNotesStore,
  };
  return spy;
}

// --- GetFeature ----------------------------------------------------------------

Deno.test("getFeature() returns the named feature at a point", async () => {
  const { handlers } = setup();
  assert.deepEqual(await handlers.getFeature(LIBERTY, ctx()), {
    name: "Statue of Liberty",
    location: LIBERTY,
  });
  assert.equal((await handlers.getFeature({ ...EMPIRE }, ctx())).name, "Empire State Building");
});

Deno.test("getFeature() returns an empty name and the same location where nothing is named", async () => {
  const { handlers } = setup();
  assert.deepEqual(await handlers.getFeature(NOWHERE, ctx()), { name: "", location: NOWHERE });
  // An unnamed entry in the database reads the same as no entry.
  assert.deepEqual(await handlers.getFeature(UNNAMED, ctx()), { name: "", location: UNNAMED });
  // One unit away from a named feature is nowhere.
  const nearLiberty = pt(LIBERTY.latitude, LIBERTY.longitude + 1);
  assert.deepEqual(await handlers.getFeature(nearLiberty, ctx()), {
    name: "",
    location: nearLiberty,
  });
});

Deno.test("getFeature() reads an unset point or field as 0", async () => {
  const { handlers } = setup({
    db: createFeatureDb([{ name: "Null Island", location: pt(0, 0) }, {
      name: "Equator at 5",
      location: pt(0, 5),
    }]).db,
  });
  for (const unset of [null, undefined, {}]) {
    assert.deepEqual(await handlers.getFeature(unset, ctx()), {
      name: "Null Island",
      location: pt(0, 0),
    });
  }
  assert.equal((await handlers.getFeature({ longitude: 5 }, ctx())).name, "Equator at 5");
  assert.deepEqual(await handlers.getFeature({ latitude: 7 }, ctx()), {
    name: "",
    location: pt(7, 0),
  });
});

Deno.test("getFeature() accepts the extreme valid coordinates", async () => {
  const { handlers } = setup();
  for (const p of [pt(900000000, 1800000000), pt(-900000000, -1800000000)]) {
    assert.deepEqual(await handlers.getFeature(p, ctx()), { name: "", location: p });
  }
});

Deno.test("getFeature() rejects out-of-range coordinates with INVALID_ARGUMENT naming the field", async () => {
  const { handlers } = setup();
  await assert.rejects(
    handlers.getFeature(pt(900000001, 0), ctx()),
    invalidArgument(/^latitude is out of range .*900000001/),
  );
  await assert.rejects(
    handlers.getFeature(pt(0, -1800000001), ctx()),
    invalidArgument(/^longitude is out of range .*-1800000001/),
  );
  await assert.rejects(handlers.getFeature(pt(0.5, 0), ctx()), invalidArgument(/^latitude /));
});

// --- ListFeatures --------------------------------------------------------------

const NAMES_IN_MANHATTAN = ["Brooklyn Bridge", "Empire State Building"];

async function listNames(
  handlers: ReturnType<typeof setup>["handlers"],
  lo: PointInput,
  hi: PointInput,
): Promise<string[]> {
  return (await collect(handlers.listFeatures({ lo, hi }, ctx()))).map((f) => f.name).sort();
}

Deno.test("listFeatures() returns the features in a rectangle given by any two corners", async () => {
  const { handlers } = setup();
  const south = 407000000;
  const north = 408000000;
  const west = -740000000;
  const east = -739000000;
  assert.deepEqual(await listNames(handlers, pt(south, west), pt(north, east)), NAMES_IN_MANHATTAN);
  assert.deepEqual(await listNames(handlers, pt(north, east), pt(south, west)), NAMES_IN_MANHATTAN);
  assert.deepEqual(await listNames(handlers, pt(south, east), pt(north, west)), NAMES_IN_MANHATTAN);
  assert.deepEqual(await listNames(handlers, pt(north, west), pt(south, east)), NAMES_IN_MANHATTAN);
});

Deno.test("listFeatures() includes unnamed features and whole Feature messages", async () => {
  const { handlers } = setup();
  const all = await collect(
    handlers.listFeatures({ lo: pt(400000000, -750000000), hi: pt(420000000, -730000000) }, ctx()),
  );
  assert.deepEqual(
    all.sort((a, b) => a.location.latitude - b.location.latitude),
    [...FEATURES].sort((a, b) => a.location.latitude - b.location.latitude),
  );
});

Deno.test("listFeatures() reads unset corners as (0, 0)", async () => {
  const { handlers } = setup({
    db: createFeatureDb([
      { name: "origin", location: pt(0, 0) },
      { name: "north-east", location: pt(10, 10) },
      { name: "south-west", location: pt(-10, -10) },
    ]).db,
  });
  assert.deepEqual(await listNames(handlers, undefined, undefined), ["origin"]);
  assert.deepEqual(await listNames(handlers, null, pt(10, 10)), ["north-east", "origin"]);
  assert.deepEqual(await listNames(handlers, pt(-10, -10), {}), ["origin", "south-west"]);
  // Corners (-10, 0) and (0, -10).
  assert.deepEqual(await listNames(handlers, { latitude: -10 }, { longitude: -10 }), [
    "origin",
    "south-west",
  ]);
});

Deno.test("listFeatures() rejects out-of-range corners with INVALID_ARGUMENT naming the field", async () => {
  const { handlers } = setup();
  await assert.rejects(
    collect(handlers.listFeatures({ lo: pt(0, 1800000001), hi: pt(0, 0) }, ctx())),
    invalidArgument(/^lo\.longitude is out of range .*1800000001/),
  );
  await assert.rejects(
    collect(handlers.listFeatures({ lo: pt(0, 0), hi: pt(-900000001, 0) }, ctx())),
    invalidArgument(/^hi\.latitude is out of range .*-900000001/),
  );
  await assert.rejects(
    collect(handlers.listFeatures({ lo: pt(0, 0), hi: pt(0, 2.5) }, ctx())),
    invalidArgument(/^hi\.longitude /),
  );
});

/** A database of 100,000 features on a 400 × 250 grid. */
const bigDb = () =>
  createFeatureDb(
    Array.from({ length: 100_000 }, (_, i) => ({
      name: `f${i}`,
      location: pt(400000000 + Math.floor(i / 250) * 1000, -740000000 + (i % 250) * 1000),
    })),
  ).db;

Deno.test("listFeatures() stops soon after the call is cancelled", async () => {
  const db = bigDb();
  assert.equal(db.size, 100_000);
  const { handlers } = setup({ db });
  const controller = new AbortController();
  const stream = handlers.listFeatures(
    { lo: pt(-900000000, -1800000000), hi: pt(900000000, 1800000000) },
    { signal: controller.signal },
  )[Symbol.asyncIterator]();
  let produced = 0;
  for (let i = 0; i < 10; i++) {
    const { done } = await stream.next();
    assert.equal(done, false);
    produced++;
  }
  controller.abort();
  let after = 0;
  while (!(await soon(stream.next(), "the next feature")).done) {
    after++;
    assert.ok(after <= 1_000, "listFeatures() kept going after the abort");
  }
  assert.ok(after <= 2, `${after} features after the abort`);
  produced += after;
  assert.ok(produced < 100, `${produced} of 100,000 features produced`);
  // Once done, it stays done.
  assert.equal((await stream.next()).done, true);
});

Deno.test("listFeatures() on an already cancelled call yields nothing", async () => {
  const { handlers } = setup({ db: bigDb() });
  const controller = new AbortController();
  controller.abort();
  const all = await collect(
    handlers.listFeatures({ lo: pt(400000000, -740000000), hi: pt(410000000, -730000000) }, {
      signal: controller.signal,
    }),
  );
  assert.equal(all.length, 0);
});

Deno.test("listFeatures() without cancellation streams all 100,000 features", async () => {
  const { handlers } = setup({ db: bigDb() });
  let n = 0;
  for await (
    const _ of handlers.listFeatures({
      lo: pt(400000000, -740000000),
      hi: pt(410000000, -730000000),
    }, ctx())
  ) n++;
  assert.equal(n, 100_000);
});

// --- RecordRoute ---------------------------------------------------------------

Deno.test("recordRoute() counts points, named features and metres", async () => {
  const { handlers } = setup();
  const route = [LIBERTY, NOWHERE, BRIDGE, UNNAMED, EMPIRE, LIBERTY];
  const summary = await handlers.recordRoute(from(route), ctx());
  let metres = 0;
  for (let i = 1; i < route.length; i++) metres += haversineMeters(route[i - 1], route[i]);
  assert.deepEqual(summary, {
    point_count: 6,
    // Liberty twice, the bridge and the Empire State; not NOWHERE nor the unnamed point.
    feature_count: 4,
    distance: Math.trunc(metres),
    elapsed_time: 0,
  });
  assert.ok(summary.distance > 1_000_000, "the route goes far away and back");
});

Deno.test("recordRoute() does not count an unnamed database point as a feature", async () => {
  const { handlers } = setup();
  const summary = await handlers.recordRoute(from([UNNAMED, UNNAMED, UNNAMED]), ctx());
  assert.equal(summary.point_count, 3);
  assert.equal(summary.feature_count, 0);
  assert.equal(summary.distance, 0);
});

Deno.test("recordRoute() truncates the summed distance rather than each leg", async () => {
  const { handlers } = setup();
  // Each leg is 100 E7 units of latitude, about 1.11 m: legs truncated
  // one by one would add up to 10 m, the true length is 11.1 m.
  const route = Array.from({ length: 11 }, (_, i) => pt(i * 100, 0));
  const summary = await handlers.recordRoute(from(route), ctx());
  assert.equal(summary.distance, 11);
  assert.equal(summary.point_count, 11);
});

Deno.test("recordRoute() of no points is all zeros", async () => {
  const { handlers } = setup();
  assert.deepEqual(await handlers.recordRoute(from([]), ctx()), {
    point_count: 0,
    feature_count: 0,
    distance: 0,
    elapsed_time: 0,
  });
});

Deno.test("recordRoute() reads unset points as (0, 0)", async () => {
  const { handlers } = setup({
    db: createFeatureDb([{ name: "Null Island", location: pt(0, 0) }]).db,
  });
  const summary = await handlers.recordRoute(from<PointInput>([null, {}, undefined]), ctx());
  assert.deepEqual(summary, { point_count: 3, feature_count: 3, distance: 0, elapsed_time: 0 });
});

Deno.test("recordRoute() measures whole seconds on the injected clock", async () => {
  let clock = 50_000;
  const { handlers } = setup({ now: () => clock });
  async function* slowRoute() {
    yield LIBERTY;
    clock += 1_000;
    yield BRIDGE;
    clock += 1_900;
    yield EMPIRE;
  }
  const summary = await handlers.recordRoute(slowRoute(), ctx());
  assert.equal(summary.elapsed_time, 2); // 2.9 s, truncated
  assert.equal(summary.point_count, 3);

  async function* exactlyThree() {
    yield LIBERTY;
    clock += 3_000;
  }
  assert.equal((await handlers.recordRoute(exactlyThree(), ctx())).elapsed_time, 3);
});

Deno.test("recordRoute() counts time until the input ends, not until the last point", async () => {
  let clock = 0;
  const { handlers } = setup({ now: () => clock });
  async function* lingering() {
    yield LIBERTY;
    clock += 4_500; // the client waits before half-closing
  }
  assert.equal((await handlers.recordRoute(lingering(), ctx())).elapsed_time, 4);
});

Deno.test("recordRoute() saturates the distance at 2147483647 metres", async () => {
  const { handlers } = setup();
  const far = pt(0, 1799000000);
  const n = 110_000;
  async function* backAndForth() {
    for (let i = 0; i < n; i++) yield i % 2 === 0 ? pt(0, 0) : far;
  }
  const summary = await handlers.recordRoute(backAndForth(), ctx());
  assert.equal(summary.distance, INT32_MAX);
  assert.equal(summary.distance, 2147483647);
  assert.equal(summary.point_count, n);
  assert.equal(summary.feature_count, 0);
  // Each leg is about 20,004 km: fewer than 110 legs already overflow.
  assert.ok(haversineMeters(pt(0, 0), far) * 108 > INT32_MAX);
});

Deno.test({
  name: "recordRoute() measures a leg between antipodal points as half the circumference",
  async fn() {
    const { handlers } = setup();
    const summary = await handlers.recordRoute(
      from([pt(-820000000, -1800000000), pt(820000000, 0)]),
      ctx(),
    );
    assert.equal(summary.distance, Math.trunc(Math.PI * EARTH_RADIUS_M));
  },
});

Deno.test("recordRoute() rejects an invalid point mid-stream with INVALID_ARGUMENT naming it", async () => {
  const { handlers } = setup();
  let closed = false;
  let pulled = 0;
  async function* route() {
    try {
      for (const p of [LIBERTY, BRIDGE, EMPIRE, pt(900000001, 0), LIBERTY, BRIDGE]) {
        pulled++;
        yield p;
      }
    } finally {
      closed = true;
    }
  }
  await assert.rejects(
    handlers.recordRoute(route(), ctx()),
    invalidArgument(/^point\[3\]\.latitude is out of range .*900000001/),
  );
  assert.equal(pulled, 4, "no point is read after the invalid one");
  assert.ok(closed, "the input is closed");
  await assert.rejects(
    handlers.recordRoute(from([LIBERTY, pt(0, -1800000001)]), ctx()),
    invalidArgument(/^point\[1\]\.longitude is out of range/),
  );
});

// --- RouteChat -----------------------------------------------------------------

Deno.test("routeChat() replies before the input ends", async () => {
  const { handlers } = setup();
  const here = pt(1, 2);
  const input = new Channel<RouteNoteInput>();
  const replies = handlers.routeChat(input, ctx())[Symbol.asyncIterator]();

  input.push({ location: here, message: "first" });
  const waiting = replies.next();
  // The first note at a place has nothing earlier: no reply yet.
  assert.ok(await isPending(waiting), "a reply came from nowhere");
  input.push({ location: here, message: "second" });
  assert.deepEqual(await soon(waiting, "the reply to the second note"), {
    value: { location: here, message: "first" },
    done: false,
  });
  input.push({ location: here, message: "third" });
  assert.deepEqual((await soon(replies.next(), "a reply")).value, {
    location: here,
    message: "first",
  });
  assert.deepEqual((await soon(replies.next(), "a reply")).value, {
    location: here,
    message: "second",
  });
  const last = replies.next();
  assert.ok(await isPending(last), "the chat ended before its input");
  input.end();
  assert.equal((await soon(last, "the end of the chat")).done, true);
});

Deno.test("routeChat() shares notes between concurrent calls on one store", async () => {
  const spy = spyOn(createMemoryNotesStore());
  const { handlers } = setup({ notes: spy.store });
  const here = pt(406892000, -740445000);
  const alice = new Channel<RouteNoteInput>();
  const bob = new Channel<RouteNoteInput>();
  const toAlice = handlers.routeChat(alice, ctx())[Symbol.asyncIterator]();
  const toBob = handlers.routeChat(bob, ctx())[Symbol.asyncIterator]();

  alice.push({ location: here, message: "from alice" });
  const aliceNext = toAlice.next();
  await waitFor(() => spy.exchanges === 1, "alice's note to be stored");

  bob.push({ location: here, message: "from bob" });
  assert.deepEqual((await soon(toBob.next(), "bob's reply")).value, {
    location: here,
    message: "from alice",
  });

  alice.push({ location: here, message: "alice again" });
  assert.deepEqual((await soon(aliceNext, "alice's reply")).value?.message, "from alice");
  assert.deepEqual((await soon(toAlice.next(), "alice's reply")).value?.message, "from bob");

  alice.end();
  bob.end();
  assert.equal((await soon(toAlice.next(), "alice's end")).done, true);
  assert.equal((await soon(toBob.next(), "bob's end")).done, true);
});

Deno.test("routeChat() reads an unset location as (0, 0) and an unset message as empty", async () => {
  const { handlers } = setup();
  const replies = await collect(
    handlers.routeChat(from<RouteNoteInput>([{}, { location: null, message: null }, {}]), ctx()),
  );
  assert.deepEqual(replies, [
    { location: pt(0, 0), message: "" },
    { location: pt(0, 0), message: "" },
    { location: pt(0, 0), message: "" },
  ]);
});

Deno.test("routeChat() rejects an out-of-range location with INVALID_ARGUMENT naming the note", async () => {
  const { handlers } = setup();
  await assert.rejects(
    collect(handlers.routeChat(
      from([{ location: pt(0, 0), message: "ok" }, { location: pt(900000001, 0), message: "bad" }]),
      ctx(),
    )),
    invalidArgument(/^note\[1\]\.location\.latitude is out of range/),
  );
});

Deno.test("routeChat() rejects a message longer than maxNoteBytes", async () => {
  const { handlers, notes } = setup({ maxNoteBytes: 5 });
  const here = pt(3, 3);
  await assert.rejects(
    collect(handlers.routeChat(
      from([{ location: here, message: "hello" }, { location: here, message: "hello!" }]),
      ctx(),
    )),
    invalidArgument(/^note\[1\]\.message is too long: 6 bytes, the limit is 5$/),
  );
  // The note that was too long was not stored; the one on the limit was.
  assert.deepEqual(await notes.exchange({ location: here, message: "probe" }), [
    { location: here, message: "hello" },
  ]);
});

Deno.test("routeChat() counts a message's length in UTF-8 bytes", async () => {
  // A fresh store for each message, so that every chat gets no replies.
  const chat = (message: string) =>
    collect(
      setup({ maxNoteBytes: 5 }).handlers.routeChat(from([{ location: pt(0, 0), message }]), ctx()),
    );
  // Few UTF-16 units, too many bytes.
  for (const [message, bytes] of [["ééé", 6], ["日本", 6], ["😀😀", 8], ["abcdé", 6]] as const) {
    await assert.rejects(
      chat(message),
      invalidArgument(new RegExp(`^note\\[0\\]\\.message is too long: ${bytes} bytes`)),
      message,
    );
  }
  // Within the limit, even with multibyte characters.
  for (const message of ["éé", "😀", "日", "abcé", "ab€", "hello"]) {
    assert.deepEqual(await chat(message), [], message);
  }
});

Deno.test("routeChat() allows messages of up to 4096 UTF-8 bytes by default", async () => {
  assert.equal(DEFAULT_MAX_NOTE_BYTES, 4096);
  const { handlers } = setup();
  const chat = (message: string) =>
    collect(handlers.routeChat(from([{ location: pt(0, 0), message }]), ctx()));
  assert.deepEqual(await chat("a".repeat(4096)), []);
  // 4095 bytes; the reply is the earlier note, all 4096 bytes of it.
  assert.deepEqual(await chat("€".repeat(1365)), [
    { location: pt(0, 0), message: "a".repeat(4096) },
  ]);
  await assert.rejects(chat("a".repeat(4097)), invalidArgument(/4097 bytes, the limit is 4096/));
  await assert.rejects(chat("€".repeat(1366)), invalidArgument(/4098 bytes, the limit is 4096/));
});

Deno.test("routeChat() stops soon after the call is cancelled", async () => {
  const spy = spyOn(createMemoryNotesStore());
  const { handlers } = setup({ notes: spy.store });
  const here = pt(5, 5);
  for (let i = 0; i < 40; i++) await spy.store.exchange({ location: here, message: `old ${i}` });
  const controller = new AbortController();
  const input = new Channel<RouteNoteInput>();
  const replies = handlers.routeChat(input, { signal: controller.signal })[Symbol.asyncIterator]();
  input.push({ location: here, message: "new" });
  for (let i = 0; i < 3; i++) {
    assert.equal((await soon(replies.next(), "a reply")).value?.message, `old ${i}`);
  }
  controller.abort();
  input.push({ location: here, message: "after the abort" });
  let after = 0;
  while (!(await soon(replies.next(), "the end of the chat")).done) after++;
  assert.ok(after <= 2, `${after} replies after the abort`);
  assert.ok(input.returned, "the input was closed");
  assert.equal(spy.exchanges, 41, "no note was stored after the abort");
});

Deno.test({
  name: "routeChat() reads and stores no more notes once the call is cancelled",
  async fn() {
    const spy = spyOn(createMemoryNotesStore());
    const { handlers } = setup({ notes: spy.store });
    const here = pt(5, 5);
    await spy.store.exchange({ location: here, message: "old" });
    const controller = new AbortController();
    const input = new Channel<RouteNoteInput>();
    const replies = handlers.routeChat(input, { signal: controller.signal })
      [Symbol.asyncIterator]();
    input.push({ location: here, message: "new" });
    assert.equal((await soon(replies.next(), "a reply")).value?.message, "old");
    controller.abort();
    // Notes the client had already sent, at places with nothing to reply.
    for (let i = 0; i < 5; i++) input.push({ location: pt(100 + i, 0), message: `late ${i}` });
    // It ends without waiting for more input: none comes.
    const next = await soon(replies.next(), "the chat to end without more input");
    assert.equal(next.done, true);
    assert.equal(spy.exchanges, 2, "no note was stored after the abort");
    assert.equal(input.taken, 1, "no note was read after the abort");

    // And a call cancelled before it starts stores nothing at all.
    const cancelled = new AbortController();
    cancelled.abort();
    await collect(handlers.routeChat(from([{ location: pt(200, 0), message: "x" }]), {
      signal: cancelled.signal,
    }));
    assert.deepEqual(await spy.store.exchange({ location: pt(200, 0), message: "probe" }), []);
  },
});

Deno.test("routeChat() ends with UNAVAILABLE naming the note when the notes store fails", async () => {
  let calls = 0;
  const failing: RouteNotesStore = {
    exchange(note) {
      calls += 1;
      if (calls === 2) {
        return Promise.reject(new Error("cannot reach PostgreSQL at db:5432/routeguide: timeout"));
      }
      return Promise.resolve(calls === 3 ? [note] : []);
    },
    close: () => Promise.resolve(),
  };
  const { handlers } = setup({ notes: failing });
  const here = pt(4, 4);
  await assert.rejects(
    collect(handlers.routeChat(
      from([{ location: here, message: "a" }, { location: here, message: "b" }]),
      ctx(),
    )),
    (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.equal(
        error.message,
        "note[1] was not exchanged: the notes store failed: " +
          "cannot reach PostgreSQL at db:5432/routeguide: timeout",
      );
      return true;
    },
  );
});

Deno.test("routeChat(): a store that fails with no Error at all still ends the call with UNAVAILABLE", async () => {
  const failing: RouteNotesStore = {
    exchange: () => Promise.reject(undefined),
    close: () => Promise.resolve(),
  };
  const { handlers } = setup({ notes: failing });
  await assert.rejects(
    collect(handlers.routeChat(from([{ location: pt(4, 4), message: "a" }]), ctx())),
    (error: unknown) => {
      assert.ok(error instanceof RpcError, `${error}`);
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.equal(error.message, "note[0] was not exchanged: the notes store failed: undefined");
      return true;
    },
  );
});

Deno.test("routeChat() reads an input iterator that has no return() method", async () => {
  const { handlers } = setup();
  const notes = [{ location: pt(6, 6), message: "a" }, { location: pt(6, 6), message: "b" }];
  // A bare iterator: next() only, as the AsyncIterator protocol allows.
  const bare: AsyncIterable<RouteNoteInput> = {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return {
        next: () =>
          Promise.resolve(
            i < notes.length
              ? { done: false, value: notes[i++] }
              : { done: true, value: undefined },
          ),
      };
    },
  };
  const replies = await collect(handlers.routeChat(bare, ctx()));
  assert.deepEqual(replies.map((n) => n.message), ["a"]);
});
