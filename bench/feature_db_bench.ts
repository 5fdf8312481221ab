/**
 * The feature database's hot paths against a linear scan, in one run:
 * `deno task bench`.
 */

import {
  buildFeatureDb,
  createFeatureDb,
  type Feature,
  parseFeatureDb,
} from "../lib/core/feature_index.ts";
import { createFeatureScanner } from "../lib/core/feature_scan.ts";
import { normalizeRectangle } from "../lib/core/geo.ts";
import { seededRandom } from "../tests/_random.ts";

const SIZES = [1_000, 100_000, 1_000_000];

/** Results are added here so that no query is optimised away. */
let sink = 0;
globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});

/** Random features in the 1° × 1° box at 40°N, 75°W, as the peers' generator makes them. */
function features(n: number): Feature[] {
  const random = seededRandom(n);
  return Array.from({ length: n }, (_, i) => ({
    name: i % 10 === 0 ? "" : `Feature ${i}`,
    location: {
      latitude: 400000000 + Math.floor(random() * 10_000_000),
      longitude: -750000000 + Math.floor(random() * 10_000_000),
    },
  }));
}

for (const n of SIZES) {
  const list = features(n);
  const { db } = createFeatureDb(list);
  const random = seededRandom(7);
  const probes = Array.from({ length: 1024 }, () => list[Math.floor(random() * n)].location);
  let i = 0;

  Deno.bench({
    name: `exact lookup, index, ${n} features`,
    group: `lookup ${n}`,
    baseline: true,
    fn() {
      const p = probes[i++ & 1023];
      if (db.indexOf(p.latitude, p.longitude) < 0) throw new Error("missing");
    },
  });
  Deno.bench({
    name: `get(): lookup and the feature with its name, ${n} features`,
    group: `lookup ${n}`,
    fn() {
      const p = probes[i++ & 1023];
      sink += db.get(p)!.name.length;
    },
  });
  if (n <= 100_000) {
    Deno.bench({
      name: `exact lookup, linear scan, ${n} features`,
      group: `lookup ${n}`,
      fn() {
        const p = probes[i++ & 1023];
        if (
          !list.some((f) =>
            f.location.latitude === p.latitude && f.location.longitude === p.longitude
          )
        ) {
          throw new Error("missing");
        }
      },
    });
  }

  for (const side of [0.01, 0.1]) {
    const sideE7 = side * 1e7;
    const rects = Array.from({ length: 256 }, () => {
      const lat = 400000000 + Math.floor(random() * (10_000_000 - sideE7));
      const lon = -750000000 + Math.floor(random() * (10_000_000 - sideE7));
      return normalizeRectangle({ latitude: lat, longitude: lon }, {
        latitude: lat + sideE7,
        longitude: lon + sideE7,
      });
    });
    let j = 0;
    Deno.bench({
      name: `${side}° rectangle, index, ${n} features`,
      group: `rect ${side} ${n}`,
      baseline: true,
      fn() {
        let count = 0;
        for (const _ of db.indicesWithin(rects[j++ & 255])) count++;
        sink += count;
      },
    });
    Deno.bench({
      name: `${side}° rectangle, linear scan, ${n} features`,
      group: `rect ${side} ${n}`,
      fn() {
        const b = rects[j++ & 255];
        let count = 0;
        for (const f of list) {
          const { latitude, longitude } = f.location;
          if (
            latitude >= b.minLatitude && latitude <= b.maxLatitude &&
            longitude >= b.minLongitude && longitude <= b.maxLongitude
          ) count++;
        }
        sink += count;
      },
    });
  }
}

Deno.bench({
  name: "build the index, 1,000,000 features",
  group: "build",
  n: 3,
  fn() {
    createFeatureDb(features(1_000_000));
  },
});

/** The text of a feature file of `n` features, laid out as the peers' make_db.py writes it. */
function fileText(n: number): string {
  return "[" +
    features(n).map((f, i) =>
      `${
        i ? "," : ""
      }\n{"name": "${f.name}", "location": {"latitude": ${f.location.latitude}, "longitude": ${f.location.longitude}}}`
    ).join("") + "\n]\n";
}

const FILE_TEXT = fileText(1_000_000);
const FILE_BYTES = new TextEncoder().encode(FILE_TEXT);

Deno.bench({
  name: "load 1,000,000 features: the scanner, 64 KiB chunks",
  group: "load",
  baseline: true,
  n: 3,
  fn() {
    const scanner = createFeatureScanner();
    for (let at = 0; at < FILE_BYTES.length; at += 65536) {
      const chunk = FILE_BYTES.subarray(at, at + 65536);
      scanner.space().set(chunk);
      if (!scanner.add(chunk.length)) throw new Error("declined");
    }
    buildFeatureDb(scanner.finish()!);
  },
});

Deno.bench({
  name: "load 1,000,000 features: JSON.parse, then object by object",
  group: "load",
  n: 3,
  fn() {
    parseFeatureDb(FILE_TEXT, "bench");
  },
});
