/**
 * The server's own listening sockets and the connections they accept:
 * binding an address (with one-line errors saying what to do), checking a
 * port is free, and {@linkcode ConnectionTracker}, which caps the open
 * connections, closes those that never speak, and lets shutdown wait for
 * every socket to close. Knows nothing of gRPC.
 *
 * @module
 */

import { createServer, type Server as NetServer, type Socket } from "node:net";

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

/** Where {@linkcode listen} binds. */
export interface ListenAddress {
  /** The address to listen on. */
  host: string;
  /** The port; 0 picks a free one. */
  port: number;
  /**
   * Share the port with other processes that ask for it too (`SO_REUSEPORT`).
   * @default {false}
   */
  reusePort?: boolean;
}

/** Listens on host:port; resolves to the port once listening, rejects with a one-line error. */
export function listen(listener: NetServer, address: ListenAddress): Promise<number> {
  const { host, port, reusePort = false } = address;
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
 * resolves; rejects with the same one-line errors as {@linkcode listen}.
 */
export async function reservePort(host: string, port: number): Promise<number> {
  const probe = createServer();
  const picked = await listen(probe, { host, port });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return picked;
}

/** Where an accepted connection goes: a grpc-js connection injector, for one. */
export interface ConnectionSink {
  /** Takes over the socket. */
  injectConnection(socket: Socket): void;
}

/** Why {@linkcode ConnectionTracker} closed a connection it had just accepted. */
export type Refusal = "cap" | "silent";

/** Options for {@linkcode ConnectionTracker}. */
export interface ConnectionTrackerOptions {
  /**
   * Open connections, counted from the TCP accept (before any TLS
   * handshake); more are closed as soon as they arrive.
   * @default {1000}
   */
  maxConnections?: number;
  /**
   * Milliseconds from the TCP accept within which a connection must have
   * finished its TLS handshake and client-certificate check (if any) and
   * sent its first bytes; one that has not is closed, so that sockets that
   * never speak do not hold `maxConnections` slots.
   * @default {10000}
   */
  silentConnectionMs?: number;
  /**
   * Told of each connection closed at the cap or for its silence (the
   * server turns these into a summary log line).
   * @default {nothing}
   */
  onRefusal?: (why: Refusal) => void;
}

/**
 * A connection counted from its accept, not yet handed over: a TLS one
 * waits for its handshake and client-certificate check.
 */
export interface Admission {
  /**
   * Hands the ready connection (the TLS socket, for TLS) to the sink; from
   * now on its silence is judged by the bytes read on it.
   */
  handOver(socket: Socket): void;
}

/** The open connections of a server, on all its ports. */
export class ConnectionTracker {
  readonly #sockets = new Set<Socket>();
  readonly #maxConnections: number;
  readonly #onRefusal: (why: Refusal) => void;
  /** Milliseconds a new connection may stay silent before it is closed. */
  readonly silentMs: number;
  /** The cap on open connections. */
  get maxConnections(): number {
    return this.#maxConnections;
  }

  /** A tracker with the caps of `options`. */
  constructor(options: ConnectionTrackerOptions = {}) {
    this.#maxConnections = options.maxConnections ?? 1000;
    this.silentMs = options.silentConnectionMs ?? 10_000;
    this.#onRefusal = options.onRefusal ?? (() => {});
  }

  /** Open connections now. */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Counts a just-accepted TCP socket against the cap and starts its
   * silence deadline: `undefined` (and the socket destroyed) when the cap
   * is reached, else the way to hand it to `sink` once it is ready.
   * Until handed over by the deadline, it is closed.
   */
  admit(raw: Socket, sink: ConnectionSink): Admission | undefined {
    if (this.#sockets.size >= this.#maxConnections) {
      raw.destroy();
      this.#onRefusal("cap");
      return undefined;
    }
    this.#sockets.add(raw);
    let handed: Socket | undefined;
    // Counting bytes needs no listener of ours on the socket, which grpc-js reads.
    const silent = setTimeout(() => {
      if (raw.destroyed || (handed !== undefined && handed.bytesRead > 0)) return;
      raw.destroy();
      handed?.destroy();
      this.#onRefusal("silent");
    }, this.silentMs);
    // A TLS socket closes with its raw one, and the raw one with it.
    raw.once("close", () => {
      clearTimeout(silent);
      this.#sockets.delete(raw);
    });
    return {
      handOver(socket) {
        if (handed !== undefined || raw.destroyed || socket.destroyed) return;
        handed = socket;
        sink.injectConnection(socket);
      },
    };
  }

  /**
   * An accept handler for plaintext: counts each connection against the
   * cap (closing it when the cap is reached), hands it to `sink` at once,
   * and closes it when it stays silent.
   */
  acceptInto(sink: ConnectionSink): (socket: Socket) => void {
    return (socket) => this.admit(socket, sink)?.handOver(socket);
  }

  /** Resolves once every socket has closed, or when `ms` have passed. */
  allClosed(ms: number): Promise<void> {
    const sockets = this.#sockets;
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

  /** Closes every open connection at once. */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}
