/**
 * The server's wiring: builds the service from its parts, owns the
 * listener, and shuts down in order (stop accepting, let calls finish,
 * cancel the rest).
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import type { FeatureDb } from "./feature_db.ts";
import { bindRouteGuide } from "./grpc_adapter.ts";
import {
  createMemoryNotesStore,
  type RouteNotesLimits,
  type RouteNotesStore,
} from "./route_notes.ts";
import { createRouteGuideHandlers } from "./route_guide_service.ts";

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** The features to serve. */
  db: FeatureDb;
  /**
   * Where RouteChat notes are kept; the server closes it on shutdown.
   * @default {an in-memory store bounded by `notesLimits`}
   */
  notes?: RouteNotesStore;
  /** Caps for the default in-memory notes store. */
  notesLimits?: RouteNotesLimits;
  /**
   * Longest RouteNote message accepted, in UTF-8 bytes.
   * @default {4096}
   */
  maxNoteBytes?: number;
  /**
   * Address to listen on.
   * @default {"0.0.0.0"}
   */
  host?: string;
  /**
   * Port to listen on; 0 picks a free one.
   * @default {50051}
   */
  port?: number;
  /** Receives one line for each unexpected handler error. */
  log?: (line: string) => void;
}

/** What {@linkcode RouteGuideServer.shutdown} did. */
export interface ShutdownResult {
  /** Calls still running when the grace period ended, which were cancelled. */
  cancelled: number;
}

/** A running RouteGuide server. */
export interface RouteGuideServer {
  /** The address it listens on. */
  readonly host: string;
  /** The port it listens on (the one picked, when 0 was asked for). */
  readonly port: number;
  /** Calls in flight now. */
  readonly inFlight: number;
  /**
   * Stops accepting calls (new ones get `UNAVAILABLE`), lets the calls in
   * flight finish for up to `graceMs`, then cancels the rest and closes.
   */
  shutdown(graceMs: number): Promise<ShutdownResult>;
}

/** The form grpc-js wants an address in: IPv6 literals go in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Rewords grpc-js's bind error into one line saying what to do. */
function bindErrorMessage(address: string, error: Error): string {
  if (/EADDRINUSE|address already in use/i.test(error.message)) {
    return `cannot listen on ${address}: the port is already in use (stop the other server or pick another --port)`;
  }
  if (/EACCES|permission denied/i.test(error.message)) {
    return `cannot listen on ${address}: permission denied (ports below 1024 need privileges)`;
  }
  if (/EADDRNOTAVAIL|ENOTFOUND|getaddrinfo/i.test(error.message)) {
    return `cannot listen on ${address}: no such local address (check --host)`;
  }
  return `cannot listen on ${address}: ${error.message}`;
}

/**
 * Starts a RouteGuide server and resolves once it listens.
 *
 * Rejects with a one-line `Error` when the address cannot be bound.
 *
 * @example
 * ```ts
 * import { createFeatureDb } from "./feature_db.ts";
 * import { serve } from "./serve.ts";
 * import assert from "node:assert/strict";
 * const server = await serve({ db: createFeatureDb([]).db, host: "127.0.0.1", port: 0 });
 * assert.ok(server.port > 0);
 * await server.shutdown(1000);
 * ```
 */
export async function serve(options: ServeOptions): Promise<RouteGuideServer> {
  const host = options.host ?? "0.0.0.0";
  const notes = options.notes ?? createMemoryNotesStore(options.notesLimits);
  const log = options.log ?? ((line: string) => console.error(line));
  const handlers = createRouteGuideHandlers({
    db: options.db,
    notes,
    maxNoteBytes: options.maxNoteBytes,
  });
  const binding = bindRouteGuide(handlers, {
    onUnexpectedError: (error, method) =>
      log(`${method}: unexpected error: ${(error as Error)?.stack ?? error}`),
  });
  const server = new grpc.Server();
  server.addService(binding.definition, binding.implementation);

  const address = formatAddress(host, options.port ?? 50051);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error) reject(new Error(bindErrorMessage(address, error)));
      else resolve(port);
    });
  });

  let stopping: Promise<ShutdownResult> | undefined;
  return {
    host,
    port,
    get inFlight() {
      return binding.inFlight;
    },
    shutdown(graceMs) {
      stopping ??= (async () => {
        binding.drain();
        // Closes the listener and asks every connection to go away once its
        // calls end; new calls on them fail over to UNAVAILABLE.
        server.tryShutdown(() => {});
        await binding.idle(AbortSignal.timeout(graceMs));
        const cancelled = binding.cancelAll("the server is shutting down");
        if (cancelled > 0) {
          // Give the UNAVAILABLE statuses a moment to leave before the
          // connections are torn down.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        server.forceShutdown();
        await notes.close();
        return { cancelled };
      })();
      return stopping;
    },
  };
}
