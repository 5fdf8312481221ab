/**
 * Connecting the PostgreSQL notes store: its URL read into settings, the
 * sockets postgres.js connects through, and failures told in a few words.
 *
 * @module
 */

import { connect as connectTcp, type Socket } from "node:net";
import process from "node:process";
import postgres from "postgres";

/** Idle connections close after this many seconds; the pool opens them again on demand. */
const IDLE_TIMEOUT_SECONDS = 60;

/** What the store connects to, taken from its URL. */
export interface Target {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  ssl: boolean | "prefer" | "require" | "verify-full";
  /** Startup parameters: the URL's other query parameters, e.g. `search_path`. */
  parameters: Record<string, string>;
  /** `host:port/database`, for messages: never the password. */
  where: string;
}

const SSL_MODES = {
  disable: false,
  allow: "prefer",
  prefer: "prefer",
  require: "require",
  "verify-ca": "verify-full",
  "verify-full": "verify-full",
} as const;

/**
 * Reads `postgres://USER:PASSWORD@HOST:PORT/DATABASE?PARAMS`. Only the URL
 * counts: the PG* environment variables libpq reads are not consulted, so a
 * server granted only its own variables needs no more.
 */
export function parseTarget(url: string): Target {
  const bad = (why: string) =>
    new TypeError(
      `Cannot create notes store: ${why}; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL itself stays out of the message: it may hold a password.
    throw bad("the URL does not parse");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw bad(`the URL's scheme is ${JSON.stringify(parsed.protocol)}`);
  }
  // Brackets come off IPv6 addresses for the socket and go back on for messages.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw bad("the URL names no host");
  const port = parsed.port === "" ? 5432 : Number(parsed.port);
  // libpq would take the system user's name, which Deno grants only with
  // --allow-sys (and node:os asks for kinds its own flag cannot name).
  const user = decodeURIComponent(parsed.username);
  if (user === "") throw bad("the URL names no user");
  const database = decodeURIComponent(parsed.pathname.slice(1)) || user;
  let ssl: Target["ssl"] = false;
  const parameters: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) {
    if (key === "sslmode") {
      if (!Object.hasOwn(SSL_MODES, value)) {
        throw bad(`sslmode must be one of ${Object.keys(SSL_MODES).join(", ")}: got ${value}`);
      }
      ssl = SSL_MODES[value as keyof typeof SSL_MODES];
    } else {
      parameters[key] = value;
    }
  }
  return {
    host,
    port,
    database,
    user,
    password: decodeURIComponent(parsed.password),
    ssl,
    parameters,
    where: `${parsed.hostname}:${port}/${database}`,
  };
}

/**
 * postgres.js reads PG* variables from `process.env` as it parses its
 * options, PGAPPNAME even when every option is given, and under the server's
 * `--allow-env` list each read throws NotCapable. Every setting comes from
 * the URL instead, so postgres.js gets an empty environment for the moment
 * it parses them (synchronously: nothing else can run meanwhile).
 */
export function withoutEnvironment<T>(fn: () => T): T {
  const env = process.env;
  process.env = {};
  try {
    return fn();
  } finally {
    process.env = env;
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  CONNECTION_CLOSED: "the server closed the connection",
  CONNECTION_DESTROYED: "the connection was closed",
  CONNECTION_ENDED: "the notes store is closed",
  HUNG_UP: "the server hung up without a word",
  NOT_POSTGRES: "the server there does not speak PostgreSQL's protocol",
};

/** Says in a few words what went wrong talking to PostgreSQL at `where`. */
export function describeFailure(where: string, error: unknown, connectTimeout: number): string {
  if (error instanceof postgres.PostgresError) {
    // Errors from the server: bad password, no such database or role, ...
    return `PostgreSQL at ${where} says: ${error.message} (SQLSTATE ${error.code})`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return `cannot reach PostgreSQL at ${where}: ${error.message}`;
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "CONNECT_TIMEOUT") {
    return `cannot reach PostgreSQL at ${where}: no answer within ${connectTimeout} s`;
  }
  if (code === "START_TIMEOUT") {
    return `cannot reach PostgreSQL at ${where}: not ready within ${2 * connectTimeout} s`;
  }
  if (typeof code === "string" && Object.hasOwn(NETWORK_ERRORS, code)) {
    return `cannot reach PostgreSQL at ${where}: ${NETWORK_ERRORS[code]}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `PostgreSQL at ${where}: ${message}`;
}

/**
 * Opens the sockets postgres.js connects through. postgres.js retries without
 * end when a socket closes before the server is ready and without an error,
 * as happens when something other than PostgreSQL answers: a TCP proxy with
 * nowhere to send the connection accepts and hangs up, an HTTP server
 * answers 400 and hangs up. Opening them here, an attempt after one that got
 * no answer, or one no PostgreSQL server gives, fails instead; so does any
 * attempt once the store stops (postgres.js may have one scheduled).
 */
export function createSocketOpener(target: Target) {
  let stopped = false;
  let refusal: string | undefined;
  return {
    open(): Socket {
      if (stopped) throw Object.assign(new Error("stopped"), { code: "CONNECTION_ENDED" });
      if (refusal !== undefined) {
        const code = refusal;
        refusal = undefined;
        throw Object.assign(new Error(code), { code });
      }
      // postgres.js writes its first message at once and starts its connect
      // timer; the socket sends the message once connected.
      const socket = connectTcp({ host: target.host, port: target.port });
      let first: number | undefined;
      socket.once("data", (chunk: Uint8Array) => first = chunk[0]);
      socket.once("close", (hadError) => {
        if (hadError) return;
        // PostgreSQL's first reply is R (authentication), E (error), or S or
        // N to a request for TLS.
        if (first === undefined) refusal = "HUNG_UP";
        else if (!"RENS".includes(String.fromCharCode(first))) refusal = "NOT_POSTGRES";
      });
      // postgres.js fails the query in flight on a socket error, but takes
      // the connection out of use only on "close", and a query sent in
      // between is never answered nor failed: it hangs. Node emits "close"
      // before the failed query's caller can send another; Deno emits it a
      // few milliseconds later, time enough for the next exchange to hang
      // (seen after the server dropped a connection). So "close" follows at
      // once here: this listener comes first, and the microtask runs after
      // postgres.js's listener has failed the query, before its caller
      // resumes. postgres.js then drops its listeners, so the socket's own
      // "close" goes unheard.
      socket.once("error", () => queueMicrotask(() => socket.emit("close", true)));
      // postgres.js names the server to TLS by the socket's `host`.
      return Object.assign(socket, { host: target.host });
    },
    stop() {
      stopped = true;
    },
  };
}

/** What {@linkcode createSocketOpener} returns: postgres.js's socket factory and its off switch. */
export type SocketOpener = ReturnType<typeof createSocketOpener>;

/** Options for {@linkcode openPool}. */
export interface PoolOptions {
  /** Most connections open at once. */
  maxConnections: number;
  /** Seconds each connection may take to be ready for queries. */
  connectTimeout: number;
}

/** A postgres.js pool on one target, with the sockets it connects through. */
export interface Pool {
  /** The postgres.js client. */
  sql: postgres.Sql;
  /** Where its sockets come from; `stop()` ends new attempts. */
  sockets: SocketOpener;
  /** What it connects to. */
  target: Target;
  /** Seconds each connection may take, for messages. */
  connectTimeout: number;
}

/** Creates a postgres.js pool on `target`; it connects lazily, on the first query. */
export function openPool(target: Target, options: PoolOptions): Pool {
  const { maxConnections, connectTimeout } = options;
  const { password } = target;
  const sockets = createSocketOpener(target);
  const settings = {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    // A function, so that an empty password does not send postgres.js
    // looking for PGPASSWORD; it is called only when the server asks.
    pass: () => password,
    ssl: target.ssl,
    max: maxConnections,
    connect_timeout: connectTimeout,
    idle_timeout: IDLE_TIMEOUT_SECONDS,
    // Only json comes back, which postgres.js parses without the array
    // types it would otherwise look up on every new connection.
    fetch_types: false,
    // CREATE TABLE IF NOT EXISTS and the like notice; postgres.js would
    // print each on stdout.
    onnotice: () => {},
    connection: sessionSettings(target),
    // Documented by postgres.js but missing from its types.
    socket: sockets.open,
  };
  const sql = withoutEnvironment(() => postgres(settings as postgres.Options<never>));
  return { sql, sockets, target, connectTimeout };
}

/** The settings each session starts with: ours, then the URL's, then what the store relies on. */
function sessionSettings(target: Target): Record<string, string> {
  return {
    application_name: "routeguide",
    // A commit returns before its WAL reaches the disk: a crash of the
    // database server (not of ours) can lose the last fraction of a
    // second of notes, never corrupt them, which is the trade the SQLite
    // store makes too. Measured: RouteChat at new places, 2 notes a round
    // trip, 16 streams: 362–527 → 1,239 round trips/s.
    // `?synchronous_commit=on` in the URL restores the wait.
    synchronous_commit: "off",
    ...target.parameters,
    // What the exchange function's locking relies on (see MIGRATIONS in
    // lib/notes/postgres_schema.ts), whatever the database's default.
    default_transaction_isolation: "read committed",
  };
}

/**
 * Runs `start` (the store's first queries) on a new pool, within twice the
 * connect timeout in all. When it fails or times out, the pool is dropped,
 * leaving nothing running, and the error says what went wrong where.
 */
export async function startPool(
  pool: Pool,
  start: (sql: postgres.Sql) => Promise<void>,
): Promise<void> {
  const { sql, sockets, target, connectTimeout } = pool;
  // The connect timeout bounds each attempt; this bounds them all, for a
  // server that answers, but not as PostgreSQL does, and then hangs up.
  const startTimeout = 2 * connectTimeout;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = start(sql);
  try {
    await Promise.race([
      started,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error("start timed out"), { code: "START_TIMEOUT" })),
          startTimeout * 1000,
        );
      }),
    ]);
  } catch (error) {
    // Drops the connections and their timers: a failed start leaves nothing
    // running, and the migration, if still pending, fails quietly.
    started.catch(() => {});
    sockets.stop();
    await sql.end({ timeout: 0 });
    throw new Error(
      `Cannot open notes store: ${describeFailure(target.where, error, connectTimeout)}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}
