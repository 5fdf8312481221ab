/**
 * The server's wiring: builds the service from its parts, owns the
 * listener, and shuts down in order (stop accepting, let calls finish,
 * cancel the rest).
 *
 * @module
 */

import { createServer, type Server as NetServer } from "node:net";
import { observeCalls } from "../grpc/observe_calls.ts";
import type { FeatureDb } from "../core/feature_index.ts";
import { bindRouteGuide, type RouteGuideBinding } from "../grpc/adapter.ts";
import {
  createGrpcServer,
  type GrpcLimits,
  type GrpcServer,
  type HealthOnlyServer,
  type KeepaliveOptions,
} from "../grpc/server.ts";
import {
  type ConnectionSink,
  ConnectionTracker,
  type ConnectionTrackerOptions,
  listen,
  type ListenAddress,
  splitByProtocol,
} from "./listener.ts";
import { createCallObserver, createLogger, type Logger } from "./telemetry.ts";
import { createMemoryNotesStore } from "../notes/memory.ts";
import type { RouteNotesLimits } from "../notes/limits.ts";
import type { RouteNotesStore } from "../core/notes_store.ts";
import { createRouteGuideHandlers } from "../core/handlers.ts";
import { createTlsListener, type TlsFiles } from "./tls.ts";
import { createRefusalLog, type RefusalLog } from "./refusals.ts";
import { createLazyWebHandler } from "./web.ts";
import { Http1Server, type Http1ServerOptions } from "../http1/server.ts";

export type { KeepaliveOptions } from "../grpc/server.ts";
export type { TlsFiles } from "./tls.ts";

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
  /**
   * Where call lines and unexpected errors are logged.
   * @default {a logger at level "warn", text lines on stderr}
   */
  logger?: Logger;
  /**
   * Make an OpenTelemetry span and metric per call (for `OTEL_DENO=true`).
   * Without it, and below log level `info`, calls are not observed at all,
   * which saves the interceptor's cost on every call.
   * @default {false}
   */
  telemetry?: boolean;
  /**
   * Also serve the health service alone, in plaintext, on this port (for
   * probes that cannot speak TLS); 0 picks a free port.
   */
  healthPort?: number;
  /** Limits that keep one client from taking the server down. */
  limits?: ServerLimits;
  /** Keepalive pings and connection lifetimes. */
  keepalive?: KeepaliveOptions;
  /** Serve TLS only, from these PEM files; read again by {@linkcode RouteGuideServer.reloadTls}. */
  tls?: TlsFiles;
  /**
   * Origins whose pages may call the web protocols (CORS); `*` for any.
   * @default {[] (same origin only)}
   */
  corsOrigins?: readonly string[] | "*";
  /**
   * Share the ports with other processes that also ask for it (the
   * kernel's `SO_REUSEPORT`): each new connection goes to one of them.
   * This is how `--workers` runs several processes on one port.
   * @default {false}
   */
  reusePort?: boolean;
}

/** Limits on what clients may use; each has a default that suits a small server. */
export interface ServerLimits extends GrpcLimits, Omit<ConnectionTrackerOptions, "onRefusal"> {
  /**
   * Concurrent ListFeatures calls on the whole server; more get `RESOURCE_EXHAUSTED`.
   * @default {64}
   */
  maxConcurrentLists?: number;
  /**
   * Milliseconds within which an HTTP/1.x request head must be complete,
   * from the connection's first byte or the request's; else 408 and close.
   * @default {10000}
   */
  requestHeadTimeoutMs?: number;
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
  /** The plaintext health-only port, when one was asked for. */
  readonly healthPort?: number;
  /** Calls in flight now. */
  readonly inFlight: number;
  /** Open connections now. */
  readonly connections: number;
  /**
   * Reads the TLS files again and uses them for new connections; open
   * connections are not dropped. Rejects (keeping the old ones) when the
   * files are unreadable or do not match.
   */
  reloadTls(): Promise<void>;
  /**
   * Stops accepting calls (new ones get `UNAVAILABLE`), lets the calls in
   * flight finish for up to `graceMs`, then cancels the rest and closes.
   */
  shutdown(graceMs: number): Promise<ShutdownResult>;
}

/** Binds the RouteGuide handlers for `options.db` and `notes` to grpc-js. */
function bindService(
  options: ServeOptions,
  parts: { notes: RouteNotesStore; logger: Logger },
): RouteGuideBinding {
  const { notes, logger } = parts;
  const handlers = createRouteGuideHandlers({
    db: options.db,
    notes,
    maxNoteBytes: options.maxNoteBytes,
  });
  return bindRouteGuide(handlers, {
    onUnexpectedError: (error, method) =>
      logger.log("error", "unexpected handler error", {
        method,
        error: String((error as Error)?.stack ?? error),
      }),
    maxConcurrentLists: options.limits?.maxConcurrentLists,
    maxMetadataBytes: options.limits?.maxMetadataBytes,
    features: options.db,
  });
}

/** The server's listener: plaintext, or TLS from `tls` (then `reloadTls` reads the files again). */
async function createListener(
  tls: TlsFiles | undefined,
  parts: {
    connections: ConnectionTracker;
    sink: ConnectionSink;
    logger: Logger;
    refusals: RefusalLog;
  },
): Promise<{ listener: NetServer; reloadTls: () => Promise<void> }> {
  const { connections, sink } = parts;
  if (tls === undefined) {
    return {
      listener: createServer(connections.acceptInto(sink)),
      reloadTls: () => Promise.resolve(),
    };
  }
  const secure = await createTlsListener(tls, {
    admit: (raw) => connections.admit(raw, sink),
    logger: parts.logger,
    onHandshakeFailed: () => parts.refusals.count("handshake"),
  });
  return { listener: secure.server, reloadTls: () => secure.reload() };
}

/** The plaintext health-only port and what serves it. */
interface HealthOnlyPort {
  server: HealthOnlyServer;
  http1: Http1Server;
  listener: NetServer;
  port: number;
}

/** Serves the health service alone, in plaintext, on `address`. */
async function listenHealthOnly(
  grpcServer: GrpcServer,
  connections: ConnectionTracker,
  parts: { address: ListenAddress; logger: Logger; limits: ServerLimits },
): Promise<HealthOnlyPort> {
  const { address } = parts;
  // Answers GET /healthz too, for load balancers and Kubernetes httpGet probes.
  const web = createLazyWebHandler({
    dispatch: () => {
      throw new Error("the health-only port serves no web RPCs");
    },
    serving: () => grpcServer.serving,
    logger: parts.logger,
    healthOnly: true,
  });
  const server = grpcServer.createHealthOnlyServer(web.http2);
  const http1 = new Http1Server(web, http1Options(parts.limits));
  const split = splitByProtocol({
    http2: server,
    http1: { injectConnection: (socket) => http1.accept(socket) },
    timeoutMs: connections.silentMs,
  });
  const listener = createServer(connections.acceptInto(split));
  const port = await listen(listener, address);
  return { server, http1, listener, port };
}

/** HTTP/1.x limits from the server's: the header section counts against the metadata limit. */
function http1Options(limits: ServerLimits): Http1ServerOptions {
  return {
    maxHeaderBytes: limits.maxMetadataBytes ?? 8192,
    headTimeoutMs: limits.requestHeadTimeoutMs,
  };
}

/** What {@linkcode shutDownInOrder} stops. */
interface RunningParts {
  binding: RouteGuideBinding;
  grpcServer: GrpcServer;
  http1: Http1Server;
  listener: NetServer;
  healthOnly?: HealthOnlyPort;
  connections: ConnectionTracker;
  refusals: RefusalLog;
  notes: RouteNotesStore;
}

/**
 * Stops accepting, lets the calls in flight finish for up to `graceMs`,
 * cancels the rest, waits a little for the sockets to close, then closes
 * everything.
 */
async function shutDownInOrder(parts: RunningParts, graceMs: number): Promise<ShutdownResult> {
  const { binding, grpcServer, connections } = parts;
  const deadline = Date.now() + graceMs;
  grpcServer.markNotServing();
  binding.refuseNewCalls();
  parts.listener.close();
  // Tells every connection to go away once its calls end: HTTP/2 by
  // GOAWAY; HTTP/1.x idle ones close now, the others after their answer.
  grpcServer.askConnectionsToClose(graceMs + 2000);
  parts.http1.close();
  parts.healthOnly?.http1.close();
  await binding.idle(AbortSignal.timeout(graceMs));
  const cancelled = binding.cancelAll("the server is shutting down");
  // Let the last replies and statuses reach the clients, which then
  // close their connections; do not wait long for those that do not.
  await connections.allClosed(Math.max(1000, Math.min(2000, deadline - Date.now())));
  grpcServer.close();
  if (parts.healthOnly !== undefined) {
    parts.healthOnly.listener.close();
    parts.healthOnly.server.close();
  }
  parts.http1.destroyAll();
  parts.healthOnly?.http1.destroyAll();
  connections.destroyAll();
  parts.refusals.close();
  await parts.notes.close();
  return { cancelled };
}

/**
 * Starts a RouteGuide server and resolves once it listens.
 *
 * Rejects with a one-line `Error` when the address cannot be bound.
 *
 * @example
 * ```ts
 * import { createFeatureDb } from "../core/feature_index.ts";
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
  const logger = options.logger ?? createLogger();
  const limits = options.limits ?? {};
  const binding = bindService(options, { notes, logger });
  const observed = options.telemetry === true || logger.enabled("info");
  // The web protocols are bridged into grpc-js; lib/web/ loads on the first web request.
  const web = createLazyWebHandler({
    dispatch: (stream, headers) => grpcServer.dispatchStream(stream, headers),
    serving: () => grpcServer.serving,
    maxMessageBytes: limits.maxMessageBytes,
    corsOrigins: options.corsOrigins,
    logger,
  });
  const grpcServer: GrpcServer = createGrpcServer(binding, {
    limits,
    keepalive: options.keepalive,
    interceptors: observed ? [observeCalls(createCallObserver(logger))] : [],
    otherRequests: web.http2,
  });
  // We own the listener and hand each connection on: shutdown sees every
  // socket, and every connection, on either port, counts against the cap.
  const connections = new ConnectionTracker({
    ...limits,
    onRefusal: (why) => refusals.count(why),
  });
  // HTTP/2 (gRPC, and web calls over h2) goes to grpc-js's transport, HTTP/1.x to ours.
  const http1 = new Http1Server(web, http1Options(limits));
  const split = splitByProtocol({
    http2: grpcServer,
    http1: { injectConnection: (socket) => http1.accept(socket) },
    timeoutMs: connections.silentMs,
    onSilent: () => refusals.count("silent"),
  });
  // Refusals and timeouts on every port go into one summary line a second.
  const refusals = createRefusalLog({
    logger,
    maxConnections: connections.maxConnections,
    silentMs: connections.silentMs,
  });
  const { listener, reloadTls } = await createListener(options.tls, {
    connections,
    sink: split,
    logger,
    refusals,
  });
  const reusePort = options.reusePort ?? false;
  const port = await listen(listener, { host, port: options.port ?? 50051, reusePort });
  let healthOnly: HealthOnlyPort | undefined;
  if (options.healthPort !== undefined) {
    healthOnly = await listenHealthOnly(grpcServer, connections, {
      address: { host, port: options.healthPort, reusePort },
      logger,
      limits,
    }).catch((error) => {
      listener.close();
      refusals.close();
      throw error;
    });
  }
  let stopping: Promise<ShutdownResult> | undefined;
  return {
    host,
    port,
    healthPort: healthOnly?.port,
    get inFlight() {
      return binding.inFlight;
    },
    get connections() {
      return connections.size;
    },
    reloadTls,
    shutdown(graceMs) {
      stopping ??= shutDownInOrder(
        { binding, grpcServer, http1, listener, healthOnly, connections, refusals, notes },
        graceMs,
      );
      return stopping;
    },
  };
}
