/**
 * `deno task server`: reads the flags, listens for signals, then serves
 * RouteGuide in this process (`lib/server/run_server.ts`) or, with
 * `--workers N` above 1, supervises N such processes on one port
 * (`lib/server/run_supervisor.ts`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { UsageError } from "./lib/core/usage_error.ts";
import { parseServerConfig, type ServerConfig, serverUsage } from "./lib/server/config.ts";
import { runServer } from "./lib/server/run_server.ts";
import { supervise, WORKER_ID_VARIABLE } from "./lib/server/run_supervisor.ts";
import { runtimeWarning } from "./lib/server/runtime.ts";
import { listenForSignals } from "./lib/server/signals.ts";
import { createLogger } from "./lib/server/telemetry.ts";

/** Runs the server with command-line arguments; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  // Before anything is printed: a parent may signal as soon as it reads a line.
  const signals = listenForSignals();
  const warning = runtimeWarning(Deno.version.deno);
  if (warning !== undefined) console.error(warning);
  const config = readConfig(args);
  if (typeof config === "number") return config;
  const workerId = Number(Deno.env.get(WORKER_ID_VARIABLE) ?? 0);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    fields: workerId > 0 ? { worker: workerId } : undefined,
  });
  if (workerId === 0 && config.workers > 1) {
    return await supervise(config, {
      args,
      logger,
      signals,
      script: fileURLToPath(import.meta.url),
    });
  }
  return await runServer(config, { logger, signals, workerId });
}

/** The configuration from `args` and the environment, or the exit code when there is none to run. */
function readConfig(args: string[]): ServerConfig | number {
  let config;
  try {
    config = parseServerConfig(args, (name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}`);
    return 2;
  }
  if (config === "help") {
    console.log(serverUsage());
    return 0;
  }
  return config;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
