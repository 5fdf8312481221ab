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
import type { Admission } from "./listener.ts";
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
  /**
   * Counts each TCP connection as it arrives, before its handshake (the
   * cap and the silence deadline then cover the handshake and the
   * client-certificate check); `undefined` when it was refused. The
   * connection is handed over once it passed both.
   */
  admit: (raw: Socket) => Admission | undefined;
  /** Where refused client certificates are logged. */
  logger: Logger;
  /**
   * Told of each handshake that failed (not of those closed by `admit`'s deadline).
   * @default {nothing}
   */
  onHandshakeFailed?: () => void;
  /**
   * Checks a client certificate instead of the check of `clientCaFile`
   * (which then need not be set); a test holds it pending this way.
   * @default {the check of `clientCaFile`, if set}
   */
  checkClient?: (peer: PeerCertificateLike) => Promise<string | undefined>;
}

/** The remote end of a socket, which tells the TLS socket's raw one among those open. */
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** A TLS listener and the way to read its files again. */
export interface TlsListener {
  /** The listener, not yet listening. */
  readonly server: TlsServer;
  /** Reads the files again and uses them for new connections; rejects, keeping the old ones. */
  reload(): Promise<void>;
}

/**
 * Checks the client's certificate, when one is asked for, and hands the
 * connection over when it passes. Until then nothing reads the socket:
 * what the client sends waits, and the silence deadline still runs.
 */
async function checkThenHandOver(
  socket: TLSSocket,
  admission: Admission,
  check: ServerTlsCredentials["checkClient"],
  logger: Logger,
): Promise<void> {
  if (check !== undefined) {
    const problem = await check(socket.getPeerCertificate(true));
    if (problem !== undefined) {
      logger.log("warn", "client certificate refused", {
        reason: problem,
        peer: `${socket.remoteAddress}:${socket.remotePort}`,
      });
      socket.destroy();
      return;
    }
  }
  admission.handOver(socket);
}

/** Reads the TLS files and makes an HTTP/2 (ALPN `h2`) TLS listener from them. */
export async function createTlsListener(
  tls: TlsFiles,
  options: TlsListenerOptions,
): Promise<TlsListener> {
  let credentials = await readTlsFiles(tls);
  const checkClient = () => options.checkClient ?? credentials.checkClient;
  const server = createTlsServer({
    ...credentials.context,
    ALPNProtocols: ["h2"],
    // The runtime's own check of client certificates misses keyUsage and
    // gives no reason (see client_certs.ts): it asks for one, and we
    // check it below.
    requestCert: checkClient() !== undefined,
    rejectUnauthorized: false,
  });
  // Counted from the TCP accept: `node:tls` emits `connection` with the raw
  // socket before the handshake, and `secureConnection` only after it, so a
  // client that never finishes one would otherwise hold a descriptor for
  // as long as it liked. Each TCP connection has its own remote address
  // and port, which finds the raw socket's admission again.
  const pending = new Map<string, Admission>();
  server.on("connection", (raw: Socket) => {
    const admission = options.admit(raw);
    if (admission === undefined) return;
    const peer = peerOf(raw);
    pending.set(peer, admission);
    raw.once("close", () => {
      if (pending.get(peer) === admission) pending.delete(peer);
    });
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    const peer = peerOf(socket);
    const admission = pending.get(peer);
    pending.delete(peer);
    if (admission === undefined) socket.destroy();
    else void checkThenHandOver(socket, admission, checkClient(), options.logger);
  });
  server.on("tlsClientError", (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    // The error alone may leave the socket open (the runtime's handshake
    // timeout does).
    socket.destroy();
    // A hang-up is no failed handshake: the client left (a TCP probe does),
    // or the cap or the deadline closed it, which counts it already.
    if (error.code !== "ECONNRESET") options.onHandshakeFailed?.();
  });
  return {
    server,
    async reload() {
      const fresh = await readTlsFiles(tls);
      server.setSecureContext(fresh.context);
      credentials = fresh;
    },
  };
}
