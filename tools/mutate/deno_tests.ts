/**
 * The in-process test runner's pure part: what a `Deno.test(...)` call
 * registers (every call shape the tests use), a minimal `TestContext`
 * (`name`, `origin`, `step` with nested steps) and running one test as
 * `deno test` would: awaited, its steps in order, failing when it throws or
 * when one of its steps failed.
 *
 * @module
 */

/** A test body: `deno test` hands it a context. */
export type TestFn = (t: TestContext) => void | Promise<void>;

/** The part of Deno's TestContext the tests use. */
export interface TestContext {
  /** The test's (or step's) name. */
  readonly name: string;
  /** The URL of the file that registered the test. */
  readonly origin: string;
  /** The enclosing test's context, for a step. */
  readonly parent?: TestContext;
  /** Runs a step; resolves to whether it passed (false when ignored or failed). */
  step(nameOrFnOrDef: string | TestFn | StepDefinition, fn?: TestFn): Promise<boolean>;
}

/** A step given as an object, as `t.step({ name, fn, ignore })`. */
export interface StepDefinition {
  name?: string;
  fn: TestFn;
  ignore?: boolean;
}

/** One registered test. */
export interface TestDefinition {
  name: string;
  fn: TestFn;
  /** `ignore: true`: not run, reported skipped. */
  ignore: boolean;
  /** `only: true`: when any test has it, only those run. */
  only: boolean;
}

/** How one test ended. */
export type TestOutcome =
  | { status: "passed" }
  | { status: "failed"; error: unknown }
  | { status: "ignored" };

interface Options {
  name?: unknown;
  fn?: unknown;
  ignore?: unknown;
  only?: unknown;
}

function isOptions(value: unknown): value is Options {
  return typeof value === "object" && value !== null;
}

/**
 * The test a `Deno.test(...)` call registers, from any of its shapes:
 * `(name, fn)`, `(name, options, fn)`, `(options)`, `(options, fn)`, `(fn)`.
 * Throws a `TypeError` naming what is wrong otherwise.
 */
export function testDefinition(args: readonly unknown[]): TestDefinition {
  const [first, second, third] = args;
  let name: unknown;
  let fn: unknown;
  let options: Options = {};
  if (typeof first === "string") {
    name = first;
    if (typeof second === "function") fn = second;
    else if (isOptions(second)) [options, fn] = [second, third];
  } else if (typeof first === "function") {
    [name, fn] = [first.name, first];
  } else if (isOptions(first)) {
    options = first;
    fn = typeof second === "function" ? second : first.fn;
    name = first.name ?? (typeof fn === "function" ? fn.name : undefined);
  }
  if (typeof fn !== "function") {
    throw new TypeError(`Deno.test: no test function given (name: ${JSON.stringify(name)})`);
  }
  if (typeof name !== "string" || name === "") {
    throw new TypeError("Deno.test: the test has no name (give one, or a named function)");
  }
  return { name, fn: fn as TestFn, ignore: options.ignore === true, only: options.only === true };
}

/** A stand-in for `Deno.test`, with its `ignore` and `only` forms. */
export interface TestCollector {
  (...args: unknown[]): void;
  ignore(...args: unknown[]): void;
  only(...args: unknown[]): void;
}

/** A `Deno.test` stand-in handing each registered test to `add`. */
export function createTestCollector(add: (definition: TestDefinition) => void): TestCollector {
  const collector = (...args: unknown[]) => add(testDefinition(args));
  collector.ignore = (...args: unknown[]) => add({ ...testDefinition(args), ignore: true });
  collector.only = (...args: unknown[]) => add({ ...testDefinition(args), only: true });
  return collector;
}

/** The tests to run of those registered: the `only` ones when there are any, else all. */
export function selectTests<T extends TestDefinition>(tests: readonly T[]): T[] {
  const only = tests.filter((t) => t.only);
  return only.length > 0 ? only : [...tests];
}

function stepDefinition(nameOrFnOrDef: string | TestFn | StepDefinition, fn?: TestFn) {
  if (typeof nameOrFnOrDef === "string") {
    if (typeof fn !== "function") {
      throw new TypeError(`t.step(${JSON.stringify(nameOrFnOrDef)}): no step function given`);
    }
    return { name: nameOrFnOrDef, fn, ignore: false };
  }
  if (typeof nameOrFnOrDef === "function") {
    return { name: nameOrFnOrDef.name, fn: nameOrFnOrDef, ignore: false };
  }
  if (typeof nameOrFnOrDef?.fn !== "function") {
    throw new TypeError("t.step: the step definition has no fn");
  }
  const { name = nameOrFnOrDef.fn.name, fn: body, ignore = false } = nameOrFnOrDef;
  return { name, fn: body, ignore };
}

/**
 * Runs a test body with a fresh context. A step that fails makes its test
 * fail (as in `deno test`), with the first failing step's error, even when
 * the test body went on.
 */
export async function runTest(
  definition: Pick<TestDefinition, "name" | "fn" | "ignore">,
  origin: string,
  parent?: TestContext,
): Promise<TestOutcome> {
  if (definition.ignore) return { status: "ignored" };
  let stepFailure: { error: unknown } | undefined;
  const context: TestContext = {
    name: definition.name,
    origin,
    parent,
    async step(nameOrFnOrDef, fn) {
      const step = stepDefinition(nameOrFnOrDef, fn);
      const outcome = await runTest(step, origin, context);
      if (outcome.status === "failed") {
        stepFailure ??= { error: stepError(step.name, outcome.error) };
      }
      return outcome.status === "passed";
    },
  };
  try {
    await definition.fn(context);
  } catch (error) {
    return { status: "failed", error };
  }
  return stepFailure === undefined
    ? { status: "passed" }
    : { status: "failed", error: stepFailure.error };
}

/** A step's error, its message prefixed with the step's name (a nested one's names in order). */
function stepError(name: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new Error(`step "${name}": ${message}`, { cause: error });
  if (error instanceof Error && error.stack !== undefined) {
    // Keep the place the step failed at, under the step's name.
    wrapped.stack = `Error: ${wrapped.message}\n${error.stack}`;
  }
  return wrapped;
}

/** A failure as one message: the error's stack when it has one (its message first). */
export function failureMessage(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack ?? "";
    const head = `${error.name}: ${error.message}`;
    return stack.startsWith(head) || stack === "" ? (stack || head) : `${head}\n${stack}`;
  }
  return String(error);
}

/** One ```ts example of a JSDoc comment, as `deno test --doc` runs it. */
export interface DocExample {
  /** Lines of the opening and closing fences (1-based), for the test's name. */
  line: number;
  endLine: number;
  /** The example's import declarations (they must stay at a module's top). */
  imports: string;
  /** The rest of its code. */
  body: string;
}

const FENCE_OPEN = /^\s*\*\s?```(ts|typescript|js|javascript)?\s*$/;
const FENCE_CLOSE = /^\s*\*\s?```\s*$/;

/** The ```ts (or js) examples of a module's JSDoc comments. */
export function docExamples(source: string): DocExample[] {
  const lines = source.split("\n");
  const examples: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]);
    if (open === null) continue;
    const end = lines.findIndex((line, j) => j > i && FENCE_CLOSE.test(line));
    if (end === -1) break;
    const code = lines.slice(i + 1, end).map((line) => line.replace(/^\s*\*\s?/, ""));
    // A block without a language is not code (deno test --doc skips it).
    if (open[1] !== undefined) examples.push({ line: i + 1, endLine: end + 1, ...split(code) });
    i = end;
  }
  return examples;
}

/** Splits code into its leading import declarations (one or several lines each) and the rest. */
function split(code: readonly string[]): { imports: string; body: string } {
  let i = 0;
  while (i < code.length && /^\s*(import\s|$)/.test(code[i])) {
    if (/^\s*import\s/.test(code[i])) {
      while (i < code.length && !/;\s*$/.test(code[i])) i++;
    }
    i++;
  }
  return { imports: code.slice(0, i).join("\n"), body: code.slice(i).join("\n") };
}

/** A module running a doc example each time its default export is called. */
export function docTestModule(example: DocExample): string {
  return `${example.imports}\nexport default async function () {\n${example.body}\n}\n`;
}
