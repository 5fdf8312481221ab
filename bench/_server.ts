/**
 * Starts `server.ts` for the load scripts exactly as `deno task server` runs
 * it (its flags from deno.json, through lib/server/deno_flags.ts), on
 * loopback, and waits for its ready line.
 *
 * @module
 */

import { serverDenoFlags } from "../lib/server/deno_flags.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** A server process and the port it listens on. */
export interface BenchServer {
  child: Deno.ChildProcess;
  port: number;
}

/** Starts the server with `--db` on 127.0.0.1:`port` (0: a free one) and resolves once it listens. */
export async function spawnServer(db: string, port = 0): Promise<BenchServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...serverDenoFlags(),
      `${ROOT}server.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--db",
      db,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the server exited before it was ready");
    text += value;
  }
  reader.releaseLock();
  const match = text.match(/listening on \S+:(\d+)/);
  if (!match) throw new Error(`unexpected first line from the server: ${text}`);
  return { child, port: Number(match[1]) };
}
