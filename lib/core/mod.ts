/**
 * The RouteGuide domain, pure: points and distances in E7 coordinates
 * (`geo.ts`, `points.ts`), the feature database and its spatial index
 * (`feature_index.ts`) and the fast reader of its usual file shape
 * (`feature_scan.ts`), the four RPCs as plain async functions and async
 * iterables (`handlers.ts`), what they need of a notes store
 * (`notes_store.ts`), and the errors they end with (`rpc_error.ts`: gRPC
 * status codes without a gRPC library; `usage_error.ts` for command lines).
 *
 * May import: nothing outside `lib/core/`, not even `node:` modules; no I/O
 * (`Deno.*`). Everything else in `lib/` may import it. A test
 * (`tests/architecture_test.ts`) holds this.
 *
 * @module
 */

export * from "./geo.ts";
export * from "./points.ts";
export * from "./feature_index.ts";
export * from "./feature_scan.ts";
export * from "./handlers.ts";
export * from "./notes_store.ts";
export * from "./rpc_error.ts";
export * from "./usage_error.ts";
