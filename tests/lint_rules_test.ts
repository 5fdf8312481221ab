/** The house lint rules of `tools/lint_rules.ts`, run on made-up sources. */

import assert from "node:assert/strict";
import plugin, { MAX_OWN_LINES } from "../tools/lint_rules.ts";

/** A function `name` whose body has `lines` statements (so `lines + 2` lines in all). */
function fn(name: string, lines: number, inner = ""): string {
  return `function ${name}() {\n${"  let a = 1;\n".repeat(lines)}${inner}}\n`;
}

/** The messages of the house rules for `source` at `path`. */
function messages(path: string, source: string): string[] {
  return Deno.lint.runPlugin(plugin, path, source).map((d) => d.message);
}

Deno.test("house/function-size: a function over the limit is reported with its size", () => {
  assert.deepEqual(messages("/p/lib/core/a.ts", fn("long", MAX_OWN_LINES - 1)), [
    `${MAX_OWN_LINES + 1} lines of its own, over the house limit of ${MAX_OWN_LINES}`,
  ]);
  assert.deepEqual(messages("/p/lib/core/a.ts", fn("fits", MAX_OWN_LINES - 2)), []);
});

Deno.test("house/function-size: nested functions count for themselves, not for their parent", () => {
  const inner = fn("inner", 40);
  const outer = fn("outer", 30, inner);
  assert.deepEqual(messages("/p/lib/core/a.ts", outer), []);
  const arrows = `const f = () => {\n${"  g(() => {\n" + "    x();\n".repeat(70) + "  });\n"}};\n`;
  assert.deepEqual(messages("/p/server.ts", arrows), [
    `72 lines of its own, over the house limit of ${MAX_OWN_LINES}`,
  ]);
  const method = `class C {\n  m() {\n${"    x();\n".repeat(70)}  }\n}\n`;
  assert.equal(messages("/p/client.ts", method).length, 1);
});

Deno.test("house/function-size: only lib/, server.ts and client.ts are held to it", () => {
  const long = fn("long", 100);
  assert.equal(messages("/p/lib/http2/a.ts", long).length, 1);
  assert.equal(messages("/p/server.ts", long).length, 1);
  assert.deepEqual(messages("/p/tests/a_test.ts", long), []);
  assert.deepEqual(messages("/p/bench/a.ts", long), []);
  assert.deepEqual(messages("/p/tools/gen_types.ts", long), []);
});
