/**
 * Degrees in, E7 points out: a convenience for code that thinks in degrees.
 *
 * @module
 */

import { type E7Point, toE7 } from "./geo.ts";

/**
 * Makes an E7 {@linkcode E7Point} from a latitude and a longitude in degrees,
 * each rounded to the nearest E7 unit (halves away from zero).
 *
 * The values are not checked: a point outside ±90° latitude or ±180°
 * longitude is made as asked, and the server answers it with
 * `INVALID_ARGUMENT`.
 *
 * @param latitude Latitude in degrees, north positive.
 * @param longitude Longitude in degrees, east positive.
 * @returns The point in E7 coordinates.
 *
 * @example Empire State Building
 * ```ts
 * import { point } from "./points.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(point(40.7484, -73.9857), { latitude: 407484000, longitude: -739857000 });
 * ```
 */
export function point(latitude: number, longitude: number): E7Point {
  return { latitude: toE7(latitude), longitude: toE7(longitude) };
}
