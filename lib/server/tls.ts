/**
 * The server's TLS: reading and checking the PEM files, and a `node:tls`
 * listener that checks client certificates itself (see `client_certs.ts`)
 * before a connection goes any further, with the files read again on
 * reload. Knows nothing of gRPC.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import type { Socket } from "node:net";
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type Server as TlsServer,
  type TLSSocket,
} from "node:tls";
import type { PeerCertificateLike } from "./client_certs.ts";
import type { Logger } from "./telemetry.ts";

/** PEM files for TLS. */
export interface TlsFiles {
  /** Certificate chain. */
  certFile: string;
  /** Private key. */
  keyFile: string;
  /** CA bundle client certificates must chain to; when set, clients must present one. */
  clientCaFile?: string;
}

/** The server's TLS files, read and checked. */
export interface ServerTlsCredentials {
  /** Certificate and key, as `node:tls` takes them. */
  context: SecureContextOptions;
  /**
   * Checks a client's certificate against the client CA bundle: why it is
   * refused, or `undefined` when it is accepted; `undefined` when no client
   * certificates are asked for.
   */
  checkClient?: (peer: PeerCertificateLike) => Promise<string | undefined>;
}

/** Reads one TLS file, naming it when it cannot. */
async function readPem(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`cannot read the TLS ${what} ${path}: ${(error as Error).message}`);
  }
}

/** Throws unless the key belongs to the certificate. */
function checkKeyMatches(context: { cert: string; key: string }, tls: TlsFiles): void {
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
}

/** Reads the TLS files, naming a file it cannot read or use. */
export async function readTlsFiles(tls: TlsFiles): Promise<ServerTlsCredentials> {
  const context = {
    cert: await readPem(tls.certFile, "certificate"),
    key: await readPem(tls.keyFile, "key"),
  };
  checkKeyMatches(context, tls);
  if (tls.clientCaFile === undefined) return { context };
  // PKI.js is loaded for mutual TLS only: every other start-up would pay for it.
  const { clientCertificateProblem, parseCertificateBundle } = await import("./client_certs.ts");
  try {
    const cas = parseCertificateBundle(await readPem(tls.clientCaFile, "client CA"));
    return { context, checkClient: (peer) => clientCertificateProblem(peer, cas) };
  } catch (error) {
    throw new Error(
      `cannot use the TLS client CA ${tls.clientCaFile}: ${(error as Error).message}`,
    );
  }
}

/** Options for {@linkcode createTlsListener}. */
export interface TlsListenerOptions {
  /** Takes each connection that passed the handshake and the client-certificate check. */
  accept: (socket: Socket) => void;
  /** Where refused client certificates are logged. */
  logger: Logger;
  /** Milliseconds a handshake may take before its socket is closed. */
  handshakeTimeoutMs: number;
}

/** A TLS listener and the way to read its files again. */
export interface TlsListener {
  /** The listener, not yet listening. */
  readonly server: TlsServer;
  /** Reads the files again and uses them for new connections; rejects, keeping the old ones. */
  reload(): Promise<void>;
}

/** Reads the TLS files and makes a TLS listener (ALPN `h2` and `http/1.1`) from them. */
export async function createTlsListener(
  tls: TlsFiles,
  options: TlsListenerOptions,
): Promise<TlsListener> {
  let credentials = await readTlsFiles(tls);
  const server = createTlsServer({
    ...credentials.context,
    // The same port serves HTTP/2 (gRPC, web calls) and HTTP/1.1 (web calls, the page).
    ALPNProtocols: ["h2", "http/1.1"],
    // The runtime's own check of client certificates misses keyUsage and
    // gives no reason (see client_certs.ts): it asks for one, and we
    // check it below.
    requestCert: credentials.checkClient !== undefined,
    rejectUnauthorized: false,
    // A handshake that does not finish in time frees its socket.
    handshakeTimeout: options.handshakeTimeoutMs,
  });
  server.on("secureConnection", async (socket: TLSSocket) => {
    const check = credentials.checkClient;
    if (check !== undefined) {
      // Until accepted, nothing reads the socket: what the client sends waits.
      const problem = await check(socket.getPeerCertificate(true));
      if (problem !== undefined) {
        options.logger.log("warn", "client certificate refused", {
          reason: problem,
          peer: `${socket.remoteAddress}:${socket.remotePort}`,
        });
        socket.destroy();
        return;
      }
      if (socket.destroyed) return;
    }
    options.accept(socket);
  });
  server.on("tlsClientError", () => {/* a failed handshake only ends that connection */});
  return {
    server,
    async reload() {
      const fresh = await readTlsFiles(tls);
      server.setSecureContext(fresh.context);
      credentials = fresh;
    },
  };
}
