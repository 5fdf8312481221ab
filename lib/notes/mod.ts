/**
 * Where RouteChat notes are kept: implementations of `core`'s
 * `RouteNotesStore`, each bounded by the same caps (`limits.ts`). In this
 * process's memory (`memory.ts`); in an SQLite file shared by the server
 * processes of one machine (`sqlite.ts`, opening in `sqlite_file.ts`); in
 * PostgreSQL, shared by machines (`postgres.ts`, connecting in
 * `postgres_connection.ts`, the schema in `postgres_schema.ts`). All three
 * pass one contract, `tests/notes/contract.ts`.
 *
 * May import: `lib/core/`, `node:` modules and `postgres` (loaded only when a
 * PostgreSQL store is asked for). Not the gRPC libraries, nor the server.
 *
 * @module
 */

export * from "./limits.ts";
export * from "./memory.ts";
export * from "./sqlite.ts";
export * from "./postgres.ts";
