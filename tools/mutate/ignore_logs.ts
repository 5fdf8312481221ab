/**
 * A Stryker "ignorer" plugin: no mutants inside log calls (`logger.log(...)`,
 * `console.error(...)`, `onUnexpectedError?.(...)`...). What a log line says is
 * for people, not for the tests to pin down; mutating it only adds survivors.
 * Loaded by path from `tools/mutate.ts` (Stryker imports it; no API import
 * needed: a value plugin is a plain object).
 *
 * @module
 */

/** Callee names whose calls are log output. */
export const LOG_CALLEES: ReadonlySet<string> = new Set([
  "log",
  "debug",
  "info",
  "warn",
  "error",
  "onUnexpectedError",
]);

/** The little of Babel's NodePath this plugin reads. */
interface PathLike {
  node: { type: string; callee?: CalleeLike };
}

interface CalleeLike {
  type: string;
  name?: string;
  property?: { type: string; name?: string };
}

/** The callee's name of a call node (`a.b.log(...)` → "log"), if it has a simple one. */
export function calleeName(callee: CalleeLike | undefined): string | undefined {
  if (callee === undefined) return undefined;
  if (callee.type === "Identifier") return callee.name;
  if (
    (callee.type === "MemberExpression" || callee.type === "OptionalMemberExpression") &&
    callee.property?.type === "Identifier"
  ) {
    return callee.property.name;
  }
  return undefined;
}

/** Why a node is left unmutated, or `undefined` to mutate it. */
export function shouldIgnore(path: PathLike): string | undefined {
  const { node } = path;
  if (node.type !== "CallExpression" && node.type !== "OptionalCallExpression") return undefined;
  const name = calleeName(node.callee);
  return name !== undefined && LOG_CALLEES.has(name) ? "a log call" : undefined;
}

/** The plugin, as Stryker's plugin loader looks for it. */
export const strykerPlugins = [{ kind: "Ignore", name: "log-calls", value: { shouldIgnore } }];
