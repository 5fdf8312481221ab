/**
 * `deno task server`: loads the feature database, serves RouteGuide, and
 * shuts down gracefully on SIGINT or SIGTERM.
 *
 * @module
 */

import { loadFeatureDb } from "./lib/feature_db.ts";
import { runtimeWarning } from "./lib/runtime.ts";
import { formatAddress, serve } from "./lib/serve.ts";
import { parseServerConfig, serverUsage, UsageError } from "./lib/server_config.ts";
import { createLogger } from "./lib/telemetry.ts";
import { createMemoryNotesStore } from "./lib/route_notes.ts";
import { createSqliteNotesStore } from "./lib/sqlite_notes.ts";

/** Runs the server with command-line arguments; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const warning = runtimeWarning(Deno.version.deno);
  if (warning !== undefined) console.error(warning);

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

  // Listen for signals first: one that arrives while starting must not kill
  // the process before the handlers are in place.
  const stopSignal = new Promise<Deno.Signal>((resolve) => {
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(name, () => resolve(name));
    }
  });

  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  let server;
  try {
    // Load and check the data before binding: a bad file never opens a port.
    const { db, duplicates } = await loadFeatureDb(config.db);
    for (const d of duplicates.slice(0, 5)) {
      logger.log(
        "warn",
        `${config.db}: feature ${d.index} repeats the location of feature ${d.firstIndex} ` +
          `(${d.location.latitude}, ${d.location.longitude}); the first one is kept`,
      );
    }
    if (duplicates.length > 5) {
      logger.log("warn", `${config.db}: ${duplicates.length} repeated locations in all`);
    }
    // Parsing the JSON leaves garbage several times the size of the database
    // (a 108 MB file for a million features); collect it now, before serving,
    // so the process starts at its working size (measured: 503 MB of RSS
    // without, 298 MB with, at a million features). `gc` exists with the
    // server task's --expose-gc; it takes two passes to give the memory back.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc !== undefined) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 0));
      gc();
    }
    const notesLimits = {
      maxNotesPerLocation: config.maxNotesPerLocation,
      maxLocations: config.maxNoteLocations,
    };
    const notes = config.notes.startsWith("sqlite:")
      ? createSqliteNotesStore(config.notes.slice("sqlite:".length), notesLimits)
      : createMemoryNotesStore(notesLimits);
    server = await serve({
      notes,
      db,
      host: config.host,
      port: config.port,
      healthPort: config.healthPort,
      logger,
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
    });
    console.log(`listening on ${formatAddress(server.host, server.port)} (${db.size} features)`);
    if (server.healthPort !== undefined) {
      logger.log(
        "notice",
        `health checks in plaintext on ${formatAddress(server.host, server.healthPort)}`,
      );
    }
    const running = server;
    const tls = config.tlsCert !== undefined;
    // SIGHUP would end the process by default; it reloads TLS files, or says
    // there are none (so `systemctl reload` is safe on a plaintext server).
    Deno.addSignalListener("SIGHUP", () => {
      if (!tls) {
        logger.log("notice", "SIGHUP: nothing to reload (no TLS files)");
        return;
      }
      running.reloadTls().then(
        () => logger.log("notice", "SIGHUP: reloaded the TLS certificate and key"),
        (error) =>
          logger.log("error", `SIGHUP: kept the old TLS files: ${(error as Error).message}`),
      );
    });
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }

  const signal = await stopSignal;
  logger.log(
    "notice",
    `${signal}: shutting down; ${server.inFlight} calls in flight get up to ${config.graceSeconds} s`,
  );
  const { cancelled } = await server.shutdown(config.graceSeconds * 1000);
  logger.log("notice", `stopped; ${cancelled} calls cancelled at the end of the grace period`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
