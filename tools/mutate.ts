/**
 * `deno task mutate [folder|file...]`: mutation testing of lib/ modules
 * with StrykerJS 10 (run by Deno: Stryker wants Node 22, Debian has 20),
 * its command runner calling `deno test` on the test files that cover each
 * module (tools/mutate/table.ts) in a sandbox copy of the project.
 *
 * - One Stryker run per module, one mutant at a time (`--concurrency` to
 *   change it), each test run bounded by Stryker's timeout (a timeout
 *   counts as killed).
 * - No string-literal mutants, none inside log calls (tools/mutate/ignore_logs.ts).
 * - Incremental: results live in `.mutation-cache/` (gitignored); a module
 *   run again re-tests only mutants in changed code, and, when its test
 *   files changed, the mutants that were not killed.
 * - Known equivalent mutants (tools/mutate/equivalents.ts) are left out of
 *   the score; `.mutation-cache/scores.json` keeps each module's counts and
 *   the run prints the folder scores (docs/mutation.md records them).
 *
 * Not part of CI: a module's full run takes minutes to hours.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { missingPaths, MODULE_TESTS, modulesFor } from "./mutate/table.ts";
import { type Runner, runnerFor, runnerOptions, TEST_FLAGS } from "./mutate/runner_options.ts";
import { EQUIVALENTS } from "./mutate/equivalents.ts";
import {
  cacheFile,
  forgetUnkilled,
  type IncrementalReport,
  type ModuleScore,
  type MutantOutcome,
  percent,
  scoreModule,
  sumScores,
} from "./mutate/score.ts";

const CACHE = ".mutation-cache";
/** Run in each sandbox before its tests (Stryker's build command), on the sandbox's files only. */
const SANDBOX_BUILD =
  "deno run --no-config --allow-read=deno.json --allow-write=deno.json tools/mutate/sandbox_env.ts";
const SCORES = `${CACHE}/scores.json`;
/** What scores.json holds per module. */
interface StoredScore extends ModuleScore {
  date: string;
  testsHash: string;
}

/** A hash of the test command and files' contents (the incremental cache's key beside the code). */
function hashFiles(paths: readonly string[], runner: string): string {
  const hash = createHash("sha256").update(TEST_FLAGS).update("\0").update(runner).update("\0");
  for (const path of paths) hash.update(path).update("\0").update(readFileSync(path)).update("\0");
  return hash.digest("hex").slice(0, 16);
}

function readJson<T>(path: string, fallback: T): T {
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) as T : fallback;
}

/** When the tests changed, forget the mutants they did not kill: those run again. */
function forgetSurvivors(file: string): number {
  const report = readJson<IncrementalReport>(file, {});
  const forgotten = forgetUnkilled(report);
  writeFileSync(file, JSON.stringify(report));
  return forgotten;
}

/** As much of `@stryker-mutator/core`'s API as this tool uses. */
interface StrykerModule {
  Stryker: new (options: Record<string, unknown>) => { runMutationTest(): Promise<unknown[]> };
}

/**
 * StrykerJS, from the import map of `tools/mutate/stryker.json` (the task runs with that config):
 * it stays out of the project's lock, which Deno fetches whole on a first run. The specifier is
 * a variable so that `deno check` of the project does not resolve it.
 */
function loadStryker(): Promise<StrykerModule> {
  const specifier: string = "@stryker-mutator/core";
  return import(specifier) as Promise<StrykerModule>;
}

/** Runs Stryker on one module; returns its score. */
async function mutateModule(
  module: string,
  { concurrency, runner }: { concurrency: number; runner: Runner },
): Promise<StoredScore> {
  const tests = MODULE_TESTS[module];
  const incrementalFile = cacheFile(module, CACHE);
  const testsHash = hashFiles(tests, runner);
  const previous = readJson<Record<string, StoredScore>>(SCORES, {})[module];
  if (previous !== undefined && previous.testsHash !== testsHash && existsSync(incrementalFile)) {
    console.log(
      `${module}: tests changed, ${forgetSurvivors(incrementalFile)} mutants to run again`,
    );
  }
  const options = {
    ...runnerOptions(runner, tests),
    mutate: [module],
    concurrency,
    incremental: true,
    incrementalFile,
    mutator: { excludedMutations: ["StringLiteral"] },
    ignorers: ["log-calls"],
    plugins: ["./tools/mutate/ignore_logs.ts", "./tools/mutate/deno_runner.ts"],
    // The event recorder writes each mutant's result as it is tested, so an interrupted run
    // still shows its survivors (Stryker writes the incremental file only at the end).
    reporters: ["progress-append-only", "event-recorder"],
    eventReporter: { baseDir: `${CACHE}/events/${module.replaceAll("/", "_")}` },
    // Spawned servers may read the active mutant (tools/mutate/sandbox_env.ts).
    buildCommand: SANDBOX_BUILD,
    tempDirName: ".stryker-tmp",
    cleanTempDir: "always",
    logLevel: "warn",
    fileLogLevel: "off",
  };
  const { Stryker } = await loadStryker();
  const results = await new Stryker(options).runMutationTest();
  const source = readFileSync(module, "utf8");
  const score = scoreModule(module, source, results as unknown as MutantOutcome[], EQUIVALENTS);
  return { ...score, date: new Date().toISOString().slice(0, 10), testsHash };
}

/** Prints a score line. */
function line(name: string, s: ModuleScore): string {
  const p = percent(s);
  return `${name.padEnd(28)} ${(p === undefined ? "-" : `${p.toFixed(1)}%`).padStart(7)}  ` +
    `killed ${s.killed} timeout ${s.timedOut} survived ${s.survived} ` +
    `equivalent ${s.equivalent} ignored ${s.ignored} errors ${s.errors}`;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      concurrency: { type: "string", default: "1" },
      runner: { type: "string" },
      help: { type: "boolean" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(
      "deno task mutate [--concurrency N] [--runner deno|command] [folder|file...]\n" +
        "  (default: every mapped module, each with the runner tools/mutate/table.ts gives it)",
    );
    return 0;
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    console.error(`--concurrency must be a positive integer, got ${values.concurrency}`);
    return 2;
  }
  try {
    runnerFor("", values.runner);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const missing = missingPaths(MODULE_TESTS, existsSync);
  if (missing.length > 0) {
    console.error(`tools/mutate/table.ts names missing files: ${missing.join(", ")}`);
    return 2;
  }
  let modules: string[];
  try {
    modules = [
      ...new Set((positionals.length ? positionals : ["lib"]).flatMap((t) => modulesFor(t))),
    ];
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  mkdirSync(CACHE, { recursive: true });
  for (const module of modules) {
    const runner = runnerFor(module, values.runner);
    const score = await mutateModule(module, { concurrency, runner });
    const scores = readJson<Record<string, StoredScore>>(SCORES, {});
    scores[module] = score;
    writeFileSync(SCORES, JSON.stringify(scores, null, 2) + "\n");
    console.log(line(module, score));
    for (const s of score.survivors) {
      console.log(`  survived ${module}:${s.line} ${s.mutator}: ${s.original} → ${s.replacement}`);
    }
  }
  const scores = readJson<Record<string, StoredScore>>(SCORES, {});
  const folders = new Map<string, ModuleScore[]>();
  for (const [module, score] of Object.entries(scores)) {
    const folder = module.slice(0, module.lastIndexOf("/"));
    folders.set(folder, [...(folders.get(folder) ?? []), score]);
  }
  console.log("\nScores so far (.mutation-cache/scores.json):");
  for (const [folder, list] of [...folders].sort()) {
    console.log(line(`${folder}/ (${list.length} modules)`, sumScores(list)));
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
