/**
 * Transitional: re-exports the feature database's two halves for modules
 * that still import them from here (`server.ts`, `lib/serve.ts`,
 * `lib/grpc_adapter.ts`). New code imports `feature_index.ts` (the pure
 * index) or `feature_file.ts` (reading the file); delete this module once
 * nothing imports it.
 *
 * @module
 */

export {
  createFeatureDb,
  type DuplicateFeature,
  type Feature,
  type FeatureDb,
  type FeatureDbBuild,
  parseFeatureDb,
} from "./feature_index.ts";
export { DEFAULT_DB_PATH, type LoadedFeatureDb, loadFeatureDb } from "./feature_file.ts";
