/**
 * `deno task server`: loads the feature database, serves RouteGuide, and
 * shuts down gracefully on SIGINT or SIGTERM. With `--workers N` above 1 it
 * is a supervisor instead, running N such servers on one port.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { FeatureDb } from "./lib/core/feature_index.ts";
import { loadFeatureDb } from "./lib/data/feature_file.ts";
import { runtimeWarning } from "./lib/server/runtime.ts";
import { formatAddress, reservePort } from "./lib/server/listener.ts";
import { type RouteGuideServer, serve, type ServeOptions } from "./lib/server/serve.ts";
import { parseServerConfig, type ServerConfig, serverUsage } from "./lib/server/config.ts";
import { UsageError } from "./lib/core/usage_error.ts";
import { listenForSignals, type ProcessSignals } from "./lib/server/signals.ts";
import { createLogger, type Logger } from "./lib/server/telemetry.ts";
import { createMemoryNotesStore } from "./lib/notes/memory.ts";
import type { RouteNotesStore } from "./lib/core/notes_store.ts";
import { createSqliteNotesStore } from "./lib/notes/sqlite.ts";
import {
  findDenoForWorkers,
  spawnWorker,
  startWorkers,
  stdinClosed,
  type Supervisor,
  workerDenoFlags,
} from "./lib/server/supervisor.ts";

/**
 * Set by the supervisor in each worker's environment: the worker's number.
 * A worker shares the port, tags its log lines, and stops when the
 * supervisor goes away.
 */
const WORKER_ID_VARIABLE = "ROUTEGUIDE_WORKER_ID";

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
    return await supervise(config, { args, logger, signals });
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

/** What {@linkcode runServer} runs with besides the configuration. */
interface RunContext {
  logger: Logger;
  signals: ProcessSignals;
  /** This worker's number, or 0 when the process serves alone. */
  workerId: number;
}

/** Serves in this process until SIGINT or SIGTERM (or, for a worker, its supervisor's end). */
async function runServer(config: ServerConfig, context: RunContext): Promise<number> {
  const { logger, signals, workerId } = context;
  // A worker stops when its supervisor is gone, however it went.
  const stop = workerId > 0
    ? Promise.race([signals.stop, stdinClosed().then(() => "SIGTERM" as const)])
    : signals.stop;
  let server;
  try {
    // Load and check the data before binding: a bad file never opens a port.
    const db = await loadDatabase(config.db, logger);
    const notes = await openNotesStore(config);
    server = await serve(serveOptions(config, { db, notes, logger, reusePort: workerId > 0 }));
    if (server.healthPort !== undefined) {
      logger.log(
        "notice",
        `health checks in plaintext on ${formatAddress(server.host, server.healthPort)}`,
      );
    }
    reloadTlsOnHangup(server, { tls: config.tlsCert !== undefined, signals, logger });
    // The ready line is the last thing start-up writes.
    console.log(`listening on ${formatAddress(server.host, server.port)} (${db.size} features)`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  const signal = await stop;
  logger.log(
    "notice",
    `${signal}: shutting down; ${server.inFlight} calls in flight get up to ${config.graceSeconds} s`,
  );
  const { cancelled } = await server.shutdown(config.graceSeconds * 1000);
  logger.log("notice", `stopped; ${cancelled} calls cancelled at the end of the grace period`);
  return 0;
}

/** Loads the feature database at `path`, warning about repeated locations, then collects the garbage. */
async function loadDatabase(path: string, logger: Logger): Promise<FeatureDb> {
  const { db, duplicates } = await loadFeatureDb(path);
  for (const d of duplicates.slice(0, 5)) {
    logger.log(
      "warn",
      `${path}: feature ${d.index} repeats the location of feature ${d.firstIndex} ` +
        `(${d.location.latitude}, ${d.location.longitude}); the first one is kept`,
    );
  }
  if (duplicates.length > 5) {
    logger.log("warn", `${path}: ${duplicates.length} repeated locations in all`);
  }
  await collectGarbage();
  return db;
}

/**
 * Parsing the JSON leaves garbage several times the size of the database
 * (a 108 MB file for a million features); collect it now, before serving,
 * so the process starts at its working size (measured: 503 MB of RSS
 * without, 298 MB with, at a million features). `gc` exists with the
 * server task's --expose-gc; it takes two passes to give the memory back.
 */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
}

/** The parts {@linkcode serveOptions} puts with the configuration. */
interface ServeParts {
  db: FeatureDb;
  notes: RouteNotesStore;
  logger: Logger;
  reusePort: boolean;
}

/** The options of `serve()` from the configuration. */
function serveOptions(config: ServerConfig, parts: ServeParts): ServeOptions {
  return {
    ...parts,
    host: config.host,
    port: config.port,
    healthPort: config.healthPort,
    telemetry: Deno.env.get("OTEL_DENO") === "true",
    maxNoteBytes: config.maxNoteBytes,
    limits: {
      maxConcurrentStreams: config.maxConcurrentStreams,
      maxConcurrentLists: config.maxConcurrentLists,
      maxMessageBytes: config.maxMessageBytes,
      maxMetadataBytes: config.maxMetadataBytes,
      maxConnections: config.maxConnections,
    },
    keepalive: {
      timeMs: config.keepaliveSeconds * 1000,
      timeoutMs: config.keepaliveTimeoutSeconds * 1000,
      maxIdleMs: config.maxConnectionIdleSeconds * 1000,
      maxAgeMs: config.maxConnectionAgeSeconds * 1000,
    },
    tls: config.tlsCert === undefined || config.tlsKey === undefined ? undefined : {
      certFile: config.tlsCert,
      keyFile: config.tlsKey,
      clientCaFile: config.tlsClientCa,
    },
  };
}

/**
 * SIGHUP reloads TLS files, or says there are none (so `systemctl reload`
 * is safe on a plaintext server).
 */
function reloadTlsOnHangup(
  server: RouteGuideServer,
  options: { tls: boolean; signals: ProcessSignals; logger: Logger },
): void {
  const { logger } = options;
  options.signals.onHangup(() => {
    if (!options.tls) {
      logger.log("notice", "SIGHUP: nothing to reload (no TLS files)");
      return;
    }
    server.reloadTls().then(
      () => logger.log("notice", "SIGHUP: reloaded the TLS certificate and key"),
      (error) => logger.log("error", `SIGHUP: kept the old TLS files: ${(error as Error).message}`),
    );
  });
}

/** Opens the notes store `config.notes` names. */
async function openNotesStore(config: ServerConfig): Promise<RouteNotesStore> {
  const limits = {
    maxNotesPerLocation: config.maxNotesPerLocation,
    maxLocations: config.maxNoteLocations,
  };
  if (config.notes.startsWith("sqlite:")) {
    return createSqliteNotesStore(config.notes.slice("sqlite:".length), limits);
  }
  if (config.notes.startsWith("postgres")) {
    // Loaded only when asked for: the driver adds to every start-up otherwise.
    const { createPostgresNotesStore } = await import("./lib/notes/postgres.ts");
    return await createPostgresNotesStore(config.notes, limits);
  }
  return createMemoryNotesStore(limits);
}

/** What {@linkcode supervise} runs with besides the configuration. */
interface SuperviseContext {
  /** The command-line arguments, passed on to every worker. */
  args: string[];
  logger: Logger;
  signals: ProcessSignals;
}

/**
 * Runs `config.workers` copies of this server on one port until a signal:
 * SIGINT/SIGTERM stop them all gracefully, SIGHUP reaches each one.
 */
async function supervise(config: ServerConfig, context: SuperviseContext): Promise<number> {
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
        script: fileURLToPath(import.meta.url),
        args: workerArgs,
        env: { [WORKER_ID_VARIABLE]: String(index) },
      }),
  });
  return { supervisor, address: formatAddress(config.host, port) };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
