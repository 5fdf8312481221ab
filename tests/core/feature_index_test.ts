import assert from "node:assert/strict";
import {
  buildFeatureDb,
  createFeatureDb,
  type Feature,
  type FeatureDb,
} from "../../lib/core/feature_index.ts";
import { type Bounds, type E7Point, normalizeRectangle } from "../../lib/core/geo.ts";
import { contains, pt, WORLD } from "../_geo.ts";
import { seededRandom } from "../_random.ts";

const feature = (name: string, latitude: number, longitude: number): Feature => ({
  name,
  location: pt(latitude, longitude),
});
const rect = (a: E7Point, b: E7Point): Bounds => normalizeRectangle(a, b);

/** The names of the features in bounds, sorted, for comparing sets. */
function namesWithin(db: FeatureDb, bounds: Bounds): string[] {
  return [...db.within(bounds)].map((f) => f.name).sort();
}

// --- building ---------------------------------------------------------------

Deno.test("createFeatureDb() on an empty array gives an empty database", () => {
  const { db, duplicates } = createFeatureDb([]);
  assert.equal(db.size, 0);
  assert.deepEqual(duplicates, []);
  assert.equal(db.get(pt(0, 0)), undefined);
  assert.equal(db.indexOf(0, 0), -1);
  assert.deepEqual([...db.within(WORLD)], []);
  assert.deepEqual([...db.indicesWithin(WORLD)], []);
});

Deno.test("FeatureDb.get() finds a feature at exactly its point and nowhere else", () => {
  const { db } = createFeatureDb([
    feature("Statue of Liberty", 406892000, -740445000),
    feature("Brooklyn Bridge", 407061000, -739969000),
  ]);
  assert.equal(db.size, 2);
  assert.deepEqual(
    db.get(pt(406892000, -740445000)),
    feature("Statue of Liberty", 406892000, -740445000),
  );
  assert.equal(db.get(pt(407061000, -739969000))?.name, "Brooklyn Bridge");
  assert.equal(db.get(pt(406892001, -740445000)), undefined);
  assert.equal(db.get(pt(406892000, -740444999)), undefined);
  // Latitude and longitude are not interchangeable.
  assert.equal(db.get(pt(-740445000, 406892000)), undefined);
  const i = db.indexOf(407061000, -739969000);
  assert.ok(i >= 0);
  assert.equal(db.nameAt(i), "Brooklyn Bridge");
  assert.deepEqual(db.at(i).location, pt(407061000, -739969000));
});

Deno.test("FeatureDb.get() finds every one of many features", () => {
  const features: Feature[] = [];
  for (let i = 0; i < 5_000; i++) features.push(feature(`f${i}`, i * 7 - 17_000, -i * 13));
  const { db, duplicates } = createFeatureDb(features);
  assert.equal(db.size, 5_000);
  assert.deepEqual(duplicates, []);
  for (const f of features) assert.equal(db.get(f.location)?.name, f.name);
  assert.equal(db.get(pt(1, 1)), undefined);
});

Deno.test("createFeatureDb() keeps the first feature at a point and reports later ones", () => {
  const p1 = pt(10, 20);
  const p2 = pt(-30, 40);
  const { db, duplicates } = createFeatureDb([
    { name: "A", location: p1 },
    { name: "B", location: p2 },
    { name: "C", location: p1 },
    { name: "D", location: p2 },
    { name: "E", location: p1 },
  ]);
  assert.equal(db.size, 2);
  assert.equal(db.get(p1)?.name, "A");
  assert.equal(db.get(p2)?.name, "B");
  assert.deepEqual(duplicates, [
    { index: 2, firstIndex: 0, location: p1 },
    { index: 3, firstIndex: 1, location: p2 },
    { index: 4, firstIndex: 0, location: p1 },
  ]);
});

Deno.test("createFeatureDb() names the first entry of a duplicate after earlier duplicates", () => {
  // Kept positions and input positions drift apart once entries are skipped.
  const { db, duplicates } = createFeatureDb([
    feature("A", 1, 1),
    feature("A again", 1, 1),
    feature("A third time", 1, 1),
    feature("B", 2, 2),
    feature("B again", 2, 2),
    feature("C", 3, 3),
    feature("C again", 3, 3),
  ]);
  assert.equal(db.size, 3);
  assert.deepEqual(
    duplicates.map(({ index, firstIndex }) => [index, firstIndex]),
    [[1, 0], [2, 0], [4, 3], [6, 5]],
  );
});

Deno.test("createFeatureDb() keeps each kept feature's own name after dropped duplicates", () => {
  const { db } = createFeatureDb([
    feature("A", 1, 1),
    feature("A again", 1, 1),
    feature("B", 2, 2),
    feature("C", 3, 3),
  ]);
  assert.deepEqual([db.nameAt(0), db.nameAt(1), db.nameAt(2)], ["A", "B", "C"]);
  assert.equal(db.get(pt(3, 3))?.name, "C");
  assert.deepEqual(db.at(1), feature("B", 2, 2));
});

Deno.test("buildFeatureDb() reads names packed in several pieces, each name in its piece", () => {
  // PackedNames: the names "a", "b", "é", "c", "d" in the pieces "ab", "é", "cd", which start at
  // units 0, 2 and 3 of the sequence of all names.
  const { db } = buildFeatureDb({
    latitudes: new Int32Array([1, 2, 3, 4, 5]),
    longitudes: new Int32Array([0, 0, 0, 0, 0]),
    names: {
      pieces: ["ab", "é", "cd"],
      pieceStarts: new Uint32Array([0, 2, 3]),
      pieceOf: new Uint32Array([0, 0, 1, 2, 2]),
      starts: new Uint32Array([0, 1, 2, 3, 4, 5]),
    },
  });
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => db.nameAt(i)), ["a", "b", "é", "c", "d"]);
});

Deno.test("createFeatureDb() reads a missing name as the empty string", () => {
  const { db } = createFeatureDb([{ location: { latitude: 5, longitude: 6 } }]);
  assert.deepEqual(db.get(pt(5, 6)), { name: "", location: pt(5, 6) });
});

Deno.test("createFeatureDb() reads a missing location or coordinate as 0, as protobuf does", () => {
  const { db } = createFeatureDb([
    { name: "origin" },
    { name: "on the equator", location: { longitude: 7 } },
  ]);
  assert.equal(db.get(pt(0, 0))?.name, "origin");
  assert.equal(db.get(pt(0, 7))?.name, "on the equator");
});

Deno.test("createFeatureDb() throws a TypeError naming the entry that is not a feature", () => {
  const good = feature("ok", 1, 1);
  const cases: [unknown[], RegExp][] = [
    [[good, good, null], /^Cannot read feature 2: expected an object, got null$/],
    [[42], /^Cannot read feature 0: expected an object/],
    [
      [good, { name: 5, location: pt(0, 0) }],
      /^Cannot read feature 1: name must be a string, got 5$/,
    ],
    [[good, { name: "x", location: "here" }], /^Cannot read feature 1: location must be an object/],
    [
      [good, good, good, { name: "x", location: { latitude: "1", longitude: 2 } }],
      /^Cannot read feature 3: location\.latitude and location\.longitude must be E7 integers/,
    ],
    [
      [good, { name: "x", location: { latitude: 1, longitude: "2" } }],
      /^Cannot read feature 1: location\.latitude and location\.longitude must be E7 integers/,
    ],
  ];
  for (const [entries, message] of cases) {
    assert.throws(() => createFeatureDb(entries), (error) => {
      assert.ok(error instanceof TypeError, `${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("createFeatureDb() throws a RangeError naming the entry with an invalid point", () => {
  const cases: [unknown[], RegExp][] = [
    [
      [feature("ok", 0, 0), feature("north", 900000001, 0)],
      /^Cannot read feature 1: location\.latitude is out of range .*900000001/,
    ],
    [
      [feature("west", 0, -1800000001)],
      /^Cannot read feature 0: location\.longitude is out of range .*-1800000001/,
    ],
    [
      [feature("a", 0, 0), feature("b", 1, 1), feature("half", 1.5, 0)],
      /^Cannot read feature 2: location\.latitude/,
    ],
  ];
  for (const [entries, message] of cases) {
    assert.throws(() => createFeatureDb(entries), (error) => {
      assert.ok(error instanceof RangeError, `${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
});

// --- within ------------------------------------------------------------------

Deno.test("FeatureDb.within() returns features on the rectangle's edges and corners", () => {
  // The rectangle is latitude [100, 200] × longitude [-300, -100].
  const inside = [
    feature("south-west corner", 100, -300),
    feature("south-east corner", 100, -100),
    feature("north-west corner", 200, -300),
    feature("north-east corner", 200, -100),
    feature("south edge", 100, -200),
    feature("north edge", 200, -200),
    feature("west edge", 150, -300),
    feature("east edge", 150, -100),
    feature("middle", 150, -200),
  ];
  const outside = [
    feature("just south", 99, -200),
    feature("just north", 201, -200),
    feature("just west", 150, -301),
    feature("just east", 150, -99),
    feature("just beyond the south-west corner", 99, -301),
    feature("just beyond the north-east corner", 201, -99),
    feature("south of the south-east corner", 99, -100),
    feature("east of the north-east corner", 200, -99),
  ];
  const { db } = createFeatureDb([...outside, ...inside]);
  const expected = inside.map((f) => f.name).sort();
  assert.deepEqual(namesWithin(db, rect(pt(100, -300), pt(200, -100))), expected);
  // Whichever corners the caller gives.
  assert.deepEqual(namesWithin(db, rect(pt(200, -300), pt(100, -100))), expected);
});

Deno.test("FeatureDb.within() with a one-point rectangle returns only the feature there", () => {
  const { db } = createFeatureDb([
    feature("here", 5, 5),
    feature("next door", 5, 6),
    feature("above", 6, 5),
  ]);
  assert.deepEqual(namesWithin(db, rect(pt(5, 5), pt(5, 5))), ["here"]);
  assert.deepEqual(namesWithin(db, rect(pt(4, 4), pt(4, 4))), []);
});

Deno.test("FeatureDb.within() yields full features lazily", () => {
  const features = Array.from({ length: 1_000 }, (_, i) => feature(`f${i}`, i, i));
  const { db } = createFeatureDb(features);
  const iterator = db.within(WORLD);
  const first = iterator.next();
  assert.equal(first.done, false);
  assert.ok(first.value !== undefined && /^f\d+$/.test(first.value.name));
  assert.deepEqual(db.get(first.value.location), first.value);
  // Stopping early is allowed and does not disturb later queries.
  iterator.return();
  assert.equal([...db.within(WORLD)].length, 1_000);
});

Deno.test("FeatureDb handles the poles and both ±180° longitudes", () => {
  const features = [
    feature("north pole", 900000000, 0),
    feature("north pole, other meridian", 900000000, 1800000000),
    feature("south pole", -900000000, -1800000000),
    feature("equator at +180", 0, 1800000000),
    feature("equator at -180", 0, -1800000000),
    feature("north at +180", 400000000, 1800000000),
    feature("origin", 0, 0),
  ];
  const { db, duplicates } = createFeatureDb(features);
  assert.equal(db.size, features.length);
  assert.deepEqual(duplicates, []);
  for (const f of features) assert.deepEqual(db.get(f.location), f);
  assert.deepEqual(namesWithin(db, WORLD), features.map((f) => f.name).sort());
  assert.deepEqual(
    namesWithin(db, rect(pt(900000000, -1800000000), pt(900000000, 1800000000))),
    ["north pole", "north pole, other meridian"],
  );
  assert.deepEqual(namesWithin(db, rect(pt(-900000000, -1800000000), pt(-1, -1800000000))), [
    "south pole",
  ]);
  assert.deepEqual(namesWithin(db, rect(pt(-900000000, 1800000000), pt(900000000, 1800000000))), [
    "equator at +180",
    "north at +180",
    "north pole, other meridian",
  ]);
  assert.deepEqual(namesWithin(db, rect(pt(0, -1800000000), pt(0, -1800000000))), [
    "equator at -180",
  ]);
  assert.deepEqual(namesWithin(db, rect(pt(-1, 1799999999), pt(400000000, 1800000000))), [
    "equator at +180",
    "north at +180",
  ]);
});

Deno.test("FeatureDb.indicesWithin() matches a linear scan on 20,000 random features", () => {
  const random = seededRandom(0x5eed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  // Data lies within ±60° latitude, so the caps above and below are empty.
  const DATA_MAX_LAT = 600000000;
  const sharedLatitudes = Array.from({ length: 120 }, () => int(-300000000, 300000000));
  const sharedLongitudes = Array.from({ length: 40 }, () => int(-1000000000, 1000000000));
  const features: Feature[] = [];
  for (let i = 0; i < 20_000; i++) {
    const kind = random();
    let latitude: number;
    let longitude: number;
    if (kind < 0.4) { // many features sharing a few latitudes
      latitude = sharedLatitudes[int(0, sharedLatitudes.length - 1)];
      longitude = int(-1000000000, 1000000000);
    } else if (kind < 0.5) { // and some sharing longitudes
      latitude = int(-300000000, 300000000);
      longitude = sharedLongitudes[int(0, sharedLongitudes.length - 1)];
    } else if (kind < 0.8) {
      latitude = int(-300000000, 300000000);
      longitude = int(-1000000000, 1000000000);
    } else if (kind < 0.9) { // a dense cluster, with duplicate points
      latitude = 100000000 + int(-300, 300);
      longitude = 100000000 + int(-300, 300);
    } else {
      latitude = int(-DATA_MAX_LAT, DATA_MAX_LAT);
      longitude = int(-1800000000, 1800000000);
    }
    features.push(feature(`f${i}`, latitude, longitude));
  }
  const { db, duplicates } = createFeatureDb(features);
  assert.ok(duplicates.length > 0, "the cluster should produce duplicate points");
  assert.equal(db.size + duplicates.length, features.length);

  const lat = new Int32Array(db.size);
  const lon = new Int32Array(db.size);
  for (let i = 0; i < db.size; i++) {
    const { location } = db.at(i);
    lat[i] = location.latitude;
    lon[i] = location.longitude;
  }
  const linearScan = (bounds: Bounds) => {
    const found: number[] = [];
    for (let i = 0; i < lat.length; i++) if (contains(bounds, lat[i], lon[i])) found.push(i);
    return found;
  };
  const anyPoint = () => db.at(int(0, db.size - 1)).location;

  const rectangles: Bounds[] = [WORLD];
  for (let r = 0; r < 300; r++) {
    const kind = r % 10;
    let a: E7Point;
    let b: E7Point;
    if (kind === 0) { // large, random
      a = pt(int(-700000000, 700000000), int(-1800000000, 1800000000));
      b = pt(int(-700000000, 700000000), int(-1800000000, 1800000000));
    } else if (kind === 1 || kind === 2) { // small, around a feature
      const c = anyPoint();
      const h = int(0, 2000000);
      const w = int(0, 5000000);
      a = pt(Math.max(-900000000, c.latitude - h), Math.max(-1800000000, c.longitude - w));
      b = pt(Math.min(900000000, c.latitude + int(0, h)), Math.min(1800000000, c.longitude + w));
    } else if (kind === 3) { // corners on two features: edges through data points
      a = anyPoint();
      b = anyPoint();
    } else if (kind === 4) { // zero height on a shared latitude
      const latitude = sharedLatitudes[int(0, sharedLatitudes.length - 1)];
      a = pt(latitude, int(-1000000000, 0));
      b = pt(latitude, int(0, 1000000000));
    } else if (kind === 5) { // zero width on a shared longitude
      const longitude = sharedLongitudes[int(0, sharedLongitudes.length - 1)];
      a = pt(int(-300000000, 0), longitude);
      b = pt(int(0, 300000000), longitude);
    } else if (kind === 6) { // a single point, usually a feature
      a = r % 20 === 6 ? anyPoint() : pt(int(-300000000, 300000000), int(-1000000000, 1000000000));
      b = a;
    } else if (kind === 7) { // inside the cluster
      a = pt(100000000 + int(-400, 400), 100000000 + int(-400, 400));
      b = pt(100000000 + int(-400, 400), 100000000 + int(-400, 400));
    } else if (kind === 8) { // outside the data, north or south
      const sign = r % 20 === 8 ? 1 : -1;
      a = pt(sign * int(DATA_MAX_LAT + 1, 900000000), int(-1800000000, 1800000000));
      b = pt(sign * int(DATA_MAX_LAT + 1, 900000000), int(-1800000000, 1800000000));
    } else { // thin strips across the whole world
      const latitude = int(-300000000, 300000000);
      a = pt(latitude, -1800000000);
      b = pt(latitude + int(0, 100000), 1800000000);
    }
    rectangles.push(rect(a, b));
  }

  let nonEmpty = 0;
  for (const bounds of rectangles) {
    const expected = linearScan(bounds);
    const actual = [...db.indicesWithin(bounds)];
    assert.equal(new Set(actual).size, actual.length, `duplicates in ${JSON.stringify(bounds)}`);
    assert.deepEqual(actual.sort((x, y) => x - y), expected, JSON.stringify(bounds));
    if (bounds.minLatitude > DATA_MAX_LAT || bounds.maxLatitude < -DATA_MAX_LAT) {
      assert.equal(actual.length, 0);
    }
    if (expected.length > 0) nonEmpty++;
  }
  // The rectangles really exercise the index: most of them find something.
  assert.ok(nonEmpty > 150, `only ${nonEmpty} rectangles found features`);
  assert.equal([...db.indicesWithin(WORLD)].length, db.size);
});
