/**
 * Feature databases made for a test: a grid of distinct points written to
 * a temporary JSON file.
 *
 * @module
 */

import type { E7Point } from "../lib/core/geo.ts";

/** Options for {@linkcode writeGridDb}. */
export interface GridDbOptions {
  /** Grid features to write. */
  count: number;
  /**
   * Features per row of the grid.
   * @default {200}
   */
  columns?: number;
  /**
   * Distance between neighbours, in E7 units (1e-7 degrees).
   * @default {{ latitude: 100000, longitude: 100000 }}
   */
  step?: E7Point;
  /**
   * The name of grid feature `i` (`""` for an unnamed one).
   * @default {(i) => `grid ${i}`}
   */
  name?: (i: number) => string;
  /** Features written before the grid. */
  first?: { name: string; location: E7Point }[];
  /**
   * Prefix of the file's name.
   * @default {"routeguide_grid_"}
   */
  prefix?: string;
}

/** A temporary database file, removed when disposed. */
export interface TempDb extends AsyncDisposable {
  /** The file's path. */
  path: string;
}

/**
 * Writes `first`, then `count` grid features starting at 40° N, 75° W,
 * row by row, to a temporary file.
 */
export async function writeGridDb(options: GridDbOptions): Promise<TempDb> {
  const columns = options.columns ?? 200;
  const step = options.step ?? { latitude: 100000, longitude: 100000 };
  const name = options.name ?? ((i: number) => `grid ${i}`);
  const features = [...options.first ?? []];
  for (let i = 0; i < options.count; i++) {
    features.push({
      name: name(i),
      location: {
        latitude: 400000000 + Math.floor(i / columns) * step.latitude,
        longitude: -750000000 + (i % columns) * step.longitude,
      },
    });
  }
  const path = await Deno.makeTempFile({
    prefix: options.prefix ?? "routeguide_grid_",
    suffix: ".json",
  });
  await Deno.writeTextFile(path, JSON.stringify(features));
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path) };
}
