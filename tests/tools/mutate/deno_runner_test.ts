/**
 * The in-process Stryker runner against a hand-instrumented fixture: a
 * module that reports coverage and switches mutants through
 * `globalThis.__stryker__` as Stryker's instrumenter makes code do (its
 * header: `mutantCoverage.static` while no test runs, `perTest[currentTestId]`
 * while one does; `activeMutant`; `hitCount` past `hitLimit` throws). The
 * statuses and results are those of Stryker's test-runner API
 * (`@stryker-mutator/api` test-runner/*.d.ts).
 */

import assert from "node:assert/strict";
import { DenoTestRunner } from "../../../tools/mutate/deno_runner.ts";

/** A module as Stryker's instrumenter would leave it, mutants 0 to 3. */
const SUT = `
const ns = () => (globalThis.__stryker__ ??= {});
function cover(id) {
  const n = ns();
  const cov = (n.mutantCoverage ??= { static: {}, perTest: {} });
  const c = n.currentTestId ? (cov.perTest[n.currentTestId] ??= {}) : cov.static;
  c[id] = (c[id] ?? 0) + 1;
}
function active(id) {
  const n = ns();
  if (n.activeMutant !== id) return false;
  if (n.hitCount !== undefined && ++n.hitCount > n.hitLimit) throw new Error("Stryker: Hit count limit reached");
  return true;
}
cover("0");
export const staticValue = active("0") ? "mutated" : "original";
export function add(a, b) { cover("1"); return active("1") ? a - b : a + b; }
// Endless while mutant 2 is active, but for the hit limit (and a bound, should the limit fail).
export function count(n) { cover("2"); let i = 0; while ((active("2") || i < n) && i < 1e6) i++; return i; }
export function later() { cover("3"); if (active("3")) Promise.reject(new Error("nobody awaits this")); }
`;

const TESTS = `
import { add, count, later, staticValue } from "./sut.js";
Deno.test("add", () => { if (add(2, 2) !== 4) throw new Error("add broke"); });
Deno.test("count", () => { if (count(3) !== 3) throw new Error("count broke"); });
Deno.test("later", async (t) => { await t.step("calls later()", () => later()); });
Deno.test("static", () => { if (staticValue !== "original") throw new Error("static mutant seen"); });
Deno.test("env", () => {
  if (Deno.env.get("__STRYKER_ACTIVE_MUTANT__") !== globalThis.__stryker__.activeMutant) throw new Error("env differs");
});
Deno.test({ name: "skipped", ignore: true, fn() { throw new Error("ran"); } });
`;

/** The fixture in a fresh folder (a module is imported once per process: one folder per runner). */
async function fixture(): Promise<{ dir: string; file: string; id: (name: string) => string }> {
  const dir = await Deno.makeTempDir({ prefix: "deno_runner_test_" });
  await Deno.writeTextFile(`${dir}/sut.js`, SUT);
  await Deno.writeTextFile(`${dir}/a_test.js`, TESTS);
  const file = `${dir}/a_test.js`;
  return { dir, file, id: (name) => `${file} > ${name}` };
}

/** Runs `body` with a runner over the fixture, then puts the process back as it was. */
async function withRunner(
  body: (runner: DenoTestRunner, f: Awaited<ReturnType<typeof fixture>>) => Promise<void>,
) {
  const f = await fixture();
  const runner = new DenoTestRunner({ denoRunner: { testFiles: [f.file] } });
  const originalTest = Deno.test;
  await runner.init();
  try {
    await body(runner, f);
  } finally {
    await runner.dispose();
    delete (globalThis as { __stryker__?: unknown }).__stryker__;
    await Deno.remove(f.dir, { recursive: true });
  }
  assert.equal(Deno.test, originalTest, "dispose() gives Deno.test back");
}

const run = (id: string, more: object = {}) => ({
  activeMutant: { id },
  disableBail: false,
  mutantActivation: "runtime" as const,
  ...more,
});

Deno.test("dry run: every test once, per-test coverage by test id, import-time hits as static", async () => {
  await withRunner(async (runner, { id, file }) => {
    assert.deepEqual(runner.capabilities(), { reloadEnvironment: false });
    const result = await runner.dryRun() as {
      status: string;
      tests: { id: string; name: string; fileName: string; status: number }[];
      mutantCoverage: { static: object; perTest: Record<string, object> };
    };
    assert.equal(result.status, "complete");
    assert.deepEqual(
      result.tests.map((t) => [t.id, t.name, t.fileName, t.status]),
      [
        [id("add"), "add", file, 0],
        [id("count"), "count", file, 0],
        [id("later"), "later", file, 0],
        [id("static"), "static", file, 0],
        [id("env"), "env", file, 0],
        [id("skipped"), "skipped", file, 2],
      ],
    );
    assert.deepEqual(result.mutantCoverage, {
      static: { 0: 1 },
      perTest: { [id("add")]: { 1: 1 }, [id("count")]: { 2: 1 }, [id("later")]: { 3: 1 } },
    });
  });
});

Deno.test("mutant runs: killed (by whom, why), survived, stopped at the first failure", async () => {
  await withRunner(async (runner, { id }) => {
    await runner.dryRun();
    const killed = await runner.mutantRun(run("1")) as Record<string, unknown>;
    assert.equal(killed.status, "killed");
    assert.deepEqual(killed.killedBy, [id("add")]);
    assert.equal(killed.nrOfTests, 1, "bail: no test after the first failure");
    assert.match(String(killed.failureMessage), /^Error: add broke/);
    const survived = await runner.mutantRun(run("1", { testFilter: [id("count"), id("env")] }));
    assert.deepEqual({ ...survived, duration: 0 }, {
      status: "survived",
      nrOfTests: 2,
      duration: 0,
    });
    // The mutant is off again after its run.
    assert.equal((await runner.mutantRun(run("9")) as { status: string }).status, "survived");
    assert.equal(Deno.env.get("__STRYKER_ACTIVE_MUTANT__"), undefined);
    const ns = (globalThis as { __stryker__?: { activeMutant?: string } }).__stryker__;
    assert.equal(ns?.activeMutant, undefined);
  });
});

Deno.test("mutant runs: disableBail runs every covering test; the hit limit is a timeout", async () => {
  await withRunner(async (runner, { id }) => {
    await runner.dryRun();
    const all = await runner.mutantRun(run("1", { disableBail: true })) as Record<string, unknown>;
    assert.equal(all.status, "killed");
    assert.equal(all.nrOfTests, 5);
    const endless = await runner.mutantRun(run("2", { testFilter: [id("count")], hitLimit: 100 }));
    assert.deepEqual(endless, { status: "timeout", reason: "Hit limit reached (101/100)" });
  });
});

Deno.test("mutant runs: a rejection nobody handles while a test runs fails that test", async () => {
  await withRunner(async (runner, { id }) => {
    await runner.dryRun();
    const result = await runner.mutantRun(run("3", { testFilter: [id("later")] })) as Record<
      string,
      unknown
    >;
    assert.equal(result.status, "killed");
    assert.deepEqual(result.killedBy, [id("later")]);
    assert.match(
      String(result.failureMessage),
      /^uncaught during the test: Error: nobody awaits this/,
    );
  });
});

Deno.test("a static mutant in a fresh runner is active while the tests are imported", async () => {
  await withRunner(async (runner, { id }) => {
    const result = await runner.mutantRun(run("0", { mutantActivation: "static" })) as Record<
      string,
      unknown
    >;
    assert.equal(result.status, "killed");
    assert.deepEqual(result.killedBy, [id("static")]);
  });
  // Activated only after the import (runtime), the same mutant goes unseen.
  await withRunner(async (runner) => {
    const result = await runner.mutantRun(run("0")) as { status: string };
    assert.equal(result.status, "survived");
  });
});

Deno.test("the runner refuses options without test files, naming the option", () => {
  assert.throws(() => new DenoTestRunner({}), {
    name: "TypeError",
    message: "denoRunner.testFiles: expected a non-empty list of test files",
  });
  assert.throws(
    () => new DenoTestRunner({ denoRunner: { testFiles: [] } }),
    /denoRunner\.testFiles/,
  );
});
