/**
 * This project's own lint rules, loaded by `deno lint` through `deno.json`
 * (`"lint": {"plugins": ["./tools/lint_rules.ts"]}`).
 *
 * `house/function-size`: no function in `lib/`, `server.ts` or `client.ts`
 * has more than {@linkcode MAX_OWN_LINES} lines of its own. A function's own
 * lines are the lines it spans less those of the functions written inside
 * it, which are measured by themselves: a long function made of short
 * named steps passes, one long body does not. Tests and benchmarks are not
 * held to it.
 *
 * @module
 */

/** The most lines of its own a function may have. */
export const MAX_OWN_LINES = 60;

type FunctionNode =
  | Deno.lint.FunctionDeclaration
  | Deno.lint.FunctionExpression
  | Deno.lint.ArrowFunctionExpression;

/** Whether the rule applies to a file: the library and the two entry points. */
function inScope(filename: string): boolean {
  return /\/lib\/[^]*\.ts$/.test(filename) || /\/(server|client)\.ts$/.test(filename);
}

/** The 0-based line of every character offset of a text. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}

const functionSize: Deno.lint.Rule = {
  create(context) {
    if (!inScope(context.filename)) return {};
    const lineOf = lineIndex(context.sourceCode.text);
    // Open functions, innermost last, each with the lines of its nested ones.
    const open: { nested: number }[] = [];
    const enter = () => {
      open.push({ nested: 0 });
    };
    const leave = (node: FunctionNode) => {
      const { nested } = open.pop()!;
      const span = lineOf(node.range[1]) - lineOf(node.range[0]) + 1;
      if (open.length > 0) open[open.length - 1].nested += span;
      const own = span - nested;
      if (own > MAX_OWN_LINES) {
        context.report({
          node,
          message: `${own} lines of its own, over the house limit of ${MAX_OWN_LINES}`,
          hint: "split it into named steps, or move a part into a function of its own",
        });
      }
    };
    return {
      FunctionDeclaration: enter,
      "FunctionDeclaration:exit": leave,
      FunctionExpression: enter,
      "FunctionExpression:exit": leave,
      ArrowFunctionExpression: enter,
      "ArrowFunctionExpression:exit": leave,
    };
  },
};

/** The plugin `deno.json` loads. */
const plugin: Deno.lint.Plugin = {
  name: "house",
  rules: { "function-size": functionSize },
};

export default plugin;
