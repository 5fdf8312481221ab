/**
 * Which test files cover each module the mutation tool may mutate. A mutant
 * is run against these files only: the whole suite for every mutant would
 * take days. A module missing here cannot be mutated (the tool says so).
 *
 * @module
 */

/** What reaches lib/http2's server and its request emitter, in process. */
const HTTP2_SERVER_TESTS = [
  "tests/http2/server_test.ts",
  "tests/http2/grpc_deadline_test.ts",
  "tests/grpc/native_transport_test.ts",
  "tests/grpc/streams_test.ts",
  "tests/grpc/deadline_test.ts",
];

/** lib/http1's modules, each covered by every test of tests/http1 (servers in process). */
const HTTP1_MODULES = ["exchange", "parser", "response", "server"];
const HTTP1_TESTS = [
  "abuse",
  "backpressure",
  "body",
  "connection",
  "exchange",
  "fuzz",
  "parser",
  "response",
  "server",
].map((name) => `tests/http1/${name}_test.ts`);

/** lib/web's modules, each covered by every test of tests/web (in process). */
const WEB_MODULES = [
  "bridge",
  "codes",
  "compression",
  "connect",
  "cors",
  "envelope",
  "exchange",
  "from_http2",
  "grpc_json",
  "grpc_web",
  "handler",
  "healthz",
  "methods",
  "negotiate",
  "static_files",
  "status_details",
];
const WEB_TESTS = [
  "bridge",
  "compression",
  "connect",
  "cors",
  "envelope",
  "from_http2",
  "grpc_web",
  "handler",
  "healthz",
  "methods",
  "negotiate",
  "static_files",
  "status_details",
].map((name) => `tests/web/${name}_test.ts`);

/** Module (relative to the project root) → the test files that cover it. */
export const MODULE_TESTS: Readonly<Record<string, readonly string[]>> = {
  "lib/core/feature_index.ts": [
    "lib/core/feature_index.ts",
    "tests/core/feature_index_test.ts",
    "tests/core/handlers_test.ts",
    "tests/data/feature_file_test.ts",
  ],
  "lib/core/feature_scan.ts": [
    "lib/core/feature_scan.ts",
    "tests/core/feature_scan_test.ts",
    "tests/data/feature_file_test.ts",
  ],
  "lib/core/geo.ts": [
    "tests/core/geo_test.ts",
    "tests/core/feature_index_test.ts",
    "tests/core/handlers_test.ts",
  ],
  "lib/core/handlers.ts": ["tests/core/handlers_test.ts"],
  // Its one function is checked by its own doc example.
  "lib/core/points.ts": ["lib/core/points.ts", "tests/core/geo_test.ts"],
  "lib/core/rpc_error.ts": [
    "tests/core/rpc_error_test.ts",
    "tests/core/handlers_test.ts",
  ],
  "lib/core/usage_error.ts": ["tests/server/config_test.ts"],
  "lib/notes/memory.ts": ["tests/notes/memory_test.ts"],
  "lib/grpc/call_registry.ts": ["tests/grpc/call_registry_test.ts"],
  "lib/grpc/adapter.ts": [
    "tests/grpc/adapter_test.ts",
    // The definition with encode-once Feature serializers (bindRouteGuide's `features`).
    "tests/grpc/feature_bytes_test.ts",
    "tests/grpc/client_test.ts",
    "tests/grpc/native_transport_test.ts",
  ],
  "lib/server/listener.ts": [
    "tests/server/listener_test.ts",
    "tests/server/tls_test.ts",
    "tests/server/refusals_test.ts",
  ],
  "lib/http2/flow.ts": [
    "tests/http2/flow_test.ts",
    "tests/http2/connection_test.ts",
  ],
  "lib/http2/frames.ts": [
    "tests/http2/frames_test.ts",
    "tests/http2/connection_test.ts",
    "tests/http2/fuzz_test.ts",
    "tests/http2/server_test.ts",
  ],
  "lib/http2/hpack.ts": [
    "tests/http2/hpack_test.ts",
    "tests/http2/connection_test.ts",
  ],
  "lib/http2/huffman.ts": [
    "tests/http2/huffman_test.ts",
    "tests/http2/hpack_test.ts",
  ],
  "lib/http2/connection.ts": [
    "tests/http2/connection_test.ts",
    "tests/http2/flow_test.ts",
    "tests/http2/fuzz_test.ts",
    "tests/http2/server_test.ts",
  ],
  "lib/http2/emitter.ts": [
    "tests/http2/emitter_test.ts",
    ...HTTP2_SERVER_TESTS,
  ],
  "lib/http2/server.ts": HTTP2_SERVER_TESTS,
  ...Object.fromEntries(
    HTTP1_MODULES.map((m) => [`lib/http1/${m}.ts`, HTTP1_TESTS]),
  ),
  ...Object.fromEntries(WEB_MODULES.map((m) => [`lib/web/${m}.ts`, WEB_TESTS])),
};

/**
 * Modules mutated with Stryker's command runner (`deno test` per mutant)
 * rather than in process (tools/mutate/deno_runner.ts), each with why.
 */
export const COMMAND_RUNNER: Readonly<Record<string, string>> = {
  // In process, 115 of its 124 mutants are reached (native_transport_test); the rest only in the
  // servers client_test spawns, where no per-test coverage is seen: they would count as
  // survivors without a run. `deno test` runs them in the spawned server (the active mutant
  // goes there in the environment).
  "lib/grpc/adapter.ts": "client_test.ts reaches it in server processes it spawns",
};

/** Paths named in `table` (modules and tests) that `exists` says are missing. */
export function missingPaths(
  table: Readonly<Record<string, readonly string[]>>,
  exists: (path: string) => boolean,
): string[] {
  const all = new Set([...Object.keys(table), ...Object.values(table).flat()]);
  return [...all].filter((path) => !exists(path)).sort();
}

/**
 * The modules a command-line target names: a module in the table, or every
 * module of the table under a folder. Throws naming the target when it
 * names none.
 */
export function modulesFor(
  target: string,
  table: Readonly<Record<string, readonly string[]>> = MODULE_TESTS,
): string[] {
  const clean = target.replace(/^\.\//, "").replace(/\/+$/, "");
  if (clean in table) return [clean];
  const under = Object.keys(table).filter((module) => module.startsWith(`${clean}/`));
  if (under.length === 0) {
    throw new Error(
      `${JSON.stringify(target)} names no module in tools/mutate/table.ts ` +
        `(mapped: ${Object.keys(table).join(", ")})`,
    );
  }
  return under.sort();
}
