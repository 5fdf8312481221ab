/**
 * `--workers N`, the supervising process: reserves the ports, starts N
 * copies of `server.ts` on them (see `supervisor.ts`), prints one ready line
 * for all, passes SIGHUP on, and stops them all on SIGINT or SIGTERM.
 *
 * @module
 */

import type { ServerConfig } from "./config.ts";
import { formatAddress, reservePort } from "./listener.ts";
import type { ProcessSignals } from "./signals.ts";
import {
  findDenoForWorkers,
  spawnWorker,
  startWorkers,
  type Supervisor,
  workerDenoFlags,
} from "./supervisor.ts";
import type { Logger } from "./telemetry.ts";

/**
 * Set by the supervisor in each worker's environment: the worker's number.
 * A worker shares the port, tags its log lines, and stops when the
 * supervisor goes away.
 */
export const WORKER_ID_VARIABLE = "ROUTEGUIDE_WORKER_ID";

/** What {@linkcode supervise} runs with besides the configuration. */
export interface SuperviseContext {
  /** The command-line arguments, passed on to every worker. */
  args: string[];
  /** The path of the server script each worker runs (`server.ts`). */
  script: string;
  logger: Logger;
  signals: ProcessSignals;
}

/**
 * Runs `config.workers` copies of this server on one port until a signal:
 * SIGINT/SIGTERM stop them all gracefully, SIGHUP reaches each one.
 */
export async function supervise(config: ServerConfig, context: SuperviseContext): Promise<number> {
  const { logger, signals } = context;
  let started;
  try {
    started = await startSupervisor(config, context);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  const { supervisor, address } = started;
  signals.onHangup(() => supervisor.signal("SIGHUP"));
  console.log(
    `listening on ${address} (${supervisor.ready.features} features, ${config.workers} workers)`,
  );

  const signal = await signals.stop;
  logger.log("notice", `${signal}: stopping ${config.workers} workers`);
  // Each worker has the grace period; past it, and a margin, they are killed.
  const clean = await supervisor.stop(signal, config.graceSeconds * 1000 + 15_000);
  logger.log("notice", `stopped ${config.workers} workers; ${supervisor.restarts} restarts in all`);
  return clean ? 0 : 1;
}

/** Reserves the ports and starts the workers; resolves once every one is ready. */
async function startSupervisor(
  config: ServerConfig,
  context: SuperviseContext,
): Promise<{ supervisor: Supervisor; address: string }> {
  const { logger } = context;
  // Check the ports are free before sharing them (a second supervisor on
  // the same port would otherwise quietly share it too), and pick them
  // when 0 was asked for, so every worker gets the same ones.
  const port = await reservePort(config.host, config.port);
  const healthPort = config.healthPort === undefined
    ? undefined
    : await reservePort(config.host, config.healthPort);
  // With workers, notes are in memory only when asked for.
  if (config.notes === "memory") {
    logger.log(
      "warn",
      `--notes memory with ${config.workers} workers: each worker keeps its own notes, so ` +
        "RouteChat replays only the notes sent through the same worker",
    );
  }
  const deno = await findDenoForWorkers();
  // Later flags win: these pin what the workers must share.
  const workerArgs = [
    ...context.args,
    "--port",
    String(port),
    ...(healthPort === undefined ? [] : ["--health-port", String(healthPort)]),
    "--notes",
    config.notes,
  ];
  const supervisor = await startWorkers({
    workers: config.workers,
    logger,
    start: (index) =>
      spawnWorker({
        deno,
        denoFlags: workerDenoFlags(config.notes),
        script: context.script,
        args: workerArgs,
        env: { [WORKER_ID_VARIABLE]: String(index) },
      }),
  });
  return { supervisor, address: formatAddress(config.host, port) };
}
