/**
 * The server process: `run_server.ts` runs one from start to stop (load the
 * database, open the notes store, serve, stop in order), `run_supervisor.ts`
 * runs `--workers`; `serve.ts` wires the parts together (notes store, the
 * grpc-js server, our listener) and shuts down in order; `listener.ts` and
 * `tls.ts` (with `client_certs.ts`) own the sockets; `config.ts` reads flags
 * and variables, `deno_flags.ts` the Deno flags from `deno.json`;
 * `signals.ts`, `telemetry.ts` and `runtime.ts` are what a process answers,
 * reports and warns about; `supervisor.ts` (with `worker_slot.ts`,
 * `restart_policy.ts`, `worker_readiness.ts`) runs `--workers`.
 *
 * May import: `lib/core/`, `lib/notes/`, `lib/data/`, `lib/http2/`,
 * `lib/grpc/`, `node:` modules, `@opentelemetry/api`, `pkijs` and `asn1js`,
 * and `deno.json`. Never the gRPC libraries directly: that is `lib/grpc/`'s.
 * Only `server.ts` and `lib/mod.ts` import it.
 *
 * @module
 */

export * from "./serve.ts";
export * from "./config.ts";
export * from "./listener.ts";
export * from "./signals.ts";
export * from "./supervisor.ts";
export * from "./telemetry.ts";
export * from "./runtime.ts";
