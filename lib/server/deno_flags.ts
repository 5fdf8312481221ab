/**
 * The Deno flags (V8 settings and permissions) the project's scripts run
 * with, read from the tasks in deno.json: the `server` task is the one
 * source for everything that starts `server.ts` (the supervisor's workers,
 * the test and bench launchers). The file is a static import, so reading it
 * needs no permission and a renamed task fails `deno check`.
 *
 * @module
 */

import config from "../../deno.json" with { type: "json" };

/** The tasks that run a script of the project with `deno run FLAGS SCRIPT`. */
export type ScriptTask = "server" | "client";

/**
 * The Deno flags of a `deno run FLAGS SCRIPT` command line (words split at
 * white space, no quoting; the program `deno` or a path ending in `/deno`):
 * the words between `run` and `script`. Throws a `TypeError` quoting the
 * command when it has another shape.
 *
 * @example
 * ```ts
 * import { denoRunFlags } from "./deno_flags.ts";
 * denoRunFlags("deno run --allow-net server.ts", "server.ts"); // ["--allow-net"]
 * ```
 */
export function denoRunFlags(command: string, script: string): string[] {
  const words = command.trim().split(/\s+/);
  const deno = words[0] === "deno" || words[0].endsWith("/deno");
  if (!deno || words[1] !== "run" || words.indexOf(script) !== words.length - 1) {
    throw new TypeError(`not "deno run FLAGS ${script}": ${JSON.stringify(command)}`);
  }
  return words.slice(2, -1);
}

/** The Deno flags `deno task <task>` runs its script (`<task>.ts`) with, from deno.json. */
export function taskDenoFlags(task: ScriptTask): string[] {
  return denoRunFlags(config.tasks[task].command, `${task}.ts`);
}

/** The Deno flags of `deno task server`, which every launcher of `server.ts` uses. */
export function serverDenoFlags(): string[] {
  return taskDenoFlags("server");
}

/**
 * `flags` less the run permission (`--allow-run`, `--allow-run=...`): what
 * a server that starts no workers needs.
 */
export function withoutRunPermission(flags: readonly string[]): string[] {
  return flags.filter((flag) => flag !== "--allow-run" && !flag.startsWith("--allow-run="));
}
