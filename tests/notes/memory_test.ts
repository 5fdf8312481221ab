import assert from "node:assert/strict";
import { DEFAULT_MAX_LOCATIONS, DEFAULT_MAX_NOTES_PER_LOCATION } from "../../lib/notes/limits.ts";
import { createMemoryNotesStore } from "../../lib/notes/memory.ts";
import { runNotesStoreContract } from "./contract.ts";

runNotesStoreContract("createMemoryNotesStore()", createMemoryNotesStore);

Deno.test("createMemoryNotesStore() rejects limits that are not positive integers", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(
      () => createMemoryNotesStore({ maxNotesPerLocation: bad }),
      (error) =>
        error instanceof RangeError &&
        error.message.includes("maxNotesPerLocation must be a positive integer") &&
        error.message.includes(`current value is ${bad}`),
      `maxNotesPerLocation ${bad}`,
    );
    assert.throws(
      () => createMemoryNotesStore({ maxLocations: bad }),
      (error) =>
        error instanceof RangeError &&
        error.message.includes("maxLocations must be a positive integer"),
      `maxLocations ${bad}`,
    );
  }
});

Deno.test("createMemoryNotesStore() accepts a limit of 1", async () => {
  const store = createMemoryNotesStore({ maxNotesPerLocation: 1, maxLocations: 1 });
  const here = { latitude: 1, longitude: 1 };
  await store.exchange({ location: here, message: "a" });
  await store.exchange({ location: here, message: "b" });
  assert.deepEqual(await store.exchange({ location: here, message: "c" }), [
    { location: here, message: "b" },
  ]);
  await store.close();
});

Deno.test("createMemoryNotesStore() keeps 50 notes per location by default", async () => {
  assert.equal(DEFAULT_MAX_NOTES_PER_LOCATION, 50);
  const store = createMemoryNotesStore();
  const here = { latitude: 3, longitude: 4 };
  for (let i = 0; i < 60; i++) await store.exchange({ location: here, message: `m${i}` });
  const seen = await store.exchange({ location: here, message: "last" });
  assert.equal(seen.length, 50);
  assert.equal(seen[0].message, "m10");
  assert.equal(seen[49].message, "m59");
  await store.close();
});

Deno.test("createMemoryNotesStore() keeps 10,000 locations by default", async () => {
  assert.equal(DEFAULT_MAX_LOCATIONS, 10_000);
  const store = createMemoryNotesStore();
  for (let i = 0; i <= 10_000; i++) {
    await store.exchange({ location: { latitude: i, longitude: 0 }, message: `at ${i}` });
  }
  // The 10,001st location dropped the first; the second is still there.
  assert.equal(
    (await store.exchange({ location: { latitude: 1, longitude: 0 }, message: "" })).length,
    1,
  );
  assert.deepEqual(
    await store.exchange({ location: { latitude: 0, longitude: 0 }, message: "" }),
    [],
  );
  await store.close();
});

Deno.test("createMemoryNotesStore() tells apart every location, valid or not", async () => {
  const store = createMemoryNotesStore();
  const max = 2 ** 31 - 1;
  const places = [
    [0, 0],
    [0, 1],
    [1, 0],
    [900000000, max],
    [900000000, -max - 1],
    [-900000000, max],
    [-900000000, -1],
    [-900000000, 0],
    [-900000001, 0],
    [900000001, 0],
    [2 ** 30, 0],
    [-(2 ** 30), 0],
    [0, 2 ** 32],
    [0, 0.5],
    [0.5, 0],
    [0, NaN],
    [Infinity, 0],
  ];
  for (const [latitude, longitude] of places) {
    const location = { latitude, longitude };
    const where = `${latitude},${longitude}`;
    assert.deepEqual(await store.exchange({ location, message: where }), [], where);
  }
  for (const [latitude, longitude] of places) {
    const location = { latitude, longitude };
    const where = `${latitude},${longitude}`;
    assert.deepEqual(
      await store.exchange({ location, message: "again" }),
      [{ location, message: where }],
      where,
    );
  }
  // -0 is the same place as 0, as it is on the wire.
  assert.equal(
    (await store.exchange({ location: { latitude: -0, longitude: -0 }, message: "" })).length,
    2,
  );
  await store.close();
});

Deno.test("createMemoryNotesStore() starts a dropped location's successor empty", async () => {
  const store = createMemoryNotesStore({ maxNotesPerLocation: 3, maxLocations: 1 });
  const a = { latitude: 1, longitude: 1 };
  const b = { latitude: 2, longitude: 2 };
  for (let i = 0; i < 5; i++) await store.exchange({ location: a, message: `a${i}` });
  assert.deepEqual(await store.exchange({ location: b, message: "b0" }), []);
  assert.deepEqual(await store.exchange({ location: b, message: "b1" }), [
    { location: b, message: "b0" },
  ]);
  for (let i = 2; i < 7; i++) await store.exchange({ location: b, message: `b${i}` });
  assert.deepEqual(
    (await store.exchange({ location: b, message: "b7" })).map((n) => n.message),
    ["b4", "b5", "b6"],
  );
  assert.deepEqual(await store.exchange({ location: a, message: "a5" }), []);
  await store.close();
});

Deno.test("createMemoryNotesStore(): a location written again moves to the newest end; the oldest is dropped", async () => {
  const store = createMemoryNotesStore({ maxLocations: 3 });
  const at = (latitude: number) => ({ latitude, longitude: 0 });
  for (const lat of [1, 2, 3]) await store.exchange({ location: at(lat), message: `at ${lat}` });
  // 2, in the middle of the write order, is written again: the order is now 1, 3, 2.
  await store.exchange({ location: at(2), message: "again" });
  await store.exchange({ location: at(4), message: "at 4" }); // drops 1, the oldest
  assert.deepEqual(await store.exchange({ location: at(3), message: "x" }), [
    { location: at(3), message: "at 3" },
  ]);
  assert.deepEqual(
    (await store.exchange({ location: at(2), message: "y" })).map((n) => n.message),
    ["at 2", "again"],
  );
  assert.deepEqual(await store.exchange({ location: at(1), message: "z" }), [], "1 was kept");
});

Deno.test("createMemoryNotesStore(): locations outside the valid range or not integers get keys of their own", async () => {
  const store = createMemoryNotesStore();
  // Pairs that differ: fractions with the same integer part; latitudes past ±90° whose
  // packed numeric key would be NaN (and all NaNs are one Map key).
  const pairs: [number, number, number, number][] = [
    [1.5, 0, 1.2, 0],
    [1073217536, 0, 1073217536, 5],
    [-1074266112, 0, -1074266112, 7],
  ];
  for (const [lat1, lon1, lat2, lon2] of pairs) {
    const first = { latitude: lat1, longitude: lon1 };
    const second = { latitude: lat2, longitude: lon2 };
    assert.deepEqual(await store.exchange({ location: first, message: "1" }), []);
    assert.deepEqual(await store.exchange({ location: second, message: "2" }), [], `${lat2}`);
    assert.deepEqual(await store.exchange({ location: first, message: "3" }), [
      { location: first, message: "1" },
    ]);
  }
});
