import assert from "node:assert/strict";
import {
  type E7Point,
  EARTH_RADIUS_M,
  fromE7,
  haversineMeters,
  INT32_MAX,
  MAX_LATITUDE_E7,
  MAX_LONGITUDE_E7,
  normalizeRectangle,
  pointProblem,
  saturateInt32,
  toE7,
} from "../../lib/core/geo.ts";
import { seededRandom } from "../_random.ts";

import { contains, pt } from "../_geo.ts";

/** Throws a `RangeError` carrying pointProblem()'s message: what a caller of it would do. */
function assertValidPoint(point: E7Point, field = ""): void {
  const problem = pointProblem(point, field);
  if (problem !== undefined) throw new RangeError(problem);
}

// --- toE7 / fromE7 ---------------------------------------------------------

Deno.test("toE7() converts degrees to E7 units", () => {
  assert.equal(toE7(-74.0445), -740445000);
  assert.equal(toE7(40.6892), 406892000);
  assert.equal(toE7(0), 0);
  assert.equal(toE7(90), MAX_LATITUDE_E7);
  assert.equal(toE7(-180), -MAX_LONGITUDE_E7);
});

Deno.test("toE7() rounds to the nearest E7 unit", () => {
  assert.equal(toE7(1.23456784), 12345678);
  assert.equal(toE7(1.23456786), 12345679);
  assert.equal(toE7(-1.23456784), -12345678);
  assert.equal(toE7(-1.23456786), -12345679);
  assert.equal(toE7(0.00000004), 0);
  assert.equal(toE7(0.00000006), 1);
});

Deno.test("toE7() rounds a positive half unit (x.xxxxxxx5) up", () => {
  assert.equal(toE7(1.00000005), 10000001);
  assert.equal(toE7(40.12345675), 401234568);
  assert.equal(toE7(0.00000005), 1);
});

Deno.test({
  name: "toE7() rounds a negative half unit away from zero, mirroring the positive one",
  fn() {
    assert.equal(toE7(-1.00000005), -10000001);
    assert.equal(toE7(-40.12345675), -401234568);
    assert.equal(toE7(-0.00000005), -1);
    assert.equal(toE7(-0.00000001), 0); // +0, not -0
    for (const d of [1.00000005, 40.12345675, 0.00000015, 73.98570005]) {
      assert.equal(toE7(-d), -toE7(d), `toE7(-${d})`);
    }
  },
});

Deno.test("fromE7() converts E7 units to degrees", () => {
  assert.equal(fromE7(-740445000), -74.0445);
  assert.equal(fromE7(MAX_LATITUDE_E7), 90);
  assert.equal(fromE7(1), 1e-7);
  assert.equal(fromE7(0), 0);
});

Deno.test("toE7(fromE7(n)) gives back every integer n in range", () => {
  const random = seededRandom(7);
  for (let i = 0; i < 10_000; i++) {
    const n = Math.round((random() * 2 - 1) * MAX_LONGITUDE_E7);
    assert.equal(toE7(fromE7(n)), n);
  }
  for (const n of [MAX_LATITUDE_E7, -MAX_LATITUDE_E7, MAX_LONGITUDE_E7, -MAX_LONGITUDE_E7, 1, -1]) {
    assert.equal(toE7(fromE7(n)), n);
  }
});

// --- pointProblem / assertValidPoint ---------------------------------------

Deno.test("pointProblem() accepts points exactly on the limits", () => {
  for (const latitude of [MAX_LATITUDE_E7, -MAX_LATITUDE_E7, 0]) {
    for (const longitude of [MAX_LONGITUDE_E7, -MAX_LONGITUDE_E7, 0]) {
      assert.equal(pointProblem(pt(latitude, longitude)), undefined, `${latitude},${longitude}`);
      assert.doesNotThrow(() => assertValidPoint(pt(latitude, longitude), "p"));
    }
  }
  assert.equal(MAX_LATITUDE_E7, 900000000);
  assert.equal(MAX_LONGITUDE_E7, 1800000000);
});

Deno.test("pointProblem() rejects a latitude one unit beyond ±90°, naming field and value", () => {
  assert.equal(
    pointProblem(pt(900000001, 0), "lo"),
    "lo.latitude is out of range [-90°, 90°]: 900000001 (90.0000001°)",
  );
  const south = pointProblem(pt(-900000001, 0), "hi");
  assert.ok(south !== undefined);
  assert.match(south, /^hi\.latitude is out of range/);
  assert.match(south, /-900000001/);
});

Deno.test("pointProblem() rejects a longitude one unit beyond ±180°, naming field and value", () => {
  const west = pointProblem(pt(0, -1800000001), "lo");
  assert.ok(west !== undefined);
  assert.match(west, /^lo\.longitude is out of range \[-180°, 180°\]: -1800000001 /);
  const east = pointProblem(pt(0, 1800000001));
  assert.ok(east !== undefined);
  assert.match(east, /^longitude is out of range/);
  assert.match(east, /1800000001/);
});

Deno.test("pointProblem() without a field name has no prefix", () => {
  assert.match(pointProblem(pt(900000001, 0)) ?? "", /^latitude is out of range/);
});

Deno.test("pointProblem() reports the latitude first when both are wrong", () => {
  assert.match(pointProblem(pt(-900000001, 1800000001), "p") ?? "", /^p\.latitude /);
});

Deno.test("pointProblem() rejects coordinates that are not integers", () => {
  for (const bad of [0.5, 1.5, -1e-9, NaN, Infinity, -Infinity]) {
    assert.match(pointProblem(pt(bad, 0), "p") ?? "", /^p\.latitude /, `latitude ${bad}`);
    assert.match(pointProblem(pt(0, bad), "p") ?? "", /^p\.longitude /, `longitude ${bad}`);
  }
});

Deno.test("assertValidPoint() throws a RangeError carrying pointProblem()'s message", () => {
  assert.throws(() => assertValidPoint(pt(900000001, 0), "location"), {
    name: "RangeError",
    message: "location.latitude is out of range [-90°, 90°]: 900000001 (90.0000001°)",
  });
  assert.throws(
    () => assertValidPoint(pt(0, -1800000001)),
    (error) => error instanceof RangeError && /^longitude is out of range/.test(error.message),
  );
  assert.throws(() => assertValidPoint(pt(1.5, 0), "x"), RangeError);
});

// --- normalizeRectangle / contains -----------------------------------------

Deno.test("normalizeRectangle() sorts corners given in every order", () => {
  const expected = { minLatitude: 10, maxLatitude: 30, minLongitude: -40, maxLongitude: 20 };
  const corners: [E7Point, E7Point][] = [
    [pt(10, -40), pt(30, 20)], // lo, hi
    [pt(30, 20), pt(10, -40)], // hi, lo
    [pt(10, 20), pt(30, -40)], // south-east, north-west
    [pt(30, -40), pt(10, 20)], // north-west, south-east
  ];
  for (const [a, b] of corners) {
    assert.deepEqual(normalizeRectangle(a, b), expected, JSON.stringify([a, b]));
  }
});

Deno.test("normalizeRectangle() with equal corners gives a one-point rectangle", () => {
  const p = pt(-5, 7);
  assert.deepEqual(normalizeRectangle(p, p), {
    minLatitude: -5,
    maxLatitude: -5,
    minLongitude: 7,
    maxLongitude: 7,
  });
  assert.ok(contains(normalizeRectangle(p, p), -5, 7));
  assert.ok(!contains(normalizeRectangle(p, p), -5, 8));
});

Deno.test("contains() includes the edges and excludes one unit outside", () => {
  const b = normalizeRectangle(pt(10, 20), pt(30, 40));
  for (const [lat, lon] of [[10, 20], [30, 40], [10, 40], [30, 20], [20, 20], [20, 40], [10, 30]]) {
    assert.ok(contains(b, lat, lon), `${lat},${lon}`);
  }
  for (const [lat, lon] of [[9, 30], [31, 30], [20, 19], [20, 41]]) {
    assert.ok(!contains(b, lat, lon), `${lat},${lon}`);
  }
});

// --- haversineMeters -------------------------------------------------------

Deno.test("haversineMeters() is 0 between a point and itself", () => {
  for (const p of [pt(0, 0), pt(406892000, -740445000), pt(900000000, 0), pt(0, 1800000000)]) {
    assert.equal(haversineMeters(p, p), 0);
  }
});

Deno.test("haversineMeters() gives about 111195 m for one degree of latitude", () => {
  assert.equal(Math.round(haversineMeters(pt(0, 0), pt(10000000, 0))), 111195);
  // Anywhere along a meridian.
  assert.equal(
    Math.round(haversineMeters(pt(400000000, -740000000), pt(410000000, -740000000))),
    111195,
  );
  // One degree of longitude shrinks with the cosine of the latitude.
  const atSixty = haversineMeters(pt(600000000, 0), pt(600000000, 10000000));
  assert.ok(Math.abs(atSixty - 111195 / 2) < 50, `${atSixty}`);
});

Deno.test("haversineMeters() from pole to pole is half the circumference (π·R)", () => {
  const d = haversineMeters(pt(900000000, 0), pt(-900000000, 0));
  assert.equal(Math.round(d), 20015087);
  assert.ok(Math.abs(d - Math.PI * EARTH_RADIUS_M) < 1e-6);
  // At a pole, longitude does not matter.
  assert.ok(haversineMeters(pt(900000000, 0), pt(900000000, 1234567890)) < 1e-6);
});

Deno.test("haversineMeters() across the antimeridian takes the short way", () => {
  const d = haversineMeters(pt(0, 1799000000), pt(0, -1799000000));
  assert.equal(Math.round(d), 22239);
  assert.ok(d > 22_000 && d < 22_500, `${d}`);
  // +180 and -180 are the same meridian.
  assert.ok(haversineMeters(pt(0, 1800000000), pt(0, -1800000000)) < 1e-6);
});

Deno.test({
  name: "haversineMeters() gives π·R for antipodal points, never NaN",
  fn() {
    const half = Math.PI * EARTH_RADIUS_M;
    assert.ok(Math.abs(haversineMeters(pt(-820000000, -1800000000), pt(820000000, 0)) - half) < 1);
    for (let lat = -900000000; lat <= 900000000; lat += 10000000) {
      for (let lon = -1800000000; lon <= 0; lon += 10000000) {
        const d = haversineMeters(pt(lat, lon), pt(-lat, lon + 1800000000));
        assert.ok(Math.abs(d - half) < 1, `(${lat}, ${lon}) to its antipode: ${d}`);
      }
    }
  },
});

Deno.test("haversineMeters() is symmetric", () => {
  const random = seededRandom(42);
  const randomPoint = () =>
    pt(
      Math.round((random() * 2 - 1) * MAX_LATITUDE_E7),
      Math.round((random() * 2 - 1) * MAX_LONGITUDE_E7),
    );
  for (let i = 0; i < 2_000; i++) {
    const a = randomPoint();
    const b = randomPoint();
    const ab = haversineMeters(a, b);
    assert.ok(ab >= 0 && ab <= Math.PI * EARTH_RADIUS_M + 1e-6, `${ab}`);
    assert.equal(ab, haversineMeters(b, a), JSON.stringify([a, b]));
  }
});

// --- saturateInt32 ---------------------------------------------------------

Deno.test("saturateInt32() truncates towards zero", () => {
  assert.equal(saturateInt32(0), 0);
  assert.equal(saturateInt32(0.9), 0);
  assert.equal(saturateInt32(1.9999), 1);
  assert.equal(saturateInt32(22238.985), 22238);
  assert.equal(saturateInt32(2147483646.99), 2147483646);
});

Deno.test("saturateInt32() caps at 2147483647", () => {
  assert.equal(INT32_MAX, 2147483647);
  assert.equal(saturateInt32(2147483647), 2147483647);
  assert.equal(saturateInt32(2147483647.5), 2147483647);
  assert.equal(saturateInt32(2147483648), 2147483647);
  assert.equal(saturateInt32(1e20), 2147483647);
  assert.equal(saturateInt32(Infinity), 2147483647);
});
