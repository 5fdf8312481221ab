/**
 * The one place where grpc-js meets our HTTP/2 server (`lib/http2/`):
 * grpc-js builds its HTTP/2 server in `Server#createHttp2Server` and wires
 * its handlers with `Server#_setupHandlers`; this module replaces the first
 * on one grpc-js server instance (nothing global) so that the connection
 * injectors it makes run on {@linkcode Http2Server}.
 * `tests/grpc/native_transport_test.ts` fails if a grpc-js upgrade moves this seam.
 *
 * @module
 */

import type * as grpc from "@grpc/grpc-js";
import { type Http2Headers, Http2Server, type Http2ServerOptions } from "../http2/server.ts";

/** The private parts of a grpc-js server this module relies on. */
interface GrpcServerSeam {
  createHttp2Server(credentials: grpc.ServerCredentials): unknown;
  _setupHandlers(server: unknown, interceptors: unknown): void;
}

/** The private parts of grpc-js server credentials this module relies on. */
interface CredentialsSeam {
  _isSecure(): boolean;
  _getInterceptors(): unknown;
}

/** Why the seam is not where this module expects it, or `undefined` when it is. */
export function seamFault(server: grpc.Server): string | undefined {
  const seam = server as unknown as Partial<GrpcServerSeam>;
  for (const method of ["createHttp2Server", "_setupHandlers"] as const) {
    if (typeof seam[method] !== "function") {
      return `grpc-js's Server has no ${method}() any more: lib/grpc/native_transport.ts needs updating`;
    }
  }
  return undefined;
}

/**
 * Makes the grpc-js server's connection injectors serve HTTP/2 with
 * {@linkcode Http2Server}. TLS stays with the caller's listener, so only
 * insecure credentials are accepted. Throws when grpc-js moved the seam.
 */
export function useNativeTransport(
  server: grpc.Server,
  options: Http2ServerOptions = {},
): NativeTransport {
  const fault = seamFault(server);
  if (fault !== undefined) throw new Error(fault);
  const seam = server as unknown as GrpcServerSeam;
  let wired: Http2Server | undefined;
  seam.createHttp2Server = (credentials) => {
    const creds = credentials as unknown as CredentialsSeam;
    if (creds._isSecure()) {
      throw new Error("the native HTTP/2 transport takes sockets already secured by our listener");
    }
    const http2Server = new Http2Server(options);
    seam._setupHandlers(http2Server, creds._getInterceptors());
    wired = http2Server;
    return http2Server;
  };
  return {
    dispatch(stream, headers) {
      if (wired === undefined || wired.listenerCount("stream") === 0) {
        throw new Error(
          "grpc-js has no 'stream' handler on its HTTP/2 server (no connection injector yet, or grpc-js moved the seam): lib/grpc/native_transport.ts needs updating",
        );
      }
      wired.emit("stream", stream, headers);
    },
  };
}

/** What {@linkcode useNativeTransport} gives back. */
export interface NativeTransport {
  /**
   * Hands a stream that looks like a `node:http2` server stream (a web
   * call's bridge) to grpc-js's `'stream'` handler, as if it had arrived
   * on HTTP/2. Throws when grpc-js has not wired its handler.
   */
  dispatch(stream: object, headers: Http2Headers): void;
}
