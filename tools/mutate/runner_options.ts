/**
 * Which Stryker test runner a module's mutants run with, and its options:
 * in process (`deno_runner.ts`, per-test coverage) by default, `deno test`
 * per mutant (Stryker's command runner) for the modules `table.ts` lists in
 * COMMAND_RUNNER or when `--runner command` says so.
 *
 * @module
 */

import { COMMAND_RUNNER } from "./table.ts";

/** The flags of `deno task test` (doc examples included), without type checks (Stryker's instrumented code would fail them). */
export const TEST_FLAGS =
  "--no-check --doc --allow-net --allow-read --allow-write --allow-env --allow-run --allow-sys=uid,gid";

/**
 * The permissions of the in-process runner's worker (a forked `deno run`): those of the tests,
 * and the project's deno.json (its import map) from the sandbox, Stryker's cwd there. No lock:
 * the worker also loads Stryker's own files, which the project's lock does not hold, and with a
 * writable lock Deno rewrote the project's own deno.lock (pruned, Stryker added); the versions
 * are the import map's exact pins, and the packages are already in the cache.
 */
export const WORKER_ARGS = [
  "run",
  "--config=deno.json",
  "--no-lock",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

/**
 * Stryker's test-runner options for a module: the in-process runner (tools/mutate/deno_runner.ts)
 * with per-test coverage, or, for the modules table.ts lists in COMMAND_RUNNER, `deno test` per
 * mutant. In process, a mutant's run costs its covering tests only: a timeout of 3 s beyond 1.5 ×
 * their time is plenty; a `deno test` run starts a process and loads every file first.
 */
export function runnerOptions(
  runner: Runner,
  tests: readonly string[],
): Record<string, unknown> {
  if (runner === "command") {
    return {
      testRunner: "command",
      commandRunner: { command: `deno test ${TEST_FLAGS} ${tests.join(" ")}` },
      coverageAnalysis: "off",
      timeoutMS: 10_000,
    };
  }
  return {
    testRunner: "deno",
    denoRunner: { testFiles: [...tests] },
    testRunnerNodeArgs: WORKER_ARGS,
    coverageAnalysis: "perTest",
    timeoutMS: 3_000,
  };
}

/** Which test runner a module's mutants run with. */
export type Runner = "deno" | "command";

/** The runner `--runner` names (deno or command), or else the table's choice for the module. */
export function runnerFor(
  module: string,
  chosen: string | undefined,
  commandRunner: Readonly<Record<string, string>> = COMMAND_RUNNER,
): Runner {
  if (chosen === "deno" || chosen === "command") return chosen;
  if (chosen !== undefined) throw new TypeError(`--runner must be deno or command, got ${chosen}`);
  return module in commandRunner ? "command" : "deno";
}
