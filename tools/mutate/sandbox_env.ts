/**
 * Stryker's build command for a module's sandbox: lets the processes the
 * tests spawn (`deno task server`'s and `client`'s flags, read from
 * deno.json by lib/server/deno_flags.ts) read `__STRYKER_ACTIVE_MUTANT__`.
 * Stryker's instrumented code reads that variable when it loads, and under
 * an `--allow-env=...` list without it the read throws NotCapable: a
 * spawned server would die before its first line. Run in the sandbox (its
 * cwd) on its copy of deno.json only.
 *
 * @module
 */

/** The variable Stryker's instrumented code reads (its ACTIVE_MUTANT_ENV_VARIABLE). */
export const ACTIVE_MUTANT_ENV = "__STRYKER_ACTIVE_MUTANT__";

/** A task command with `ACTIVE_MUTANT_ENV` added to each `--allow-env=` list it has. */
export function allowActiveMutant(command: string): string {
  return command.replace(
    /--allow-env=(\S+)/g,
    (flag, list: string) =>
      list.split(",").includes(ACTIVE_MUTANT_ENV)
        ? flag
        : `--allow-env=${list},${ACTIVE_MUTANT_ENV}`,
  );
}

/** deno.json's text with every task's `--allow-env=` lists taking `ACTIVE_MUTANT_ENV`. */
export function patchDenoJson(text: string): string {
  const config = JSON.parse(text) as { tasks?: Record<string, string | { command?: string }> };
  for (const [name, task] of Object.entries(config.tasks ?? {})) {
    if (typeof task === "string") config.tasks![name] = allowActiveMutant(task);
    else if (typeof task.command === "string") task.command = allowActiveMutant(task.command);
  }
  return JSON.stringify(config, null, 2) + "\n";
}

if (import.meta.main) {
  Deno.writeTextFileSync("deno.json", patchDenoJson(Deno.readTextFileSync("deno.json")));
}
