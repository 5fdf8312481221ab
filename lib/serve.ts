/**
 * The server's wiring: builds the service from its parts, owns the
 * listener, and shuts down in order (stop accepting, let calls finish,
 * cancel the rest).
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import { createServer, type Server as NetServer, type Socket } from "node:net";
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

/** Rewords a listen error into one line saying what to do. */
function listenErrorMessage(address: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "EADDRINUSE":
      return `cannot listen on ${address}: the port is already in use (stop the other server or pick another --port)`;
    case "EACCES":
      return `cannot listen on ${address}: permission denied (ports below 1024 need privileges)`;
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return `cannot listen on ${address}: no such local address (check --host)`;
    default:
      return `cannot listen on ${address}: ${error.message}`;
  }
}

/** Listens on host:port; resolves once listening, rejects with a one-line error. */
function listen(listener: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      listener.off("listening", onListening);
      reject(new Error(listenErrorMessage(formatAddress(host, port), error)));
    };
    const onListening = () => {
      listener.off("error", onError);
      resolve((listener.address() as { port: number }).port);
    };
    listener.once("error", onError);
    listener.once("listening", onListening);
    listener.listen({ host, port });
  });
}

/** Resolves once every socket has closed, or when `ms` have passed. */
function socketsClosed(sockets: Set<Socket>, ms: number): Promise<void> {
  if (sockets.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function check() {
      if (sockets.size === 0) finish();
    }
    function finish() {
      clearTimeout(timer);
      for (const socket of sockets) socket.off("close", check);
      resolve();
    }
    for (const socket of sockets) socket.on("close", check);
  });
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

  // We own the listener and hand each accepted connection to grpc-js: this
  // lets shutdown see every socket and wait for it to flush and close.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  const listener = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    injector.injectConnection(socket);
  });
  const port = await listen(listener, host, options.port ?? 50051);

  let stopping: Promise<ShutdownResult> | undefined;
  return {
    host,
    port,
    get inFlight() {
      return binding.inFlight;
    },
    shutdown(graceMs) {
      stopping ??= (async () => {
        const deadline = Date.now() + graceMs;
        binding.drain();
        listener.close();
        // Tells every connection to go away once its calls end.
        injector.drain(graceMs + 2000);
        await binding.idle(AbortSignal.timeout(graceMs));
        const cancelled = binding.cancelAll("the server is shutting down");
        // Let the last replies and statuses reach the clients, which then
        // close their connections; do not wait long for those that do not.
        await socketsClosed(sockets, Math.max(1000, Math.min(2000, deadline - Date.now())));
        injector.destroy();
        server.forceShutdown();
        for (const socket of sockets) socket.destroy();
        await notes.close();
        return { cancelled };
      })();
      return stopping;
    },
  };
}
