/**
 * The caps every notes store takes, their defaults and their checks.
 *
 * @module
 */

/** Caps that bound a notes store; the oldest notes leave first. */
export interface RouteNotesLimits {
  /**
   * Most notes kept at one location; storing one more drops the oldest there.
   * @default {50}
   */
  maxNotesPerLocation?: number;
  /**
   * Most locations with notes; a note at a new location beyond this drops
   * every note at the location written to least recently.
   * @default {10000}
   */
  maxLocations?: number;
}

/** Default for {@linkcode RouteNotesLimits.maxNotesPerLocation}. */
export const DEFAULT_MAX_NOTES_PER_LOCATION = 50;
/** Default for {@linkcode RouteNotesLimits.maxLocations}. */
export const DEFAULT_MAX_LOCATIONS = 10_000;

/**
 * Returns `value` when it is a positive safe integer; otherwise throws a
 * `RangeError` naming the setting. For the stores' limits and options.
 */
export function checkPositiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot create notes store: ${name} must be a positive integer: current value is ${value}`,
    );
  }
  return value;
}

/** The limits with their defaults filled in, each checked by {@linkcode checkPositiveInteger}. */
export function resolveNotesLimits(limits: RouteNotesLimits): Required<RouteNotesLimits> {
  return {
    maxNotesPerLocation: checkPositiveInteger(
      "maxNotesPerLocation",
      limits.maxNotesPerLocation ?? DEFAULT_MAX_NOTES_PER_LOCATION,
    ),
    maxLocations: checkPositiveInteger(
      "maxLocations",
      limits.maxLocations ?? DEFAULT_MAX_LOCATIONS,
    ),
  };
}
