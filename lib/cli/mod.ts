/**
 * The command-line client: `args.ts` reads the flags and the command,
 * `client.ts` runs it (one function per RPC, one per step of the tour) and
 * turns failures into messages and exit codes, `output.ts` prints.
 *
 * May import: `lib/core/`, `lib/data/`, `lib/grpc/` (the typed client) and
 * `node:` modules. Not the server.
 *
 * @module
 */

export * from "./args.ts";
export * from "./client.ts";
export * from "./output.ts";
