/**
 * What the command-line client shows: the streams it writes to, progress on
 * a terminal, and features, notes and summaries in degrees for people or as
 * JSON lines (E7, proto field names) for scripts.
 *
 * @module
 */

import { fromE7 } from "../core/geo.ts";
import type { Feature, Point, RouteNote, RouteSummary } from "../grpc/client.ts";

/** Where the client reads and writes; tests pass their own. */
export interface ClientIo {
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
  /** Lines of standard input, for `chat` without arguments. */
  stdinLines(): AsyncIterable<string>;
  /**
   * Shows a progress line in place (a terminal on stderr); `""` clears it.
   * Absent when stderr is not a terminal: then no progress is shown.
   */
  progress?(text: string): void;
}

/** Counts progress and shows it at most every 100 ms, for long `list` and `record` runs. */
export function progressMeter(io: ClientIo, describe: (n: number) => string) {
  let shown = 0;
  let count = 0;
  return {
    tick() {
      count++;
      const now = Date.now();
      if (io.progress !== undefined && now - shown >= 100) {
        shown = now;
        io.progress(describe(count));
      }
    },
    done() {
      if (shown !== 0) io.progress?.("");
    },
  };
}

/** Formats E7 as degrees with seven decimals. */
function degrees(e7: number): string {
  return fromE7(e7).toFixed(7);
}

/** A point as "LAT, LON" in degrees; a missing point reads as (0, 0). */
export function place(point: Point | null | undefined): string {
  return `${degrees(point?.latitude ?? 0)}, ${degrees(point?.longitude ?? 0)}`;
}

/** A feature shaped like the protobuf message, for `--json`. */
export function featureJson(f: Feature): string {
  return JSON.stringify({
    name: f.name,
    location: { latitude: f.location?.latitude ?? 0, longitude: f.location?.longitude ?? 0 },
  });
}

/** A note shaped like the protobuf message, for `--json`. */
export function noteJson(n: RouteNote): string {
  return JSON.stringify({
    location: { latitude: n.location?.latitude ?? 0, longitude: n.location?.longitude ?? 0 },
    message: n.message ?? "",
  });
}

/** Prints features as an aligned table, one row each, as they arrive. */
export function printFeatureRow(io: ClientIo, f: Feature): void {
  const name = f.name === "" ? "(unnamed)" : f.name;
  io.out(
    `${degrees(f.location?.latitude ?? 0).padStart(12)}  ${
      degrees(f.location?.longitude ?? 0).padStart(13)
    }  ${name}`,
  );
}

/** The header line of {@linkcode printFeatureRow}'s table. */
export const FEATURE_TABLE_HEADER = `${"latitude".padStart(12)}  ${"longitude".padStart(13)}  name`;

/** Prints a feature as a JSON line or a table row. */
export function printFeature(io: ClientIo, json: boolean, feature: Feature): void {
  if (json) io.out(featureJson(feature));
  else printFeatureRow(io, feature);
}

/** Prints RecordRoute's summary as a JSON line or in words. */
export function printSummary(io: ClientIo, json: boolean, summary: RouteSummary): void {
  if (json) {
    io.out(JSON.stringify({
      point_count: summary.point_count,
      feature_count: summary.feature_count,
      distance: summary.distance,
      elapsed_time: summary.elapsed_time,
    }));
  } else {
    io.out(`Finished trip with ${summary.point_count} points`);
    io.out(`Passed ${summary.feature_count} features`);
    io.out(`Travelled ${summary.distance} meters`);
    io.out(`It took ${summary.elapsed_time} seconds`);
  }
}
