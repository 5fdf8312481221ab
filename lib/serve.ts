/**
 * The server's wiring: builds the service from its parts, owns the
 * listener, and shuts down in order (stop accepting, let calls finish,
 * cancel the rest).
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type TLSSocket,
} from "node:tls";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { clientCertificateProblem, parseCertificateBundle } from "./client_certs.ts";
import type { FeatureDb } from "./feature_db.ts";
import { observeCalls } from "./call_observer_interceptor.ts";
import { bindRouteGuide } from "./grpc_adapter.ts";
import { useNativeTransport } from "./native_transport.ts";
import type { Http2ServerOptions } from "./http2/server.ts";
import { HealthImplementation, protoPath as HEALTH_PROTO_PATH } from "grpc-health-check";
import { ReflectionService } from "@grpc/reflection";
import { loadSync } from "@grpc/proto-loader";
import { withStandardMapEntries } from "./descriptors.ts";
import { loadRouteGuidePackage, PROTO_LOADER_OPTIONS, SERVICE_NAME } from "./proto.ts";
import { createCallObserver, createLogger, type Logger } from "./telemetry.ts";
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
   * Share the ports with other processes that also ask for it (the
   * kernel's `SO_REUSEPORT`): each new connection goes to one of them.
   * This is how `--workers` runs several processes on one port.
   * @default {false}
   */
  reusePort?: boolean;
}

/** Limits on what clients may use; each has a default that suits a small server. */
export interface ServerLimits {
  /**
   * Concurrent calls (HTTP/2 streams) on one connection.
   * @default {100}
   */
  maxConcurrentStreams?: number;
  /**
   * Concurrent ListFeatures calls on the whole server; more get `RESOURCE_EXHAUSTED`.
   * @default {64}
   */
  maxConcurrentLists?: number;
  /**
   * Largest request message in bytes; larger ones get `RESOURCE_EXHAUSTED`.
   * @default {4194304}
   */
  maxMessageBytes?: number;
  /**
   * Largest request metadata in bytes; more gets `RESOURCE_EXHAUSTED`.
   * @default {8192}
   */
  maxMetadataBytes?: number;
  /**
   * Open connections; more are closed as soon as they arrive.
   * @default {1000}
   */
  maxConnections?: number;
  /**
   * Milliseconds a new connection may stay silent (no HTTP/2 preface, no
   * TLS handshake) before it is closed, so that sockets that never speak do
   * not hold `maxConnections` slots until keepalive finds them.
   * @default {10000}
   */
  silentConnectionMs?: number;
}

/** Keepalive and connection lifetime settings, in milliseconds; 0 turns one off. */
export interface KeepaliveOptions {
  /**
   * Time between pings on each connection.
   * @default {60000}
   */
  timeMs?: number;
  /**
   * How long to wait for a ping's answer before closing the connection.
   * @default {20000}
   */
  timeoutMs?: number;
  /**
   * Close connections without calls for this long.
   * @default {0}
   */
  maxIdleMs?: number;
  /**
   * Ask connections this old to go away (they finish their calls first).
   * @default {0}
   */
  maxAgeMs?: number;
}

/** PEM files for TLS. */
export interface TlsFiles {
  /** Certificate chain. */
  certFile: string;
  /** Private key. */
  keyFile: string;
  /** CA bundle client certificates must chain to; when set, clients must present one. */
  clientCaFile?: string;
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
function listen(
  listener: NetServer,
  host: string,
  port: number,
  reusePort = false,
): Promise<number> {
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
    listener.listen({ host, port, reusePort });
  });
}

/**
 * Checks that host:port is free (nothing listens there, not even a process
 * sharing it) and resolves to the port, a free one picked when `port` is 0.
 * It listens for a moment and closes again, so the port is free when it
 * resolves; rejects with the same one-line errors as {@linkcode serve}.
 */
export async function reservePort(host: string, port: number): Promise<number> {
  const probe = createServer();
  const picked = await listen(probe, host, port);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return picked;
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

/** The TLS files, read. */
interface TlsMaterial {
  /** Certificate and key, as `node:tls` takes them. */
  context: SecureContextOptions;
  /** CAs client certificates must chain to; `undefined` when none are asked for. */
  clientCas?: ReturnType<typeof parseCertificateBundle>;
}

/** The reflection protos inside the @grpc/reflection package. */
const REFLECTION_PROTOS = ["v1", "v1alpha"].map((version) =>
  new URL(
    `../proto/grpc/reflection/${version}/reflection.proto`,
    import.meta.resolve("@grpc/reflection"),
  )
);

/** Reads the TLS files, naming a file it cannot read or use. */
async function readTlsFiles(tls: TlsFiles): Promise<TlsMaterial> {
  const read = async (path: string, what: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${(error as Error).message}`);
    }
  };
  const context = {
    cert: await read(tls.certFile, "certificate"),
    key: await read(tls.keyFile, "key"),
  };
  // node:tls takes a mismatched pair without a word and then fails every
  // handshake; refuse it here instead.
  let matches: boolean;
  try {
    matches = new X509Certificate(context.cert).checkPrivateKey(createPrivateKey(context.key));
  } catch (error) {
    throw new Error(
      `cannot use the TLS files ${tls.certFile} and ${tls.keyFile}: ${(error as Error).message}`,
    );
  }
  if (!matches) {
    throw new Error(`the TLS key ${tls.keyFile} does not match the certificate ${tls.certFile}`);
  }
  if (tls.clientCaFile === undefined) return { context };
  try {
    return {
      context,
      clientCas: parseCertificateBundle(await read(tls.clientCaFile, "client CA")),
    };
  } catch (error) {
    throw new Error(
      `cannot use the TLS client CA ${tls.clientCaFile}: ${(error as Error).message}`,
    );
  }
}

/** grpc-js server options from our limits and keepalive settings. */
function grpcServerOptions(limits: ServerLimits, keepalive: KeepaliveOptions): grpc.ServerOptions {
  const options: grpc.ServerOptions = {
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams ?? 100,
    "grpc.max_receive_message_length": limits.maxMessageBytes ?? 4 * 1024 * 1024,
    "grpc.keepalive_time_ms": keepalive.timeMs ?? 60_000,
    "grpc.keepalive_timeout_ms": keepalive.timeoutMs ?? 20_000,
  };
  if (keepalive.maxIdleMs) options["grpc.max_connection_idle_ms"] = keepalive.maxIdleMs;
  if (keepalive.maxAgeMs) {
    options["grpc.max_connection_age_ms"] = keepalive.maxAgeMs;
    // Calls on an old connection get as long to finish as a shutdown gives.
    options["grpc.max_connection_age_grace_ms"] = 30_000;
  }
  return options;
}

/**
 * HTTP/2 settings from our limits. The header list may be larger than the
 * metadata limit (pseudo-headers, 32 bytes of accounting per field), so
 * that metadata over the limit reaches the call and gets
 * `RESOURCE_EXHAUSTED` naming the limit, rather than an HTTP/2 refusal.
 */
function http2OptionsFor(limits: ServerLimits): Http2ServerOptions {
  const maxMetadataBytes = limits.maxMetadataBytes ?? 8192;
  return {
    maxConcurrentStreams: limits.maxConcurrentStreams ?? 100,
    maxHeaderListSize: Math.max(64 * 1024, 2 * maxMetadataBytes + 16 * 1024),
  };
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
  const logger = options.logger ?? createLogger();
  const handlers = createRouteGuideHandlers({
    db: options.db,
    notes,
    maxNoteBytes: options.maxNoteBytes,
  });
  const limits = options.limits ?? {};
  const binding = bindRouteGuide(handlers, {
    onUnexpectedError: (error, method) =>
      logger.log("error", "unexpected handler error", {
        method,
        error: String((error as Error)?.stack ?? error),
      }),
    maxConcurrentLists: limits.maxConcurrentLists,
    maxMetadataBytes: limits.maxMetadataBytes,
  });
  const observed = options.telemetry === true || logger.enabled("info");
  const server = new grpc.Server({
    ...grpcServerOptions(limits, options.keepalive ?? {}),
    interceptors: observed ? [observeCalls(createCallObserver(logger))] : [],
  });
  const http2Options = http2OptionsFor(limits);
  useNativeTransport(server, http2Options);
  server.addService(binding.definition, binding.implementation);
  // The database is loaded before serve() is called, so both start SERVING.
  const health = new HealthImplementation({ "": "SERVING", [SERVICE_NAME]: "SERVING" });
  health.addToServer(server);
  // Reflection describes every service it lists: the health proto's map
  // field needs its entry named as protoc names it (see descriptors.ts).
  new ReflectionService(withStandardMapEntries({
    ...loadRouteGuidePackage(),
    ...loadSync(HEALTH_PROTO_PATH, PROTO_LOADER_OPTIONS),
    // The reflection services list themselves too, as grpc-go's and
    // grpc-java's do; their protos ship inside @grpc/reflection.
    ...loadSync(
      REFLECTION_PROTOS.map((url) => decodeURIComponent(url.pathname)),
      PROTO_LOADER_OPTIONS,
    ),
  })).addToServer(server);

  // We own the listener and hand each accepted connection to grpc-js: this
  // lets shutdown see every socket and wait for it to flush and close.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  const maxConnections = limits.maxConnections ?? 1000;
  const silentMs = limits.silentConnectionMs ?? 10_000;
  // Every connection, on either port, counts against the cap and is watched
  // at shutdown.
  const acceptInto = (target: { injectConnection(socket: Socket): void }) => (socket: Socket) => {
    if (sockets.size >= maxConnections) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    // Counting bytes needs no listener of ours on the socket, which grpc-js reads.
    const silent = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, silentMs);
    socket.once("close", () => {
      clearTimeout(silent);
      sockets.delete(socket);
    });
    target.injectConnection(socket);
  };
  const accept = acceptInto(injector);
  const tls = options.tls;
  let listener: NetServer;
  let reloadTls = () => Promise.resolve();
  if (tls === undefined) {
    listener = createServer(accept);
  } else {
    let material = await readTlsFiles(tls);
    const secure = createTlsServer({
      ...material.context,
      ALPNProtocols: ["h2"],
      // The runtime's own check of client certificates misses keyUsage and
      // gives no reason (see client_certs.ts): it asks for one, and we
      // check it below.
      requestCert: material.clientCas !== undefined,
      rejectUnauthorized: false,
      // A handshake that does not finish in time frees its socket.
      handshakeTimeout: silentMs,
    });
    secure.on("secureConnection", async (socket: TLSSocket) => {
      const cas = material.clientCas;
      if (cas !== undefined) {
        // Until accepted, nothing reads the socket: what the client sends waits.
        const problem = await clientCertificateProblem(socket.getPeerCertificate(true), cas);
        if (problem !== undefined) {
          logger.log("warn", "client certificate refused", {
            reason: problem,
            peer: `${socket.remoteAddress}:${socket.remotePort}`,
          });
          socket.destroy();
          return;
        }
        if (socket.destroyed) return;
      }
      accept(socket);
    });
    secure.on("tlsClientError", () => {/* a failed handshake only ends that connection */});
    listener = secure;
    reloadTls = async () => {
      const fresh = await readTlsFiles(tls);
      secure.setSecureContext(fresh.context);
      material = fresh;
    };
  }
  const reusePort = options.reusePort ?? false;
  const port = await listen(listener, host, options.port ?? 50051, reusePort);

  let healthOnly: { server: grpc.Server; listener: NetServer; port: number } | undefined;
  if (options.healthPort !== undefined) {
    const healthServer = new grpc.Server();
    useNativeTransport(healthServer, http2Options);
    health.addToServer(healthServer);
    const healthInjector = healthServer.createConnectionInjector(
      grpc.ServerCredentials.createInsecure(),
    );
    const healthListener = createServer(acceptInto(healthInjector));
    try {
      const healthPort = await listen(healthListener, host, options.healthPort, reusePort);
      healthOnly = { server: healthServer, listener: healthListener, port: healthPort };
    } catch (error) {
      listener.close();
      throw error;
    }
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
      return sockets.size;
    },
    reloadTls() {
      return reloadTls();
    },
    shutdown(graceMs) {
      stopping ??= (async () => {
        const deadline = Date.now() + graceMs;
        health.setStatus("", "NOT_SERVING");
        health.setStatus(SERVICE_NAME, "NOT_SERVING");
        binding.refuseNewCalls();
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
        if (healthOnly !== undefined) {
          healthOnly.listener.close();
          healthOnly.server.forceShutdown();
        }
        for (const socket of sockets) socket.destroy();
        await notes.close();
        return { cancelled };
      })();
      return stopping;
    },
  };
}
