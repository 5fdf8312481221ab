/**
 * The behaviour every {@linkcode RouteNotesStore} must have, as Deno tests.
 * A store implementation's test file calls {@linkcode runNotesStoreContract}
 * with a factory; each case gets a fresh store and closes it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { E7Point } from "../../lib/core/geo.ts";
import type { RouteNotesLimits } from "../../lib/notes/limits.ts";
import type { RouteNote, RouteNotesStore } from "../../lib/core/notes_store.ts";
import { pt } from "../_geo.ts";

/** Builds a fresh, empty store with the given limits (the store's defaults when omitted). */
export type MakeNotesStore = (
  limits?: RouteNotesLimits,
) => Promise<RouteNotesStore> | RouteNotesStore;

const note = (location: E7Point, message: string): RouteNote => ({ location, message });
const messages = (notes: RouteNote[]) => notes.map((n) => n.message);

/**
 * Registers the notes-store contract as Deno tests named after `name`.
 *
 * @example
 * ```ts ignore
 * import { createMemoryNotesStore } from "../../lib/notes/memory.ts";
 * import { runNotesStoreContract } from "./contract.ts";
 * runNotesStoreContract("memory store", createMemoryNotesStore);
 * ```
 */
export function runNotesStoreContract(name: string, makeStore: MakeNotesStore): void {
  const test = (
    title: string,
    limits: RouteNotesLimits | undefined,
    fn: (store: RouteNotesStore) => Promise<void>,
  ) =>
    Deno.test(`${name}: ${title}`, async () => {
      const store = await makeStore(limits);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  test("the first exchange at a location returns no notes", undefined, async (store) => {
    assert.deepEqual(await store.exchange(note(pt(1, 2), "first")), []);
  });

  test("later exchanges return the earlier notes there, oldest first", undefined, async (store) => {
    const here = pt(406892000, -740445000);
    assert.deepEqual(await store.exchange(note(here, "one")), []);
    assert.deepEqual(await store.exchange(note(here, "two")), [note(here, "one")]);
    assert.deepEqual(await store.exchange(note(here, "three")), [
      note(here, "one"),
      note(here, "two"),
    ]);
    // The same message twice is two notes.
    assert.deepEqual(messages(await store.exchange(note(here, "one"))), ["one", "two", "three"]);
    assert.deepEqual(messages(await store.exchange(note(here, "four"))), [
      "one",
      "two",
      "three",
      "one",
    ]);
  });

  test("notes at different locations are independent", undefined, async (store) => {
    const a = pt(10, 20);
    const neighbours = [pt(10, 21), pt(11, 20), pt(20, 10), pt(-10, 20), pt(10, -20)];
    await store.exchange(note(a, "at a"));
    for (const [i, p] of neighbours.entries()) {
      assert.deepEqual(await store.exchange(note(p, `near ${i}`)), [], JSON.stringify(p));
    }
    assert.deepEqual(await store.exchange(note(a, "at a again")), [note(a, "at a")]);
    for (const [i, p] of neighbours.entries()) {
      assert.deepEqual(await store.exchange(note(p, "again")), [note(p, `near ${i}`)]);
    }
  });

  test(
    "concurrent exchanges at one location each see exactly the earlier ones",
    { maxNotesPerLocation: 100 },
    async (store) => {
      const here = pt(-337000000, 1512000000);
      const n = 50;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => store.exchange(note(here, `note ${i}`))),
      );
      // Every note was seen by the later ones only: the counts are 0..n-1.
      assert.deepEqual(results.map((r) => r.length).sort((x, y) => x - y), [...Array(n).keys()]);
      const final = messages(await store.exchange(note(here, "last")));
      assert.equal(final.length, n);
      assert.deepEqual([...final].sort(), Array.from({ length: n }, (_, i) => `note ${i}`).sort());
      for (const [i, result] of results.entries()) {
        // What each exchange saw is a prefix of the final order, and its own
        // note comes right after that prefix.
        assert.deepEqual(messages(result), final.slice(0, result.length), `note ${i}`);
        assert.equal(final[result.length], `note ${i}`);
        for (const earlier of result) assert.deepEqual(earlier.location, here);
      }
    },
  );

  test(
    "concurrent exchanges at many locations do not mix",
    { maxNotesPerLocation: 100 },
    async (store) => {
      const places = [pt(1, 1), pt(2, 2), pt(3, 3)];
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => store.exchange(note(places[i % 3], `${i % 3}:${i}`))),
      );
      for (const [p, place] of places.entries()) {
        const seen = await store.exchange(note(place, "check"));
        assert.equal(seen.length, 10);
        for (const n of seen) {
          assert.ok(n.message.startsWith(`${p}:`), n.message);
          assert.deepEqual(n.location, place);
        }
      }
    },
  );

  test(
    "a location over its cap drops its oldest notes",
    { maxNotesPerLocation: 3 },
    async (store) => {
      const here = pt(5, 5);
      const seen: string[][] = [];
      for (let i = 0; i < 6; i++) seen.push(messages(await store.exchange(note(here, `m${i}`))));
      assert.deepEqual(seen, [
        [],
        ["m0"],
        ["m0", "m1"],
        ["m0", "m1", "m2"],
        ["m1", "m2", "m3"],
        ["m2", "m3", "m4"],
      ]);
      // The cap is per location: another one keeps its own three.
      const there = pt(6, 6);
      for (let i = 0; i < 3; i++) await store.exchange(note(there, `t${i}`));
      assert.deepEqual(messages(await store.exchange(note(there, "t3"))), ["t0", "t1", "t2"]);
      assert.deepEqual(messages(await store.exchange(note(here, "m6"))), ["m3", "m4", "m5"]);
    },
  );

  test(
    "beyond the location cap, the location written to least recently is dropped",
    { maxLocations: 2 },
    async (store) => {
      const a = pt(1, 0);
      const b = pt(2, 0);
      const c = pt(3, 0);
      await store.exchange(note(a, "a1"));
      await store.exchange(note(b, "b1"));
      await store.exchange(note(a, "a2")); // a is now the most recently written
      await store.exchange(note(c, "c1")); // a new location: b goes
      assert.deepEqual(messages(await store.exchange(note(a, "a3"))), ["a1", "a2"]);
      // b was dropped; writing it again drops c, now the least recently written.
      assert.deepEqual(await store.exchange(note(b, "b2")), []);
      assert.deepEqual(await store.exchange(note(c, "c2")), []);
      // And writing c dropped a.
      assert.deepEqual(messages(await store.exchange(note(b, "b3"))), ["b2"]);
      assert.deepEqual(await store.exchange(note(a, "a4")), []);
    },
  );

  test("a location cap of 1 keeps only the latest location", { maxLocations: 1 }, async (store) => {
    await store.exchange(note(pt(1, 1), "x"));
    assert.deepEqual(messages(await store.exchange(note(pt(1, 1), "y"))), ["x"]);
    await store.exchange(note(pt(2, 2), "z"));
    assert.deepEqual(await store.exchange(note(pt(1, 1), "w")), []);
  });

  test("stored notes are copies of the ones given and returned", undefined, async (store) => {
    const given = { location: pt(7, 8), message: "original" };
    await store.exchange(given);
    // Changing the note after handing it over does not change what is stored.
    given.location.latitude = 999;
    given.message = "changed";
    const first = await store.exchange(note(pt(7, 8), "second"));
    assert.deepEqual(first, [note(pt(7, 8), "original")]);
    // Nor does changing what came back.
    first[0].message = "tampered";
    first[0].location.longitude = -1;
    first.push(note(pt(7, 8), "injected"));
    assert.deepEqual(await store.exchange(note(pt(7, 8), "third")), [
      note(pt(7, 8), "original"),
      note(pt(7, 8), "second"),
    ]);
    assert.deepEqual(await store.exchange(note(pt(999, 8), "elsewhere")), []);
  });

  test("messages round-trip any Unicode text exactly", undefined, async (store) => {
    const here = pt(0, 0);
    const texts = [
      "",
      "héllo wörld",
      "日本語のメモ",
      "👋🏽 family: 👨‍👩‍👧‍👦",
      "e\u0301 (combining accent) vs \u00e9",
      "tab\tnewline\nnull\u0000end",
      "\uFFFF\u{10FFFF}",
    ];
    for (const text of texts) await store.exchange(note(here, text));
    assert.deepEqual(messages(await store.exchange(note(here, "end"))), texts);
  });

  Deno.test(`${name}: close() resolves`, async () => {
    const store = await makeStore();
    await store.exchange(note(pt(1, 1), "before closing"));
    assert.equal(await store.close(), undefined);
  });
}

/**
 * For stores that share their notes (two connections to one file or
 * database): asserts that exchanges alternating between `one` and `two`
 * each see every earlier note, in order, at one place, and that places stay
 * apart.
 */
export async function assertSharedInOrder(
  one: RouteNotesStore,
  two: RouteNotesStore,
): Promise<void> {
  const seen: string[][] = [];
  for (let i = 0; i < 6; i++) {
    const store = i % 2 === 0 ? one : two;
    seen.push(messages(await store.exchange(note(pt(4, 4), `m${i}`))));
  }
  assert.deepEqual(seen, [
    [],
    ["m0"],
    ["m0", "m1"],
    ["m0", "m1", "m2"],
    ["m0", "m1", "m2", "m3"],
    ["m0", "m1", "m2", "m3", "m4"],
  ]);
  assert.deepEqual(await two.exchange(note(pt(5, 5), "elsewhere")), []);
  assert.deepEqual(messages(await one.exchange(note(pt(5, 5), "again"))), ["elsewhere"]);
}

/**
 * For durable stores: writes notes through one store, closes it, opens the
 * same file or database again with `open`, and asserts that the notes, the
 * per-location cap and the write order of the locations all survived.
 */
export async function assertKeptAcrossReopen(
  open: (limits: RouteNotesLimits) => Promise<RouteNotesStore> | RouteNotesStore,
): Promise<void> {
  const limits = { maxNotesPerLocation: 3, maxLocations: 2 };
  const at = (lat: number, message: string) => note(pt(lat, lat), message);
  const first = await open(limits);
  await first.exchange(at(1, "a1"));
  await first.exchange(at(2, "b1"));
  for (const m of ["a2", "a3", "a4"]) await first.exchange(at(1, m));
  await first.close();

  const second = await open(limits);
  try {
    assert.deepEqual(messages(await second.exchange(at(1, "a5"))), ["a2", "a3", "a4"]);
    assert.deepEqual(messages(await second.exchange(at(2, "b2"))), ["b1"]);
    // The write order survived too: 1,1 is now the least recently written.
    await second.exchange(at(3, "c1"));
    assert.deepEqual(await second.exchange(at(1, "a6")), []);
    assert.deepEqual(messages(await second.exchange(at(3, "c2"))), ["c1"]);
  } finally {
    await second.close();
  }
}
