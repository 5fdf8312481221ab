/**
 * What RouteGuide must answer, worked out here from the feature database
 * and the service's semantics, independently of lib/ (the interop tests
 * compare every client's answers with these):
 *
 * - GetFeature: the feature at exactly that point (the first in the file
 *   if a point repeats); otherwise a Feature with an empty name and the
 *   requested location.
 * - ListFeatures: every feature, named or not, with min(lat) <= lat <=
 *   max(lat) and min(lon) <= lon <= max(lon) over the two corners (corners
 *   in any order, bounds inclusive).
 * - RecordRoute: point_count = points received; feature_count = points at
 *   a named feature; distance = haversine (R = 6371000 m, degrees =
 *   E7 / 1e7) summed over consecutive points, truncated to whole metres at
 *   the end; elapsed_time = whole seconds from call start to half-close.
 * - RouteChat: for each note, first every earlier note at the same
 *   location is sent back (oldest first), then the note is stored.
 *
 * @module
 */

/** A point in E7 units (degrees × 10^7). */
export interface Point {
  latitude: number;
  longitude: number;
}

/** A feature as the database file and canonical JSON spell it. */
export interface Feature {
  name: string;
  location: Point;
}

/** A RouteNote as sent and received. */
export interface Note {
  location: Point;
  message: string;
}

/** Reads a feature database file (a JSON array of features). */
export function readFeatures(path: string): Feature[] {
  return JSON.parse(Deno.readTextFileSync(path));
}

/** GetFeature's answer for `point`. */
export function expectedFeature(features: Feature[], point: Point): Feature {
  const found = features.find((f) =>
    f.location.latitude === point.latitude && f.location.longitude === point.longitude
  );
  return found ?? { name: "", location: point };
}

/** ListFeatures' answers for the rectangle with corners `lo` and `hi`, in file order. */
export function expectedList(features: Feature[], lo: Point, hi: Point): Feature[] {
  const minLat = Math.min(lo.latitude, hi.latitude);
  const maxLat = Math.max(lo.latitude, hi.latitude);
  const minLon = Math.min(lo.longitude, hi.longitude);
  const maxLon = Math.max(lo.longitude, hi.longitude);
  return features.filter(({ location: { latitude, longitude } }) =>
    latitude >= minLat && latitude <= maxLat && longitude >= minLon && longitude <= maxLon
  );
}

/** The great-circle distance between two points in metres, as a float. */
export function haversineMetres(a: Point, b: Point): number {
  const rad = (e7: number) => (e7 / 1e7) * Math.PI / 180;
  const dLat = rad(b.latitude) - rad(a.latitude);
  const dLon = rad(b.longitude) - rad(a.longitude);
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
}

/** RecordRoute's summary for `points`, but for elapsed_time. */
export function expectedSummary(
  features: Feature[],
  points: Point[],
): { pointCount: number; featureCount: number; distance: number } {
  let metres = 0;
  for (let i = 1; i < points.length; i++) metres += haversineMetres(points[i - 1], points[i]);
  const featureCount = points.filter((p) => expectedFeature(features, p).name !== "").length;
  return { pointCount: points.length, featureCount, distance: Math.trunc(metres) };
}

/**
 * A location no earlier run has left notes at (the notes are kept
 * server-wide on the reference): random, inside the valid range, and off
 * every feature of the project's box.
 */
export function freshLocation(): Point {
  const random = new Uint32Array(2);
  crypto.getRandomValues(random);
  // The southern hemisphere: nowhere near the database's features.
  return {
    latitude: -(random[0] % 800000000) - 1,
    longitude: (random[1] % 3600000000) - 1800000000,
  };
}

/**
 * RouteChat's answers, in order, to `notes` sent on one call (given that
 * no earlier call left notes at their locations).
 */
export function expectedEchoes(notes: Note[]): Note[] {
  const out: Note[] = [];
  notes.forEach((note, i) => {
    for (const earlier of notes.slice(0, i)) {
      const same = earlier.location.latitude === note.location.latitude &&
        earlier.location.longitude === note.location.longitude;
      if (same) out.push(earlier);
    }
  });
  return out;
}

/** Four notes at two fresh locations: the second and fourth echo the earlier ones at theirs. */
export function chatNotes(tag: string): Note[] {
  const here = freshLocation();
  const there = freshLocation();
  return [
    { location: here, message: `${tag} first` },
    { location: here, message: `${tag} second` },
    { location: there, message: `${tag} elsewhere` },
    { location: here, message: `${tag} third` },
  ];
}

/** The rectangle the streaming tests list: corners given high first, 100 features inside, 3 of them unnamed. */
export const LIST_RECT: { lo: Point; hi: Point } = {
  lo: { latitude: 411000000, longitude: -733000000 },
  hi: { latitude: 405000000, longitude: -747000000 },
};

/** A route through named features, an unnamed one, a point with none, and a repeat. */
export function routePoints(features: Feature[]): Point[] {
  const named = features.filter((f) => f.name !== "").slice(0, 4).map((f) => f.location);
  const unnamed = features.find((f) => f.name === "")!.location;
  return [
    named[0],
    named[1],
    unnamed,
    { latitude: 405000001, longitude: -740000001 },
    named[2],
    named[3],
    named[3],
  ];
}
