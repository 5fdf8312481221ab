/**
 * A route-notes store kept in PostgreSQL through postgres.js, so that server
 * processes on many machines can share one set of notes.
 *
 * An exchange is one call of the SQL function `route_notes_exchange()`, which
 * the store installs: one round trip, one transaction, with the caps enforced
 * inside it.
 *
 * @module
 */

import { connect as connectTcp, type Socket } from "node:net";
import process from "node:process";
import postgres from "postgres";
import {
  checkPositiveInteger,
  resolveNotesLimits,
  type RouteNote,
  type RouteNotesLimits,
  type RouteNotesStore,
} from "./route_notes.ts";

/** Options for {@linkcode createPostgresNotesStore}. */
export interface PostgresNotesOptions {
  /**
   * Most connections the store opens to PostgreSQL; exchanges beyond that
   * many at once wait for one.
   * @default {10}
   */
  maxConnections?: number;
  /**
   * Seconds a new connection may take, from the TCP connect until the server
   * is ready for queries, before it fails.
   * @default {5}
   */
  connectTimeoutSeconds?: number;
}

/** Default for {@linkcode PostgresNotesOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 10;
/** Default for {@linkcode PostgresNotesOptions.connectTimeoutSeconds}. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 5;
/** How long `close()` lets exchanges in flight finish before dropping their connections, in seconds. */
const CLOSE_TIMEOUT_SECONDS = 5;
/** How long `close()` then lets the idle connections end, in seconds. */
const END_TIMEOUT_SECONDS = 0.5;
/** Idle connections close after this many seconds; the pool opens them again on demand. */
const IDLE_TIMEOUT_SECONDS = 60;

/**
 * Every replica starting at once migrates under this transaction-scoped
 * advisory lock, so one migrates and the others then find the work done. The
 * key is "RouteNot" in ASCII; advisory keys are per database, so schemas in
 * one database that each hold notes merely take turns.
 */
const MIGRATION_LOCK = 0x526f7574654e6f74n;

// Messages are stored as `json` strings, not `text`: PostgreSQL text cannot
// hold U+0000, which the JSON escapes as \u0000, and `json` (unlike `jsonb`)
// keeps the escape as written. Any JavaScript string survives, lone
// surrogates included, and one `json_agg` brings a location's notes back as
// a single value for `JSON.parse`, as the SQLite store does.
//
// Concurrency, under READ COMMITTED: the function is VOLATILE, so each of its
// statements takes a fresh snapshot and sees whatever committed before it
// started.
// - Exchanges at one location take turns on the location's row lock, held
//   until commit, and read the notes only once they hold it: each sees every
//   note of the ones before it and none of the ones after.
// - Location rows are inserted and deleted only while holding the lock on
//   the single row of `route_note_location_count`, so the count stays exact
//   and, once a transaction holds it, the set of locations cannot change.
//   Only exchanges at a new location take it; the ones at a known location,
//   nearly all of them, never wait for it.
// - No deadlock: an exchange at a known location holds one row lock and
//   waits for nothing else; one at a new location takes the counter lock
//   first, then may wait for the row locks of the locations it evicts, whose
//   holders need nothing it holds.
// A location's `last_write` is the id of the latest note written there: ids
// come from one sequence, drawn while holding the location's lock, so they
// are each location's write order and, across locations, near enough the
// order in which they were written to for the location cap.
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE route_notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    latitude integer NOT NULL,
    longitude integer NOT NULL,
    message json NOT NULL
  );
  CREATE INDEX route_notes_by_location ON route_notes (latitude, longitude, id);
  CREATE TABLE route_note_locations (
    latitude integer NOT NULL,
    longitude integer NOT NULL,
    last_write bigint NOT NULL,
    PRIMARY KEY (latitude, longitude)
  );
  CREATE INDEX route_note_locations_by_last_write ON route_note_locations (last_write);
  CREATE TABLE route_note_location_count (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    count integer NOT NULL
  );
  INSERT INTO route_note_location_count (count) VALUES (0);

  CREATE FUNCTION route_notes_exchange(
    lat integer, lon integer, note json, per_location integer, max_locations integer
  ) RETURNS json LANGUAGE plpgsql VOLATILE AS $exchange$
  DECLARE
    earlier json;
    earlier_count integer;
    locations integer;
    gone_lat integer[];
    gone_lon integer[];
    note_id bigint;
  BEGIN
    PERFORM 1 FROM route_note_locations
      WHERE latitude = lat AND longitude = lon FOR UPDATE;
    IF NOT FOUND THEN
      SELECT count INTO locations FROM route_note_location_count FOR UPDATE;
      -- Another exchange may have added the location while this one waited.
      PERFORM 1 FROM route_note_locations
        WHERE latitude = lat AND longitude = lon FOR UPDATE;
      IF NOT FOUND THEN
        IF locations >= max_locations THEN
          -- More than one goes when another store sharing the database has
          -- a larger cap.
          WITH gone AS (
            DELETE FROM route_note_locations WHERE (latitude, longitude) IN (
              SELECT latitude, longitude FROM route_note_locations
                ORDER BY last_write LIMIT locations - max_locations + 1)
            RETURNING latitude, longitude
          )
          SELECT array_agg(latitude), array_agg(longitude) INTO gone_lat, gone_lon FROM gone;
          -- A statement of its own, to see the notes of exchanges that
          -- held a victim's lock while the DELETE above waited for it.
          DELETE FROM route_notes AS n USING unnest(gone_lat, gone_lon) AS g (lat, lon)
            WHERE n.latitude = g.lat AND n.longitude = g.lon;
          locations := locations - coalesce(cardinality(gone_lat), 0);
        END IF;
        -- last_write is set below, once the note has its id.
        INSERT INTO route_note_locations (latitude, longitude, last_write) VALUES (lat, lon, 0);
        UPDATE route_note_location_count SET count = locations + 1;
      END IF;
    END IF;

    SELECT coalesce(json_agg(message ORDER BY id), '[]'), count(*)
      INTO earlier, earlier_count
      FROM route_notes WHERE latitude = lat AND longitude = lon;
    INSERT INTO route_notes (latitude, longitude, message) VALUES (lat, lon, note)
      RETURNING id INTO note_id;
    UPDATE route_note_locations SET last_write = note_id
      WHERE latitude = lat AND longitude = lon;
    IF earlier_count >= per_location THEN
      -- Keeps the newest per_location notes there, the new one included.
      DELETE FROM route_notes WHERE latitude = lat AND longitude = lon AND id <= (
        SELECT id FROM route_notes WHERE latitude = lat AND longitude = lon
          ORDER BY id DESC LIMIT 1 OFFSET per_location);
    END IF;
    RETURN earlier;
  END
  $exchange$;
  `,
];

/** The schema version this code creates and understands. */
const SCHEMA_VERSION = MIGRATIONS.length;

function checkSeconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Cannot create notes store: ${name} must be a positive number: current value is ${value}`,
    );
  }
  return value;
}

/** What the store connects to, taken from its URL. */
interface Target {
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
function parseTarget(url: string): Target {
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
function withoutEnvironment<T>(fn: () => T): T {
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
function describeFailure(where: string, error: unknown, connectTimeout: number): string {
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
function createSocketOpener(target: Target) {
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

/** The notes schema's version in the database, 0 when there is none. */
async function schemaVersion(sql: postgres.Sql | postgres.TransactionSql): Promise<number> {
  // A query of the catalog, not to_regclass(): that consults the session's
  // cache of names, which may not yet know of the table another replica
  // created while this one waited for the migration lock.
  const [{ present }] = await sql`
    SELECT EXISTS (
      SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = 'route_notes_schema' AND n.nspname = current_schema()
    ) AS present`;
  if (!present) return 0;
  const [row] = await sql`SELECT version FROM route_notes_schema`;
  return row === undefined ? 0 : Number(row.version);
}

function checkNotNewer(version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `the notes schema there is version ${version}, newer than this server knows ` +
        `(${SCHEMA_VERSION}); run a newer server`,
    );
  }
}

/**
 * Creates the schema or brings it up to {@linkcode SCHEMA_VERSION}, in one
 * transaction. A schema already up to date costs two queries and no lock,
 * and needs no right to create tables.
 */
async function migrate(sql: postgres.Sql): Promise<void> {
  const found = await schemaVersion(sql);
  checkNotNewer(found);
  if (found === SCHEMA_VERSION) return;
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    // Another replica may have migrated while this one waited for the lock.
    const version = await schemaVersion(tx);
    checkNotNewer(version);
    if (version === SCHEMA_VERSION) return;
    await tx`
      CREATE TABLE IF NOT EXISTS route_notes_schema (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        version integer NOT NULL
      )`;
    for (let next = version + 1; next <= SCHEMA_VERSION; next++) {
      await tx.unsafe(MIGRATIONS[next - 1]);
    }
    await tx`
      INSERT INTO route_notes_schema (version) VALUES (${SCHEMA_VERSION})
      ON CONFLICT (singleton) DO UPDATE SET version = excluded.version`;
  });
}

/**
 * Creates a store that keeps notes in the PostgreSQL database at `url`
 * (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`), bounded by `limits`, and
 * resolves once the database is reachable and its notes schema is up to date
 * (created when missing, under a lock, so replicas may start together).
 *
 * Any number of stores, in one process or many, may share a database: each
 * exchange is one transaction that serializes with the others at its
 * location, so exchanges there never miss each other's notes, and the caps
 * hold across all of them. Query parameters of the URL other than `sslmode`
 * (`disable`, the default, `prefer`, `require`, `verify-full`) go to the
 * server as settings, e.g. `?search_path=notes` keeps the tables in the
 * schema `notes`. The PG* environment variables are ignored.
 *
 * Needs `--allow-net` for the server, and nothing more.
 *
 * @throws {RangeError} when a limit or option is out of range.
 * @throws {TypeError} when `url` is not a PostgreSQL URL.
 * @throws {Error} when the server cannot be reached in time, refuses the
 *   connection or the database has a newer schema; the message names the
 *   host, port and database (never the password).
 *
 * @example
 * ```ts ignore
 * import { createPostgresNotesStore } from "./postgres_notes.ts";
 * const store = await createPostgresNotesStore("postgres://routeguide@db.internal/routeguide", {
 *   maxNotesPerLocation: 20,
 * });
 * const here = { latitude: 1, longitude: 2 };
 * await store.exchange({ location: here, message: "first" }); // []
 * await store.exchange({ location: here, message: "second" }); // [the first note]
 * await store.close();
 * ```
 */
export async function createPostgresNotesStore(
  url: string,
  limits: RouteNotesLimits = {},
  options: PostgresNotesOptions = {},
): Promise<RouteNotesStore> {
  const { maxNotesPerLocation: perLocation, maxLocations } = resolveNotesLimits(limits);
  // PL/pgSQL takes them as integer.
  if (perLocation > 2 ** 31 - 1 || maxLocations > 2 ** 31 - 1) {
    throw new RangeError(
      "Cannot create notes store: limits above 2147483647 do not fit PostgreSQL's integer: " +
        `current values are ${perLocation} and ${maxLocations}`,
    );
  }
  const maxConnections = checkPositiveInteger(
    "maxConnections",
    options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  );
  const connectTimeout = checkSeconds(
    "connectTimeoutSeconds",
    options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS,
  );
  const target = parseTarget(url);
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
    connection: {
      application_name: "routeguide",
      // A commit returns before its WAL reaches the disk: a crash of the
      // database server (not of ours) can lose the last fraction of a
      // second of notes, never corrupt them, which is the trade the SQLite
      // store makes too. Measured: RouteChat at new places, 2 notes a round
      // trip, 16 streams: 362–527 → 1,239 round trips/s.
      // `?synchronous_commit=on` in the URL restores the wait.
      synchronous_commit: "off",
      ...target.parameters,
      // What the exchange function's locking relies on (see MIGRATIONS),
      // whatever the database's default.
      default_transaction_isolation: "read committed",
    },
    // Documented by postgres.js but missing from its types.
    socket: sockets.open,
  };
  const sql = withoutEnvironment(() => postgres(settings as postgres.Options<never>));

  // The connect timeout bounds each attempt; this bounds them all, for a
  // server that answers, but not as PostgreSQL does, and then hangs up.
  const startTimeout = 2 * connectTimeout;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const migrated = migrate(sql);
  try {
    await Promise.race([
      migrated,
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
    migrated.catch(() => {});
    sockets.stop();
    await sql.end({ timeout: 0 });
    throw new Error(
      `Cannot open notes store: ${describeFailure(target.where, error, connectTimeout)}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }

  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<unknown>>();

  /** Lets exchanges in flight finish, for up to {@linkcode CLOSE_TIMEOUT_SECONDS}, then ends the pool. */
  async function close(): Promise<void> {
    sockets.stop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled(inFlight),
      new Promise((resolve) => timer = setTimeout(resolve, CLOSE_TIMEOUT_SECONDS * 1000)),
    ]);
    clearTimeout(timer);
    // postgres.js waits for a connection's query to finish before ending it,
    // but a connection that failed mid-query keeps the failed query as its
    // current one (an open bug of postgres.js 3.4): only the timeout ends it.
    // With no exchange left to wait for, a short one does.
    await sql.end({ timeout: END_TIMEOUT_SECONDS });
  }

  return {
    async exchange(note: RouteNote): Promise<RouteNote[]> {
      if (closing) throw new Error("Cannot exchange note: the notes store is closed");
      const { latitude, longitude } = note.location;
      // postgres.js sends the message through JSON.stringify, since the
      // parameter is json, and parses the json that comes back.
      const query =
        sql`SELECT route_notes_exchange(${latitude}, ${longitude}, ${note.message}::json,
        ${perLocation}, ${maxLocations}) AS earlier`.execute();
      inFlight.add(query);
      let rows;
      try {
        rows = await query;
      } catch (error) {
        throw new Error(
          `Cannot exchange note: ${describeFailure(target.where, error, connectTimeout)}`,
          { cause: error },
        );
      } finally {
        inFlight.delete(query);
      }
      const messages: string[] = rows[0].earlier;
      return messages.map((message) => ({ location: { latitude, longitude }, message }));
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}
