/**
 * The in-process runner's pure part: every `Deno.test` call shape the suite
 * uses (Deno's API reference lists them), `only`/`ignore`, the step context
 * (a failing step fails its test, as `deno test` reports it) and doc examples
 * as `deno test --doc` finds them (```ts blocks of JSDoc comments).
 */

import assert from "node:assert/strict";
import {
  createTestCollector,
  docExamples,
  docTestModule,
  failureMessage,
  runTest,
  selectTests,
  type TestContext,
  type TestDefinition,
  testDefinition,
} from "../../../tools/mutate/deno_tests.ts";

const body = () => {};

Deno.test("testDefinition(): (name, fn), (name, options, fn), (options), (options, fn), (named fn)", () => {
  assert.deepEqual(testDefinition(["a", body]), {
    name: "a",
    fn: body,
    ignore: false,
    only: false,
  });
  assert.deepEqual(testDefinition(["b", { ignore: true }, body]), {
    name: "b",
    fn: body,
    ignore: true,
    only: false,
  });
  assert.deepEqual(testDefinition([{ name: "c", only: true, fn: body }]), {
    name: "c",
    fn: body,
    ignore: false,
    only: true,
  });
  assert.deepEqual(testDefinition([{ name: "d" }, body]), {
    name: "d",
    fn: body,
    ignore: false,
    only: false,
  });
  function named() {}
  assert.equal(testDefinition([named]).name, "named");
  assert.equal(testDefinition([{ fn: named }]).name, "named");
  // Only `true` ignores: `ignore: IPV6_PROBLEM !== undefined` is a boolean, not truthy text.
  assert.equal(testDefinition([{ name: "e", ignore: false, fn: body }]).ignore, false);
});

Deno.test("testDefinition(): no function, or no name, is a TypeError saying which", () => {
  assert.throws(() => testDefinition(["x"]), {
    name: "TypeError",
    message: 'Deno.test: no test function given (name: "x")',
  });
  assert.throws(() => testDefinition([{ name: "y" }]), /no test function given \(name: "y"\)/);
  assert.throws(() => testDefinition([() => {}]), /the test has no name/);
  assert.throws(() => testDefinition([]), /no test function given/);
});

Deno.test("the collector: Deno.test, .ignore and .only register alike, with their flag", () => {
  const seen: TestDefinition[] = [];
  const test = createTestCollector((d) => seen.push(d));
  test("plain", body);
  test.ignore("skipped", body);
  test.only({ name: "alone", fn: body });
  assert.deepEqual(
    seen.map(({ name, ignore, only }) => ({ name, ignore, only })),
    [
      { name: "plain", ignore: false, only: false },
      { name: "skipped", ignore: true, only: false },
      { name: "alone", ignore: false, only: true },
    ],
  );
  assert.deepEqual(selectTests(seen).map((t) => t.name), ["alone"]);
  assert.deepEqual(selectTests(seen.slice(0, 2)).map((t) => t.name), ["plain", "skipped"]);
});

Deno.test("runTest(): passed, failed (thrown or rejected), ignored (not run)", async () => {
  const def = (fn: TestDefinition["fn"], ignore = false) => ({ name: "t", fn, ignore });
  assert.deepEqual(await runTest(def(() => {}), "file:///x"), { status: "passed" });
  const boom = new Error("boom");
  assert.deepEqual(
    await runTest(
      def(() => {
        throw boom;
      }),
      "file:///x",
    ),
    { status: "failed", error: boom },
  );
  assert.deepEqual(await runTest(def(() => Promise.reject(boom)), "file:///x"), {
    status: "failed",
    error: boom,
  });
  let ran = false;
  assert.deepEqual(
    await runTest(
      def(() => {
        ran = true;
      }, true),
      "file:///x",
    ),
    { status: "ignored" },
  );
  assert.equal(ran, false);
});

Deno.test("steps run in order, nested, awaited; the context has name, origin and parent", async () => {
  const order: string[] = [];
  let inner: TestContext | undefined;
  const outcome = await runTest({
    name: "outer",
    ignore: false,
    fn: async (t) => {
      assert.equal(t.name, "outer");
      assert.equal(t.origin, "file:///a_test.ts");
      order.push("outer");
      assert.equal(
        await t.step("one", async (s) => {
          await Promise.resolve();
          order.push(s.name);
          await s.step({
            name: "one.a",
            fn: (n) => {
              inner = n;
              order.push(n.name);
            },
          });
        }),
        true,
      );
      assert.equal(
        await t.step({ name: "skipped", ignore: true, fn: () => void order.push("no") }),
        false,
      );
      await t.step(function two() {
        order.push("two");
      });
    },
  }, "file:///a_test.ts");
  assert.deepEqual(outcome, { status: "passed" });
  assert.deepEqual(order, ["outer", "one", "one.a", "two"]);
  assert.equal(inner?.parent?.name, "one");
  assert.equal(inner?.parent?.parent?.name, "outer");
});

Deno.test("a failing step fails its test, even when the test goes on, naming the step", async () => {
  let after = false;
  const outcome = await runTest({
    name: "outer",
    ignore: false,
    fn: async (t) => {
      assert.equal(
        await t.step("bad", () => {
          throw new Error("step broke");
        }),
        false,
      );
      after = true;
      assert.equal(await t.step("good", () => {}), true);
    },
  }, "file:///a_test.ts");
  assert.equal(after, true);
  assert.equal(outcome.status, "failed");
  const error = (outcome as { error: Error }).error;
  assert.equal(error.message, 'step "bad": step broke');
  assert.match(failureMessage(error), /^Error: step "bad": step broke\n/);
  assert.match(failureMessage(error), /step broke/);
});

Deno.test("a nested step's failure reaches the test through every level", async () => {
  const outcome = await runTest({
    name: "outer",
    ignore: false,
    fn: async (t) => {
      await t.step("a", async (s) => {
        await s.step("b", () => {
          throw new RangeError("deep");
        });
      });
    },
  }, "file:///a_test.ts");
  assert.equal(outcome.status, "failed");
  assert.equal((outcome as { error: Error }).error.message, 'step "a": step "b": deep');
});

Deno.test("t.step() without a function is a TypeError naming the step", async () => {
  const outcome = await runTest({
    name: "outer",
    ignore: false,
    fn: (t) => t.step("lonely" as never).then(() => {}),
  }, "file:///a_test.ts");
  assert.equal(outcome.status, "failed");
  assert.match(String((outcome as { error: Error }).error), /TypeError: t\.step\("lonely"\)/);
});

Deno.test("failureMessage(): an error's stack (message first), anything else as text", () => {
  const error = new Error("nope");
  assert.equal(failureMessage(error), error.stack);
  const bare = new Error("bare");
  bare.stack = undefined;
  assert.equal(failureMessage(bare), "Error: bare");
  assert.equal(failureMessage("text"), "text");
  assert.equal(failureMessage(42), "42");
});

const SOURCE = [
  "/**",
  " * Adds.",
  " *",
  " * ```ts",
  ' * import { add } from "./add.ts";',
  " * import {",
  " *   equal,",
  ' * } from "node:assert/strict";',
  " *",
  " * equal(add(1, 2), 3);",
  " * ```",
  " *",
  " * ```",
  " * not code: no language",
  " * ```",
  " */",
  "export function add(a: number, b: number) {",
  "  return a + b;",
  "}",
  "/** @example",
  " * ```js",
  " * add(2, 2);",
  " * ```",
  " */",
].join("\n");

Deno.test("docExamples(): ```ts and ```js blocks with their lines, imports split from the body", () => {
  const examples = docExamples(SOURCE);
  assert.deepEqual(examples, [
    {
      line: 4,
      endLine: 11,
      imports:
        'import { add } from "./add.ts";\nimport {\n  equal,\n} from "node:assert/strict";\n',
      body: "equal(add(1, 2), 3);",
    },
    { line: 21, endLine: 23, imports: "", body: "add(2, 2);" },
  ]);
  assert.equal(
    docTestModule(examples[1]),
    "\nexport default async function () {\nadd(2, 2);\n}\n",
  );
  assert.deepEqual(docExamples("/**\n * ```ts\n * never closed\n */"), []);
});
