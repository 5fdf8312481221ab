/**
 * Builds the grpc-js server: the RouteGuide service, the health and
 * reflection services, the call-observing interceptor, on our HTTP/2
 * transport (`native_transport.ts`), with limits and keepalive as grpc-js
 * options. It listens on nothing: connections are handed to it (see
 * `listener.ts`).
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import type { Socket } from "node:net";
import { HealthImplementation } from "grpc-health-check";
import { addReflection } from "./reflection.ts";
import { requestFraming } from "./request_framing.ts";
import type { RouteGuideBinding } from "./adapter.ts";
import type { Http2Headers, Http2ServerOptions, RequestHandler } from "../http2/server.ts";
import { useNativeTransport } from "./native_transport.ts";
import { readDescriptorSet, SERVICE_NAME } from "./proto.ts";

/** Limits grpc-js and the HTTP/2 transport enforce. */
export interface GrpcLimits {
  /**
   * Concurrent calls (HTTP/2 streams) on one connection.
   * @default {100}
   */
  maxConcurrentStreams?: number;
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

/** Options for {@linkcode createGrpcServer}. */
export interface GrpcServerOptions {
  /** Limits on calls, messages and metadata. */
  limits?: GrpcLimits;
  /** Keepalive pings and connection lifetimes. */
  keepalive?: KeepaliveOptions;
  /** grpc-js server interceptors, run on every call of every service. */
  interceptors?: grpc.ServerInterceptor[];
  /**
   * Serves HTTP/2 requests that are not plain gRPC (the web protocols).
   * @default {a 415 answer}
   */
  otherRequests?: RequestHandler;
}

/** A grpc-js server with its services, fed connections from outside. */
export interface GrpcServer {
  /** Serves HTTP/2 on an accepted (plaintext or already TLS) socket. */
  injectConnection(socket: Socket): void;
  /**
   * Serves a call on a stream that looks like a `node:http2` server stream
   * (a web call's bridge), as if it had arrived on HTTP/2.
   */
  dispatchStream(stream: object, headers: Http2Headers): void;
  /** Whether the health service reports SERVING. */
  readonly serving: boolean;
  /** Reports NOT_SERVING from now on, on this server and the health-only one. */
  markNotServing(): void;
  /** Asks every connection to go away (HTTP/2 GOAWAY) once its calls end, within `graceMs`. */
  askConnectionsToClose(graceMs: number): void;
  /** Stops at once: every connection and call still open ends. */
  close(): void;
  /**
   * A second server with the health service only, sharing its statuses;
   * `otherRequests` serves its HTTP/2 requests that are not plain gRPC.
   */
  createHealthOnlyServer(otherRequests?: RequestHandler): HealthOnlyServer;
}

/** A grpc-js server that serves the health service alone. */
export interface HealthOnlyServer {
  /** Serves HTTP/2 on an accepted socket. */
  injectConnection(socket: Socket): void;
  /** Stops at once. */
  close(): void;
}

/** grpc-js server options from our limits and keepalive settings. */
function grpcServerOptions(limits: GrpcLimits, keepalive: KeepaliveOptions): grpc.ServerOptions {
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
function http2OptionsFor(limits: GrpcLimits): Http2ServerOptions {
  const maxMetadataBytes = limits.maxMetadataBytes ?? 8192;
  return {
    maxConcurrentStreams: limits.maxConcurrentStreams ?? 100,
    maxHeaderListSize: Math.max(64 * 1024, 2 * maxMetadataBytes + 16 * 1024),
  };
}

/** A grpc-js server with the health service alone, on our transport. */
function healthOnlyServer(
  health: HealthImplementation,
  http2Options: Http2ServerOptions,
): HealthOnlyServer {
  const server = new grpc.Server();
  useNativeTransport(server, http2Options);
  health.addToServer(server);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    injectConnection: (socket) => injector.injectConnection(socket),
    close: () => server.forceShutdown(),
  };
}

/** Builds the grpc-js server for `binding`, with health (SERVING) and reflection. */
export function createGrpcServer(
  binding: RouteGuideBinding,
  options: GrpcServerOptions = {},
): GrpcServer {
  const limits = options.limits ?? {};
  const server = new grpc.Server({
    ...grpcServerOptions(limits, options.keepalive ?? {}),
    // The message splitter first: it must get grpc-js's own call object.
    interceptors: [requestFraming(), ...options.interceptors ?? []],
  });
  const http2Options = http2OptionsFor(limits);
  const transport = useNativeTransport(server, {
    ...http2Options,
    otherRequests: options.otherRequests,
  });
  server.addService(binding.definition, binding.implementation);
  // The database is loaded before the server is built, so both start SERVING.
  const health = new HealthImplementation({ "": "SERVING", [SERVICE_NAME]: "SERVING" });
  health.addToServer(server);
  addReflection(server, readDescriptorSet());
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  let serving = true;
  return {
    injectConnection: (socket) => injector.injectConnection(socket),
    dispatchStream: (stream, headers) => transport.dispatch(stream, headers),
    get serving() {
      return serving;
    },
    markNotServing() {
      serving = false;
      health.setStatus("", "NOT_SERVING");
      health.setStatus(SERVICE_NAME, "NOT_SERVING");
    },
    // grpc-js calls this its injector's drain().
    askConnectionsToClose: (graceMs) => injector.drain(graceMs),
    close() {
      injector.destroy();
      server.forceShutdown();
    },
    createHealthOnlyServer: (otherRequests) =>
      healthOnlyServer(health, { ...http2Options, otherRequests }),
  };
}
