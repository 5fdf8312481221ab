/**
 * Places the tests call with, from the project's database
 * (data/route_guide_db.json), and points no feature sits on.
 *
 * @module
 */

import type { E7Point } from "../lib/core/geo.ts";

/** The Empire State Building: a named feature. */
export const EMPIRE_STATE: E7Point = { latitude: 407484000, longitude: -739857000 };
/** Its name in the database. */
export const EMPIRE_STATE_NAME = "Empire State Building, New York, NY";
/** The Brooklyn Bridge: a named feature, 4,797 m from the Empire State Building. */
export const BROOKLYN_BRIDGE: E7Point = { latitude: 407061000, longitude: -739969000 };
/**
 * A small rectangle in lower Manhattan (corners in no particular order):
 * Whitehall Ferry Terminal, Brooklyn Bridge and Manhattan Bridge.
 */
export const LOWER_MANHATTAN: { lo: E7Point; hi: E7Point } = {
  lo: { latitude: 407100000, longitude: -740200000 },
  hi: { latitude: 406900000, longitude: -739800000 },
};
/** Every feature of the project's database lies in here. */
export const EVERYWHERE: { lo: E7Point; hi: E7Point } = {
  lo: { latitude: 400000000, longitude: -750000000 },
  hi: { latitude: 420000000, longitude: -730000000 },
};

/**
 * A random valid point far from every feature (the database is between
 * 40°N and 42°N), so server-wide notes of different tests do not mix.
 */
export function freshPoint(): E7Point {
  return {
    latitude: -800000000 + Math.floor(Math.random() * 100000000),
    longitude: Math.floor(Math.random() * 1000000000),
  };
}
