/**
 * `deno task client`: a command-line client for RouteGuide. See `--help`.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { runClient } from "./lib/cli/client.ts";
import type { ClientIo } from "./lib/cli/output.ts";

/** Standard streams as the client uses them. */
export const stdio: ClientIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  stdinLines: () => createInterface({ input: process.stdin, crlfDelay: Infinity }),
  // Progress only where a person watches: stderr on a terminal.
  progress: Deno.stderr.isTerminal()
    ? (text) => Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[2K${text}`))
    : undefined,
};

if (import.meta.main) Deno.exit(await runClient(Deno.args, stdio));
