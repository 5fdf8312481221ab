/**
 * The feature database's file: where the project keeps it and how it is
 * read, for the server and the command-line client.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { type FeatureDbBuild, parseFeatureDb } from "../core/feature_index.ts";

/** The project's own feature database, found from this module's location. */
export const DEFAULT_DB_PATH: string = fileURLToPath(
  new URL("../../data/route_guide_db.json", import.meta.url),
);

/** What {@linkcode loadFeatureDb} read. */
export interface LoadedFeatureDb extends FeatureDbBuild {
  /** The file it came from. */
  path: string;
}

/**
 * Reads a JSON file of features (`[{"name", "location": {"latitude",
 * "longitude"}}]`, E7) and builds a database from it.
 *
 * Throws an `Error` whose message starts with the path and says what is
 * wrong: a missing file, invalid JSON, or the first invalid entry.
 */
export async function loadFeatureDb(path: string | URL): Promise<LoadedFeatureDb> {
  const shown = path instanceof URL ? fileURLToPath(path) : path;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : (error as Error).message;
    throw new Error(`${shown}: cannot read the feature database: ${reason}`);
  }
  return { path: shown, ...parseFeatureDb(text, shown) };
}
