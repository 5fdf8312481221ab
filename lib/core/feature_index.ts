/**
 * The feature database in memory: named places in E7 coordinates, stored in
 * columns, with an O(1) exact-point lookup and a static spatial index for
 * rectangle queries; built from features or from the text of a JSON file.
 * Pure: reading the file is `feature_file.ts`'s.
 *
 * @module
 */

import { type Bounds, type E7Point, pointProblem } from "./geo.ts";

/** A named place, shaped like the protobuf `Feature`. An empty name means "nothing named here". */
export interface Feature {
  /** The place's name; `""` for an unnamed point. */
  name: string;
  /** Where it is. */
  location: E7Point;
}

/** Read-only access to a set of features. */
export interface FeatureDb {
  /** How many features the database holds. */
  readonly size: number;
  /** The index of the feature at exactly this point, or -1. */
  indexOf(latitude: number, longitude: number): number;
  /** The feature at exactly this point, or `undefined`. */
  get(point: E7Point): Feature | undefined;
  /** The feature stored at an index from {@linkcode FeatureDb.indexOf} or {@linkcode FeatureDb.indicesWithin}. */
  at(index: number): Feature;
  /** The name stored at an index. */
  nameAt(index: number): string;
  /**
   * Yields the index of every feature inside the bounds, edges included,
   * lazily: no result list is built, so a caller may stop at any time.
   */
  indicesWithin(bounds: Bounds): Generator<number, void, undefined>;
  /** Yields every feature inside the bounds, edges included, lazily. */
  within(bounds: Bounds): Generator<Feature, void, undefined>;
}

/** A duplicate location found while building a database. */
export interface DuplicateFeature {
  /** Position of the ignored entry in the input. */
  index: number;
  /** Position of the entry that was kept (the first one at that point). */
  firstIndex: number;
  /** The shared location. */
  location: E7Point;
}

/** What {@linkcode createFeatureDb} built. */
export interface FeatureDbBuild {
  /** The database. */
  db: FeatureDb;
  /** Entries dropped because an earlier entry has the same location. */
  duplicates: DuplicateFeature[];
}

/**
 * Builds a database from features. When a location repeats, the first
 * feature wins and the later ones are reported in `duplicates`.
 *
 * Throws a `TypeError` or `RangeError` naming the entry when an entry is not
 * a valid feature.
 *
 * @example
 * ```ts
 * import { createFeatureDb } from "./feature_index.ts";
 * import assert from "node:assert/strict";
 * const { db } = createFeatureDb([
 *   { name: "Statue of Liberty", location: { latitude: 406892000, longitude: -740445000 } },
 * ]);
 * assert.equal(db.get({ latitude: 406892000, longitude: -740445000 })?.name, "Statue of Liberty");
 * ```
 */
export function createFeatureDb(features: readonly unknown[]): FeatureDbBuild {
  const count = features.length;
  const latitudes = new Int32Array(count);
  const longitudes = new Int32Array(count);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const { name, latitude, longitude } = checkFeature(features[i], i);
    latitudes[i] = latitude;
    longitudes[i] = longitude;
    names.push(name);
  }
  return buildFeatureDb({ latitudes, longitudes, names: packNames(names) });
}

/**
 * Names kept in a few long strings ("pieces") and where each one starts:
 * a million names cost a few strings instead of a million (at a million
 * features, 40 MB less RSS); a name is sliced out when it is asked for.
 * A name never spans two pieces.
 */
export interface PackedNames {
  /** The pieces: every name, one after another. */
  pieces: string[];
  /** Where each piece starts in the sequence of all names (UTF-16 units). */
  pieceStarts: Uint32Array;
  /** The piece each name is in. */
  pieceOf: Uint32Array;
  /** Where name i starts in the sequence of all names; one extra entry marks the end. */
  starts: Uint32Array;
}

/** Packs a list of names into one piece. */
export function packNames(names: readonly string[]): PackedNames {
  const starts = new Uint32Array(names.length + 1);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    starts[i] = at;
    at += names[i].length;
  }
  starts[names.length] = at;
  return {
    pieces: [names.join("")],
    pieceStarts: new Uint32Array(1),
    pieceOf: new Uint32Array(names.length),
    starts,
  };
}

/** Name `i` of packed names. */
function nameOf(names: PackedNames, i: number): string {
  const piece = names.pieceOf[i];
  const base = names.pieceStarts[piece];
  return names.pieces[piece].slice(names.starts[i] - base, names.starts[i + 1] - base);
}

/** Valid features in columns, in input order, duplicates included: what a file reader produces. */
export interface FeatureColumns {
  /** E7 latitudes, each in range; one per feature. */
  latitudes: Int32Array;
  /** E7 longitudes, each in range; one per feature. */
  longitudes: Int32Array;
  /** The names, one per feature. */
  names: PackedNames;
}

/**
 * Builds a database from checked columns, as {@linkcode createFeatureDb}
 * does from objects: the first feature at a point wins, later ones are
 * reported in `duplicates`.
 */
export function buildFeatureDb(columns: FeatureColumns): FeatureDbBuild {
  const { latitudes, longitudes } = columns;
  const count = latitudes.length;
  const table = new PointTable(count);
  const duplicates: DuplicateFeature[] = [];
  // Input position of each kept feature, to name the first of a duplicate.
  let sourceIndex: Int32Array | undefined;
  let size = 0;
  for (let i = 0; i < count; i++) {
    const latitude = latitudes[i];
    const longitude = longitudes[i];
    const existing = table.find(latitude, longitude, latitudes, longitudes);
    if (existing >= 0) {
      if (sourceIndex === undefined) sourceIndex = identity(count);
      const location = { latitude, longitude };
      duplicates.push({ index: i, firstIndex: sourceIndex[existing], location });
      continue;
    }
    if (sourceIndex !== undefined) sourceIndex[size] = i;
    // Kept features move down over the dropped ones; the table finds them at `size`.
    latitudes[size] = latitude;
    longitudes[size] = longitude;
    table.insert(size, latitude, longitude);
    size++;
  }
  const names = sourceIndex === undefined
    ? columns.names
    : keptNames(columns.names, sourceIndex, size);
  // Exactly sized: a subarray would keep the whole input column alive.
  const lat = size === count ? latitudes : latitudes.slice(0, size);
  const lon = size === count ? longitudes : longitudes.slice(0, size);
  const index = buildStripIndex(lat, lon);
  return { db: new ColumnarFeatureDb(lat, lon, names, table, index), duplicates };
}

function identity(count: number): Int32Array {
  const positions = new Int32Array(count);
  for (let i = 0; i < count; i++) positions[i] = i;
  return positions;
}

/** The names of the kept features, `sourceIndex[0..size)` of the input. */
function keptNames(names: PackedNames, sourceIndex: Int32Array, size: number): PackedNames {
  const kept: string[] = [];
  for (let k = 0; k < size; k++) {
    const i = sourceIndex[k];
    kept.push(nameOf(names, i));
  }
  return packNames(kept);
}

function checkFeature(
  value: unknown,
  i: number,
): { name: string; latitude: number; longitude: number } {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `Cannot read feature ${i}: expected an object, got ${JSON.stringify(value)}`,
    );
  }
  const { name, location } = value as { name?: unknown; location?: unknown };
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(
      `Cannot read feature ${i}: name must be a string, got ${JSON.stringify(name)}`,
    );
  }
  const loc = (location ?? {}) as { latitude?: unknown; longitude?: unknown };
  if (typeof loc !== "object") {
    throw new TypeError(
      `Cannot read feature ${i}: location must be an object, got ${JSON.stringify(location)}`,
    );
  }
  const latitude = loc.latitude ?? 0;
  const longitude = loc.longitude ?? 0;
  if (typeof latitude !== "number" || typeof longitude !== "number") {
    throw new TypeError(
      `Cannot read feature ${i}: location.latitude and location.longitude must be E7 integers, got ${
        JSON.stringify(location)
      }`,
    );
  }
  const problem = pointProblem({ latitude, longitude }, "location");
  if (problem !== undefined) throw new RangeError(`Cannot read feature ${i}: ${problem}`);
  return { name: name ?? "", latitude, longitude };
}

/**
 * An open-addressing hash table from (latitude, longitude) to a feature
 * position, stored in one `Int32Array`: O(1) lookups in a few bytes a feature.
 */
class PointTable {
  #slots: Int32Array;
  #mask: number;

  constructor(capacity: number) {
    let size = 8;
    while (size < capacity * 2) size *= 2;
    this.#slots = new Int32Array(size).fill(-1);
    this.#mask = size - 1;
  }

  #hash(latitude: number, longitude: number): number {
    let h = Math.imul(latitude, 0x9e3779b1) ^ longitude;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    return (h ^ (h >>> 13)) & this.#mask;
  }

  find(latitude: number, longitude: number, lats: Int32Array, lons: Int32Array): number {
    const slots = this.#slots;
    for (let s = this.#hash(latitude, longitude);; s = (s + 1) & this.#mask) {
      const i = slots[s];
      if (i < 0) return -1;
      if (lats[i] === latitude && lons[i] === longitude) return i;
    }
  }

  insert(position: number, latitude: number, longitude: number): void {
    const slots = this.#slots;
    let s = this.#hash(latitude, longitude);
    while (slots[s] >= 0) s = (s + 1) & this.#mask;
    slots[s] = position;
  }
}

/**
 * A static spatial index: the features sorted by latitude and cut into
 * strips of equal count, each strip sorted by longitude. A query visits the
 * strips its latitude range touches and, in each, only the longitude range,
 * found by binary search.
 */
interface StripIndex {
  /** Feature positions, strip after strip, each strip by longitude. */
  order: Uint32Array;
  /** Longitudes in `order`'s order, for binary search. */
  sortedLongitudes: Int32Array;
  /** Where each strip starts in `order`; one extra entry marks the end. */
  stripStart: Uint32Array;
  /** Smallest and largest latitude in each strip. */
  stripMinLatitude: Int32Array;
  stripMaxLatitude: Int32Array;
}

/**
 * Stable radix sorts of positions by a coordinate: two passes of 16 bits
 * (linear: at a million features 25 ms, where the typed array's own sort
 * took 300 ms and a comparator several times that). The scratch arrays are
 * allocated once for both coordinates: fresh memory costs a page fault a
 * page, more than the sort's own work.
 */
class PositionSorter {
  readonly #keys: Uint32Array;
  readonly #scratch: Uint32Array;
  readonly #counts = new Uint32Array(65537);

  constructor(n: number) {
    this.#keys = new Uint32Array(n);
    this.#scratch = new Uint32Array(n);
  }

  /** Fills `into` with positions 0..n-1 in the order of `values`, ties in position order. */
  sort(values: Int32Array, into: Uint32Array): Uint32Array {
    const keys = this.#keys;
    // Flipping the sign bit orders signed integers as unsigned ones.
    for (let i = 0; i < values.length; i++) keys[i] = (values[i] ^ 0x80000000) >>> 0;
    for (let i = 0; i < values.length; i++) into[i] = i;
    this.#pass(into, this.#scratch, 0);
    this.#pass(this.#scratch, into, 16);
    return into;
  }

  /** One stable counting-sort pass of `from` into `to` by 16 bits of the keys from bit `shift`. */
  #pass(from: Uint32Array, to: Uint32Array, shift: number): void {
    const keys = this.#keys;
    const counts = this.#counts.fill(0);
    for (let k = 0; k < from.length; k++) counts[((keys[from[k]] >>> shift) & 0xffff) + 1]++;
    for (let d = 1; d < 65537; d++) counts[d] += counts[d - 1];
    for (let k = 0; k < from.length; k++) {
      const i = from[k];
      to[counts[(keys[i] >>> shift) & 0xffff]++] = i;
    }
  }
}

/**
 * Strips of `stripSize` features by latitude, each ordered by longitude
 * (ties in position order). Sorting everything by longitude once, then
 * distributing into strips in that order, sorts every strip at once.
 */
function buildStripIndex(lat: Int32Array, lon: Int32Array): StripIndex {
  const n = lat.length;
  const sorter = new PositionSorter(n);
  const sorted = sorter.sort(lat, new Uint32Array(n));
  const stripSize = Math.max(16, Math.ceil(Math.sqrt(n)));
  const strips = Math.ceil(n / stripSize);
  const stripOf = new Uint32Array(n);
  for (let k = 0; k < n; k++) stripOf[sorted[k]] = Math.floor(k / stripSize);
  const stripStart = new Uint32Array(strips + 1);
  const stripMinLatitude = new Int32Array(strips);
  const stripMaxLatitude = new Int32Array(strips);
  for (let s = 0; s < strips; s++) {
    const start = s * stripSize;
    stripStart[s] = start;
    stripMinLatitude[s] = lat[sorted[start]];
    stripMaxLatitude[s] = lat[sorted[Math.min(n, start + stripSize) - 1]];
  }
  stripStart[strips] = n;
  const byLongitude = sorter.sort(lon, sorted);
  const order = new Uint32Array(n);
  const next = stripStart.slice(0, strips);
  for (let k = 0; k < n; k++) {
    const i = byLongitude[k];
    order[next[stripOf[i]]++] = i;
  }
  // The longitudes in `order`, written over `stripOf`, whose job is done.
  const sortedLongitudes = new Int32Array(stripOf.buffer);
  for (let k = 0; k < n; k++) sortedLongitudes[k] = lon[order[k]];
  return { order, sortedLongitudes, stripStart, stripMinLatitude, stripMaxLatitude };
}

/** First position in `values[from, to)` whose value is >= `target`. */
function lowerBound(values: Int32Array, from: number, to: number, target: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class ColumnarFeatureDb implements FeatureDb {
  readonly #lat: Int32Array;
  readonly #lon: Int32Array;
  readonly #names: PackedNames;
  readonly #table: PointTable;
  readonly #index: StripIndex;

  constructor(
    lat: Int32Array,
    lon: Int32Array,
    names: PackedNames,
    table: PointTable,
    index: StripIndex,
  ) {
    this.#lat = lat;
    this.#lon = lon;
    this.#names = names;
    this.#table = table;
    this.#index = index;
  }

  get size(): number {
    return this.#lat.length;
  }

  indexOf(latitude: number, longitude: number): number {
    return this.#table.find(latitude, longitude, this.#lat, this.#lon);
  }

  get(point: E7Point): Feature | undefined {
    const i = this.indexOf(point.latitude, point.longitude);
    return i < 0 ? undefined : this.at(i);
  }

  at(index: number): Feature {
    return {
      name: this.nameAt(index),
      location: { latitude: this.#lat[index], longitude: this.#lon[index] },
    };
  }

  nameAt(index: number): string {
    return nameOf(this.#names, index);
  }

  *indicesWithin(bounds: Bounds): Generator<number, void, undefined> {
    const { order, sortedLongitudes, stripStart, stripMinLatitude, stripMaxLatitude } = this.#index;
    const lat = this.#lat;
    const { minLatitude, maxLatitude, minLongitude, maxLongitude } = bounds;
    const strips = stripMinLatitude.length;
    // Strips are sorted by latitude: skip those that end below the range.
    let s = 0;
    let hi = strips;
    while (s < hi) {
      const mid = (s + hi) >>> 1;
      if (stripMaxLatitude[mid] < minLatitude) s = mid + 1;
      else hi = mid;
    }
    for (; s < strips && stripMinLatitude[s] <= maxLatitude; s++) {
      const end = stripStart[s + 1];
      for (
        let k = lowerBound(sortedLongitudes, stripStart[s], end, minLongitude);
        k < end && sortedLongitudes[k] <= maxLongitude;
        k++
      ) {
        const i = order[k];
        const la = lat[i];
        if (la >= minLatitude && la <= maxLatitude) yield i;
      }
    }
  }

  *within(bounds: Bounds): Generator<Feature, void, undefined> {
    for (const i of this.indicesWithin(bounds)) yield this.at(i);
  }
}

/**
 * Builds a database from the text of a JSON file of features (`[{"name",
 * "location": {"latitude", "longitude"}}]`, E7), as {@linkcode createFeatureDb}
 * does.
 *
 * Throws an `Error` whose message starts with `source` (the file's path, say)
 * and says what is wrong: invalid JSON, or the first invalid entry.
 *
 * @example
 * ```ts
 * import { parseFeatureDb } from "./feature_index.ts";
 * import assert from "node:assert/strict";
 * const { db } = parseFeatureDb('[{"name": "Origin", "location": {}}]', "inline");
 * assert.equal(db.get({ latitude: 0, longitude: 0 })?.name, "Origin");
 * assert.throws(() => parseFeatureDb("{}", "inline"), /^Error: inline: expected a JSON array/);
 * ```
 */
export function parseFeatureDb(text: string, source: string): FeatureDbBuild {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    throw new Error(`${source}: expected a JSON array of features, got ${typeof parsed}`);
  }
  try {
    return createFeatureDb(parsed);
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
}
