/**
 * The mutation tool's own parts, on small inputs: the module → tests table,
 * target expansion, the runner chosen per module, the log-call ignorer, scores (timeouts killed,
 * equivalents left out) and the incremental cache's file names.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  COMMAND_RUNNER,
  missingPaths,
  MODULE_TESTS,
  modulesFor,
} from "../../tools/mutate/table.ts";
import { runnerFor, runnerOptions } from "../../tools/mutate/runner_options.ts";
import { allowActiveMutant, patchDenoJson } from "../../tools/mutate/sandbox_env.ts";
import { calleeName, shouldIgnore } from "../../tools/mutate/ignore_logs.ts";
import {
  cacheFile,
  type Equivalent,
  forgetUnkilled,
  type MutantOutcome,
  percent,
  sameCode,
  scoreModule,
  sumScores,
  textAt,
} from "../../tools/mutate/score.ts";

Deno.test("the table names only files that exist, and every module has a test file", () => {
  assert.deepEqual(missingPaths(MODULE_TESTS, existsSync), []);
  for (const [module, tests] of Object.entries(MODULE_TESTS)) {
    assert.ok(tests.length > 0, `${module} has no tests`);
  }
  assert.deepEqual(
    missingPaths({ "a.ts": ["b.ts", "a.ts"] }, (p) => p === "a.ts"),
    ["b.ts"],
  );
});

Deno.test("targets: a module, a folder (trailing slash or not), or an error naming the target", () => {
  const table = {
    "lib/x/a.ts": ["t"],
    "lib/x/b.ts": ["t"],
    "lib/xy/c.ts": ["t"],
  };
  assert.deepEqual(modulesFor("lib/x/a.ts", table), ["lib/x/a.ts"]);
  assert.deepEqual(modulesFor("./lib/x/", table), ["lib/x/a.ts", "lib/x/b.ts"]);
  assert.deepEqual(modulesFor("lib", table), [
    "lib/x/a.ts",
    "lib/x/b.ts",
    "lib/xy/c.ts",
  ]);
  assert.throws(() => modulesFor("lib/z", table), /"lib\/z" names no module/);
});

Deno.test("log calls are left unmutated; other calls are not", () => {
  const call = (
    callee: object,
  ) => ({ node: { type: "CallExpression", callee } } as never);
  const member = (name: string) => ({
    type: "MemberExpression",
    property: { type: "Identifier", name },
  });
  assert.equal(shouldIgnore(call(member("log"))), "a log call");
  assert.equal(shouldIgnore(call(member("error"))), "a log call");
  assert.equal(
    shouldIgnore({
      node: {
        type: "OptionalCallExpression",
        callee: member("onUnexpectedError"),
      },
    } as never),
    "a log call",
  );
  assert.equal(shouldIgnore(call(member("push"))), undefined);
  assert.equal(
    shouldIgnore(call({ type: "Identifier", name: "settle" })),
    undefined,
  );
  assert.equal(
    shouldIgnore({ node: { type: "BinaryExpression" } } as never),
    undefined,
  );
  assert.equal(calleeName({ type: "CallExpression" }), undefined);
});

const at = (
  line: number,
  column: number,
  endLine: number,
  endColumn: number,
) => ({
  start: { line, column },
  end: { line: endLine, column: endColumn },
});

Deno.test("textAt() cuts a location out of the source, on one line or several", () => {
  const source = "let a = b > c;\nif (x) {\n  y();\n}\n";
  assert.equal(textAt(source, at(1, 9, 1, 14)), "b > c");
  assert.equal(textAt(source, at(2, 8, 4, 2)), "{\n  y();\n}");
});

Deno.test("scores: timeouts count as killed; equivalents and ignored are left out; errors apart", () => {
  const source = "if (a > b) f();\n";
  const gt = at(1, 5, 1, 10);
  const results: MutantOutcome[] = [
    {
      mutatorName: "EqualityOperator",
      replacement: "a >= b",
      status: "Survived",
      location: gt,
    },
    {
      mutatorName: "EqualityOperator",
      replacement: "a <= b",
      status: "Killed",
      location: gt,
    },
    {
      mutatorName: "ConditionalExpression",
      replacement: "true",
      status: "Timeout",
      location: gt,
    },
    {
      mutatorName: "ConditionalExpression",
      replacement: "false",
      status: "Survived",
      location: gt,
    },
    { mutatorName: "BlockStatement", status: "Ignored", location: gt },
    { mutatorName: "BlockStatement", status: "CompileError", location: gt },
  ];
  const equivalents: Equivalent[] = [
    {
      file: "m.ts",
      mutator: "EqualityOperator",
      original: "a > b",
      replacement: "a >= b",
      kind: "test",
    },
    // Another module's: does not apply.
    {
      file: "n.ts",
      mutator: "ConditionalExpression",
      original: "a > b",
      replacement: "false",
      kind: "test",
    },
  ];
  const score = scoreModule("m.ts", source, results, equivalents);
  assert.deepEqual(score, {
    killed: 1,
    timedOut: 1,
    survived: 1,
    equivalent: 1,
    ignored: 1,
    errors: 1,
    survivors: [{
      line: 1,
      mutator: "ConditionalExpression",
      original: "a > b",
      replacement: "false",
    }],
  });
  assert.equal(percent(score), (100 * 2) / 3);
  assert.equal(percent({ killed: 0, timedOut: 0, survived: 0 }), undefined);
  const sum = sumScores([score, score]);
  assert.equal(sum.killed, 2);
  assert.equal(sum.survived, 2);
  assert.equal(sum.equivalent, 2);
  assert.deepEqual(sum.survivors, []);
});

Deno.test("each module's incremental results have their own cache file under .mutation-cache/", () => {
  assert.equal(
    cacheFile("lib/http2/flow.ts"),
    ".mutation-cache/lib__http2__flow.json",
  );
  assert.equal(
    cacheFile("lib/core/geo.ts", "/tmp/c"),
    "/tmp/c/lib__core__geo.json",
  );
});

Deno.test("tests changed: the cache forgets the mutants they did not kill, keeps the killed", () => {
  const report = {
    files: {
      "lib/a.ts": {
        mutants: [
          { id: "1", status: "Killed" },
          { id: "2", status: "Survived" },
          { id: "3", status: "Timeout" },
          { id: "4", status: "NoCoverage" },
        ],
      },
      "lib/b.ts": { mutants: [{ id: "5", status: "Survived" }] },
    },
  };
  assert.equal(forgetUnkilled(report), 3);
  assert.deepEqual(report.files["lib/a.ts"].mutants.map((m) => m.id), [
    "1",
    "3",
  ]);
  assert.deepEqual(report.files["lib/b.ts"].mutants, []);
  assert.equal(forgetUnkilled({}), 0);
});

Deno.test("an equivalent with a line matches only a mutant on a line containing it", () => {
  const source = "f({ a: true });\ng({ b: true });\n";
  const at = (line: number) => ({
    mutatorName: "BooleanLiteral",
    replacement: "false",
    status: "Survived",
    location: { start: { line, column: 8 }, end: { line, column: 12 } },
  });
  const equivalents = [{
    file: "m.ts",
    mutator: "BooleanLiteral",
    original: "true",
    replacement: "false",
    line: "g({ b:",
    kind: "test",
  }];
  const score = scoreModule("m.ts", source, [at(1), at(2)], equivalents);
  assert.equal(score.equivalent, 1);
  assert.deepEqual(score.survivors.map((s) => s.line), [1]);
});

Deno.test("an equivalent's code ending in … matches by its beginning (long blocks)", () => {
  assert.equal(sameCode("a > b", "a > b"), true);
  assert.equal(sameCode("a > b", "a > bc"), false);
  assert.equal(
    sameCode("{\n  const keys…", "{\n  const keys = new Float64Array(n);\n}"),
    true,
  );
  assert.equal(sameCode("{\n  const keys…", "{\n  return;\n}"), false);
});

Deno.test("each module runs in process unless the table names it for the command runner, with why", () => {
  for (const [module, why] of Object.entries(COMMAND_RUNNER)) {
    assert.ok(module in MODULE_TESTS, `${module} is not in MODULE_TESTS`);
    assert.ok(why.length > 0, `${module}: no reason given`);
  }
  const table = {
    "lib/x/slow.ts": "its tests reach it in a spawned server only",
  };
  assert.equal(runnerFor("lib/x/fast.ts", undefined, table), "deno");
  assert.equal(runnerFor("lib/x/slow.ts", undefined, table), "command");
  assert.equal(runnerFor("lib/x/slow.ts", "deno", table), "deno");
  assert.equal(runnerFor("lib/x/fast.ts", "command", table), "command");
  assert.throws(() => runnerFor("lib/x/fast.ts", "jest", table), {
    name: "TypeError",
    message: "--runner must be deno or command, got jest",
  });
});

Deno.test("runner options: in process with per-test coverage, or deno test per mutant", () => {
  const inProcess = runnerOptions("deno", ["tests/a_test.ts", "lib/a.ts"]);
  assert.equal(inProcess.testRunner, "deno");
  assert.deepEqual(inProcess.denoRunner, {
    testFiles: ["tests/a_test.ts", "lib/a.ts"],
  });
  assert.equal(inProcess.coverageAnalysis, "perTest");
  // The worker reads the sandbox's deno.json (its import map), with the tests' permissions.
  const args = inProcess.testRunnerNodeArgs as string[];
  assert.equal(args[0], "run");
  assert.ok(args.includes("--config=deno.json"));
  assert.ok(!args.includes("-A") && !args.includes("--allow-all"));
  const command = runnerOptions("command", ["tests/a_test.ts"]);
  assert.equal(command.testRunner, "command");
  assert.equal(command.coverageAnalysis, "off");
  assert.match(
    (command.commandRunner as { command: string }).command,
    /^deno test --no-check --doc .* tests\/a_test\.ts$/,
  );
});

Deno.test("the sandbox's tasks may read __STRYKER_ACTIVE_MUTANT__ wherever they list env names", () => {
  assert.equal(
    allowActiveMutant(
      "deno run --allow-env=GRPC_*,no_proxy --allow-net server.ts",
    ),
    "deno run --allow-env=GRPC_*,no_proxy,__STRYKER_ACTIVE_MUTANT__ --allow-net server.ts",
  );
  // --allow-env with no list allows it already; a list that has it is left alone.
  assert.equal(
    allowActiveMutant("deno test --allow-env x"),
    "deno test --allow-env x",
  );
  const once = "deno run --allow-env=A,__STRYKER_ACTIVE_MUTANT__ a.ts";
  assert.equal(allowActiveMutant(once), once);
  const patched = JSON.parse(patchDenoJson(JSON.stringify({
    tasks: {
      a: "deno run --allow-env=A a.ts",
      b: { command: "deno run --allow-env=B b.ts" },
    },
    imports: { x: "npm:x@1.0.0" },
  })));
  assert.deepEqual(patched, {
    tasks: {
      a: "deno run --allow-env=A,__STRYKER_ACTIVE_MUTANT__ a.ts",
      b: { command: "deno run --allow-env=B,__STRYKER_ACTIVE_MUTANT__ b.ts" },
    },
    imports: { x: "npm:x@1.0.0" },
  });
});
