/**
 * Geographic helpers for E7 coordinates: conversion to and from degrees,
 * validation, rectangle normalisation and great-circle distance.
 *
 * @module
 */

/** E7 units per degree: E7 coordinates are degrees × 10^7, rounded. */
export const E7_PER_DEGREE = 1e7;

/** Mean Earth radius used for every distance, in metres. */
export const EARTH_RADIUS_M = 6_371_000;

/** Largest valid latitude in E7 (90°). */
export const MAX_LATITUDE_E7 = 90 * E7_PER_DEGREE;

/** Largest valid longitude in E7 (180°). */
export const MAX_LONGITUDE_E7 = 180 * E7_PER_DEGREE;

/** The largest value of a protobuf `int32`, where the summary's counters stop. */
export const INT32_MAX = 2_147_483_647;

/** A position in E7 coordinates, shaped like the protobuf `Point`. */
export interface E7Point {
  /** Latitude in E7, from -900000000 to 900000000. */
  latitude: number;
  /** Longitude in E7, from -1800000000 to 1800000000. */
  longitude: number;
}

/** A rectangle with its corners sorted: `lo` holds the minima, `hi` the maxima. */
export interface Bounds {
  /** Smallest latitude, E7. */
  minLatitude: number;
  /** Largest latitude, E7. */
  maxLatitude: number;
  /** Smallest longitude, E7. */
  minLongitude: number;
  /** Largest longitude, E7. */
  maxLongitude: number;
}

/**
 * Converts degrees to E7, rounding to the nearest unit.
 *
 * @example
 * ```ts
 * import { toE7 } from "./geo.ts";
 * import assert from "node:assert/strict";
 * assert.equal(toE7(-74.0445), -740445000);
 * ```
 */
export function toE7(degrees: number): number {
  // Halves round away from zero on both sides (Math.round alone would take
  // -0.5 up to 0).
  const e7 = Math.round(Math.abs(degrees) * E7_PER_DEGREE);
  return degrees < 0 && e7 !== 0 ? -e7 : e7;
}

/** Converts E7 to degrees. */
export function fromE7(e7: number): number {
  return e7 / E7_PER_DEGREE;
}

/**
 * Returns why a point is not a valid position, or `undefined` when it is.
 *
 * `field` names the point in the message, e.g. `"lo"` gives
 * `lo.latitude is out of range [-90°, 90°]: 900000001 (90.0000001°)`.
 */
export function pointProblem(point: E7Point, field = ""): string | undefined {
  const prefix = field === "" ? "" : `${field}.`;
  const { latitude, longitude } = point;
  if (!Number.isInteger(latitude) || Math.abs(latitude) > MAX_LATITUDE_E7) {
    return `${prefix}latitude is out of range [-90°, 90°]: ${latitude} (${fromE7(latitude)}°)`;
  }
  if (!Number.isInteger(longitude) || Math.abs(longitude) > MAX_LONGITUDE_E7) {
    return `${prefix}longitude is out of range [-180°, 180°]: ${longitude} (${fromE7(longitude)}°)`;
  }
  return undefined;
}

/** Sorts the corners of a rectangle given in any order. */
export function normalizeRectangle(a: E7Point, b: E7Point): Bounds {
  return {
    minLatitude: Math.min(a.latitude, b.latitude),
    maxLatitude: Math.max(a.latitude, b.latitude),
    minLongitude: Math.min(a.longitude, b.longitude),
    maxLongitude: Math.max(a.longitude, b.longitude),
  };
}

const RADIANS_PER_E7 = Math.PI / 180 / E7_PER_DEGREE;

/**
 * Great-circle distance between two E7 points in metres (haversine, Earth
 * radius {@linkcode EARTH_RADIUS_M}), not rounded.
 *
 * @example
 * ```ts
 * import { haversineMeters } from "./geo.ts";
 * import assert from "node:assert/strict";
 * // One degree of latitude is about 111.2 km.
 * const d = haversineMeters(
 *   { latitude: 0, longitude: 0 },
 *   { latitude: 10000000, longitude: 0 },
 * );
 * assert.equal(Math.round(d), 111195);
 * ```
 */
export function haversineMeters(from: E7Point, to: E7Point): number {
  const lat1 = from.latitude * RADIANS_PER_E7;
  const lat2 = to.latitude * RADIANS_PER_E7;
  const dLat = (to.latitude - from.latitude) * RADIANS_PER_E7;
  const dLon = (to.longitude - from.longitude) * RADIANS_PER_E7;
  const sinLat = Math.sin(dLat / 2);
  const sinLon = Math.sin(dLon / 2);
  // Rounding can push `a` a hair past 1 for antipodal points; sqrt(1 - a)
  // would then be NaN.
  const a = Math.min(1, sinLat * sinLat + Math.cos(lat1) * Math.cos(lat2) * sinLon * sinLon);
  return 2 * EARTH_RADIUS_M * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
}

/** Truncates a non-negative number to an integer no larger than {@linkcode INT32_MAX}. */
export function saturateInt32(value: number): number {
  return value >= INT32_MAX ? INT32_MAX : Math.trunc(value);
}
