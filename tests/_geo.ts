/**
 * E7 helpers for tests: a short point maker, the whole world as bounds, and
 * the plain bounds check the spatial index is compared against.
 *
 * @module
 */

import type { Bounds, E7Point } from "../lib/core/geo.ts";

/** An E7 point from its two coordinates. */
export const pt = (latitude: number, longitude: number): E7Point => ({ latitude, longitude });

/** Bounds holding every valid point. */
export const WORLD: Bounds = {
  minLatitude: -900000000,
  maxLatitude: 900000000,
  minLongitude: -1800000000,
  maxLongitude: 1800000000,
};

/** Whether a point lies inside bounds, edges included: the linear scan's test. */
export function contains(bounds: Bounds, latitude: number, longitude: number): boolean {
  return latitude >= bounds.minLatitude && latitude <= bounds.maxLatitude &&
    longitude >= bounds.minLongitude && longitude <= bounds.maxLongitude;
}
