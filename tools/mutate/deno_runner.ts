/**
 * A StrykerJS test-runner plugin ("deno") that runs a module's tests inside
 * Stryker's worker process (a forked `deno run`) instead of spawning
 * `deno test` for every mutant: the test files are imported once, from the
 * sandbox (Stryker's cwd in the worker), with `Deno.test` replaced by a
 * collector, and each mutant reruns only the tests that covered it.
 *
 * - Dry run: every test, in order, `__stryker__.currentTestId` set to the
 *   test's id while it runs, so the instrumented code reports per-test
 *   coverage (hits while importing land in `static`).
 * - Mutant run: the mutant activated (also in `__STRYKER_ACTIVE_MUTANT__`
 *   for processes the tests spawn), the covering tests run in order until
 *   the first failure; a hit count past Stryker's limit is a timeout. A
 *   static mutant is activated before the tests are imported (Stryker gives
 *   it a fresh worker: `reloadEnvironment: false`).
 * - An uncaught error or unhandled rejection while a test runs fails it.
 *
 * Loaded by path from `tools/mutate.ts` (`plugins`), selected with
 * `testRunner: "deno"`; the test files come in the `denoRunner.testFiles`
 * option. Module files in that list stand for their doc examples
 * (`deno test --doc`): each runs as a test.
 *
 * @module
 */

import {
  createTestCollector,
  docExamples,
  docTestModule,
  failureMessage,
  runTest,
  selectTests,
  type TestDefinition,
} from "./deno_tests.ts";

/** The instrumented code's shared state (`globalThis.__stryker__`). */
interface StrykerNamespace {
  activeMutant?: string;
  currentTestId?: string;
  mutantCoverage?: {
    static: Record<string, number>;
    perTest: Record<string, Record<string, number>>;
  };
  hitCount?: number;
  hitLimit?: number;
}

/** The part of Stryker's options this runner reads. */
export interface DenoRunnerOptions {
  denoRunner?: {
    /** Test files (and modules whose doc examples are tests), relative to the sandbox. */
    testFiles?: string[];
  };
}

/** The part of Stryker's run options this runner reads. */
interface MutantRunOptions {
  activeMutant: { id: string };
  testFilter?: string[];
  hitLimit?: number;
  disableBail: boolean;
  mutantActivation: "runtime" | "static";
}

/** A collected test with what Stryker reports of it. */
interface LoadedTest extends TestDefinition {
  id: string;
  fileName: string;
  origin: string;
}

/** Stryker's `TestResult` (its TestStatus enum: 0 success, 1 failed, 2 skipped). */
interface TestResult {
  id: string;
  name: string;
  fileName: string;
  timeSpentMs: number;
  status: 0 | 1 | 2;
  failureMessage?: string;
}

const ACTIVE_MUTANT_ENV = "__STRYKER_ACTIVE_MUTANT__";

function strykerNamespace(): StrykerNamespace {
  const global = globalThis as { __stryker__?: StrykerNamespace };
  return global.__stryker__ ??= {};
}

/** The Stryker test runner. */
export class DenoTestRunner {
  /** What Stryker injects into the constructor. */
  static inject = ["options"] as const;
  readonly #files: readonly string[];
  #tests: LoadedTest[] | undefined;
  #uncaught: unknown[] = [];
  readonly #originalTest = Deno.test;
  readonly #onError = (event: ErrorEvent) => {
    event.preventDefault();
    this.#uncaught.push(event.error ?? event.message);
  };
  readonly #onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    this.#uncaught.push(event.reason);
  };

  /** Reads the test files from Stryker's options. */
  constructor(options: DenoRunnerOptions) {
    const files = options.denoRunner?.testFiles;
    if (!Array.isArray(files) || files.length === 0) {
      throw new TypeError("denoRunner.testFiles: expected a non-empty list of test files");
    }
    this.#files = files;
  }

  /** Stryker restarts the worker for a static mutant: a module is imported once per process. */
  capabilities(): { reloadEnvironment: boolean } {
    return { reloadEnvironment: false };
  }

  /** Catches errors no test awaited, so they fail the running test instead of the worker. */
  init(): Promise<void> {
    globalThis.addEventListener("error", this.#onError);
    globalThis.addEventListener("unhandledrejection", this.#onRejection);
    return Promise.resolve();
  }

  /** Removes the listeners and gives `Deno.test` back. */
  dispose(): Promise<void> {
    globalThis.removeEventListener("error", this.#onError);
    globalThis.removeEventListener("unhandledrejection", this.#onRejection);
    setDenoTest(this.#originalTest);
    return Promise.resolve();
  }

  /** Runs every test once, collecting per-test coverage. */
  async dryRun(): Promise<object> {
    let tests: LoadedTest[];
    try {
      tests = await this.#load();
    } catch (error) {
      return { status: "error", errorMessage: `loading the tests: ${failureMessage(error)}` };
    }
    const ns = strykerNamespace();
    const results: TestResult[] = [];
    for (const test of tests) {
      ns.currentTestId = test.id;
      try {
        results.push(await this.#run(test));
      } finally {
        ns.currentTestId = undefined;
      }
    }
    return {
      status: "complete",
      tests: results,
      mutantCoverage: ns.mutantCoverage ?? { static: {}, perTest: {} },
    };
  }

  /** Runs the tests that cover one mutant, with the mutant active. */
  async mutantRun(options: MutantRunOptions): Promise<object> {
    const ns = strykerNamespace();
    const id = options.activeMutant.id;
    try {
      if (this.#tests === undefined) {
        // A static mutant acts while modules load: active before the import.
        if (options.mutantActivation === "static") activate(ns, id);
        try {
          await this.#load();
        } catch (error) {
          return {
            status: "killed",
            killedBy: [],
            nrOfTests: 0,
            failureMessage: `loading the tests: ${failureMessage(error)}`,
          };
        }
      }
      activate(ns, id);
      ns.hitLimit = options.hitLimit;
      ns.hitCount = options.hitLimit === undefined ? undefined : 0;
      return await this.#runFiltered(ns, options);
    } finally {
      ns.activeMutant = undefined;
      ns.hitCount = undefined;
      ns.hitLimit = undefined;
      Deno.env.delete(ACTIVE_MUTANT_ENV);
    }
  }

  async #runFiltered(ns: StrykerNamespace, options: MutantRunOptions): Promise<object> {
    const filter = options.testFilter === undefined ? undefined : new Set(options.testFilter);
    const tests = (this.#tests ?? []).filter((t) => filter === undefined || filter.has(t.id));
    const killedBy: string[] = [];
    let failure: string | undefined;
    let ran = 0;
    const start = performance.now();
    for (const test of tests) {
      const result = await this.#run(test);
      if (ns.hitCount !== undefined && ns.hitLimit !== undefined && ns.hitCount > ns.hitLimit) {
        return { status: "timeout", reason: `Hit limit reached (${ns.hitCount}/${ns.hitLimit})` };
      }
      if (result.status === 2) continue;
      ran++;
      if (result.status === 1) {
        killedBy.push(test.id);
        failure ??= result.failureMessage;
        if (!options.disableBail) break;
      }
    }
    const duration = performance.now() - start;
    return failure === undefined
      ? { status: "survived", nrOfTests: ran, duration }
      : { status: "killed", killedBy, failureMessage: failure, nrOfTests: ran, duration };
  }

  /** Runs one test; an error thrown outside it while it ran fails it too. */
  async #run(test: LoadedTest): Promise<TestResult> {
    this.#uncaught = [];
    const start = performance.now();
    const outcome = await runTest(test, test.origin);
    // A rejection nobody handled is reported after the microtasks: one turn of the loop.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const base = {
      id: test.id,
      name: test.name,
      fileName: test.fileName,
      timeSpentMs: Math.round(performance.now() - start),
    };
    if (outcome.status === "ignored") return { ...base, status: 2 };
    if (outcome.status === "failed") {
      return { ...base, status: 1, failureMessage: failureMessage(outcome.error) };
    }
    if (this.#uncaught.length > 0) {
      const message = `uncaught during the test: ${failureMessage(this.#uncaught[0])}`;
      return { ...base, status: 1, failureMessage: message };
    }
    return { ...base, status: 0 };
  }

  /** Imports the test files once (from the cwd: the sandbox), collecting their tests. */
  async #load(): Promise<LoadedTest[]> {
    if (this.#tests !== undefined) return this.#tests;
    const registered: LoadedTest[] = [];
    const ids = new Set<string>();
    const add = (definition: TestDefinition, fileName: string, origin: string) => {
      let id = `${fileName} > ${definition.name}`;
      for (let n = 2; ids.has(id); n++) id = `${fileName} > ${definition.name} (${n})`;
      ids.add(id);
      registered.push({ ...definition, id, fileName, origin });
    };
    for (const fileName of this.#files) {
      const url = new URL(fileName, `file://${Deno.cwd()}/`).href;
      if (/_test\.[cm]?[jt]sx?$/.test(fileName)) {
        setDenoTest(createTestCollector((definition) => add(definition, fileName, url)));
        await import(url);
      } else {
        for (const definition of await docTests(fileName)) add(definition, fileName, url);
      }
    }
    this.#tests = selectTests(registered);
    return this.#tests;
  }
}

/** Replaces `Deno.test` (writable in a `deno run` process; its type says read-only). */
function setDenoTest(test: unknown): void {
  Object.defineProperty(Deno, "test", { value: test, writable: true, configurable: true });
}

function activate(ns: StrykerNamespace, id: string): void {
  ns.activeMutant = id;
  Deno.env.set(ACTIVE_MUTANT_ENV, id);
}

/**
 * A module's doc examples as tests: each written beside the module (its
 * relative imports then resolve) as a module whose default export runs the
 * example; each run imports it afresh (a new query string).
 */
async function docTests(fileName: string): Promise<TestDefinition[]> {
  const source = await Deno.readTextFile(fileName);
  const slash = fileName.lastIndexOf("/");
  const dir = fileName.slice(0, slash + 1);
  const base = fileName.slice(slash + 1);
  const tests: TestDefinition[] = [];
  for (const example of docExamples(source)) {
    const path = `${dir}.${base}$${example.line}-${example.endLine}.doc_test.ts`;
    await Deno.writeTextFile(path, docTestModule(example));
    const url = new URL(path, `file://${Deno.cwd()}/`).href;
    let runs = 0;
    tests.push({
      name: `${fileName}$${example.line}-${example.endLine}.ts`,
      fn: async () => {
        const module = await import(`${url}?run=${++runs}`);
        await module.default();
      },
      ignore: false,
      only: false,
    });
  }
  return tests;
}

/** The plugin, as Stryker's plugin loader looks for it (a class plugin: Stryker injects options). */
export const strykerPlugins = [
  { kind: "TestRunner", name: "deno", injectableClass: DenoTestRunner },
];

/** Declares the `denoRunner` option, so Stryker does not warn of an unknown one. */
export const strykerValidationSchema = {
  $schema: "http://json-schema.org/draft-07/schema",
  type: "object",
  properties: {
    denoRunner: {
      description: "The in-process Deno runner's options (tools/mutate/deno_runner.ts).",
      type: "object",
      properties: { testFiles: { type: "array", items: { type: "string" } } },
      default: {},
    },
  },
};
