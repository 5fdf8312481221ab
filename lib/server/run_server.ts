/**
 * One server process, from start to stop: load and check the feature
 * database, open the notes store, serve, answer SIGHUP (TLS reload), and on
 * SIGINT or SIGTERM (or, for a worker, its supervisor's end) shut down
 * within the grace period. `server.ts` runs it alone or as a worker.
 *
 * @module
 */

import type { FeatureDb } from "../core/feature_index.ts";
import type { RouteNotesStore } from "../core/notes_store.ts";
import { loadFeatureDb } from "../data/feature_file.ts";
import { createMemoryNotesStore } from "../notes/memory.ts";
import { createSqliteNotesStore } from "../notes/sqlite.ts";
import type { ServerConfig } from "./config.ts";
import { formatAddress } from "./listener.ts";
import { type RouteGuideServer, serve, type ServeOptions } from "./serve.ts";
import type { ProcessSignals } from "./signals.ts";
import { stdinClosed } from "./supervisor.ts";
import type { Logger } from "./telemetry.ts";

/** What {@linkcode runServer} runs with besides the configuration. */
export interface RunContext {
  logger: Logger;
  signals: ProcessSignals;
  /** This worker's number, or 0 when the process serves alone. */
  workerId: number;
}

/** Serves in this process until SIGINT or SIGTERM (or, for a worker, its supervisor's end). */
export async function runServer(config: ServerConfig, context: RunContext): Promise<number> {
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
 * Loading leaves garbage (the scanner's buffers and the index's scratch
 * arrays; for a file of another shape, the JSON parser's objects, several
 * times the file's size); collect it now, before serving, so the process
 * starts at its working size (measured at a million features: 15 MB of
 * RSS less after the scanner, 205 MB less after the JSON parser). `gc`
 * exists with the server task's --expose-gc; it takes two passes to give
 * the memory back.
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
    const { createPostgresNotesStore } = await import("../notes/postgres.ts");
    return await createPostgresNotesStore(config.notes, limits);
  }
  return createMemoryNotesStore(limits);
}
