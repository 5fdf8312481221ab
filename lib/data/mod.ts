/**
 * The project's data files: where the feature database is kept and how it is
 * read (`feature_file.ts`), for the server and for the command-line client.
 * Parsing and indexing are `core`'s; this folder only reads the file.
 *
 * May import: `lib/core/` and `node:` modules.
 *
 * @module
 */

export * from "./feature_file.ts";
