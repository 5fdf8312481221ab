/**
 * A route-notes store kept in PostgreSQL through postgres.js, so that server
 * processes on many machines can share one set of notes.
 *
 * An exchange is one call of the SQL function `route_notes_exchange()`, which
 * the store installs: one round trip, one transaction, with the caps enforced
 * inside it. Connecting is `lib/notes/postgres_connection.ts`'s and the schema
 * `lib/notes/postgres_schema.ts`'s; here are the options, the exchange and closing.
 *
 * @module
 */

import {
  describeFailure,
  openPool,
  parseTarget,
  type Pool,
  startPool,
} from "./postgres_connection.ts";
import { migrate } from "./postgres_schema.ts";
import { checkPositiveInteger, resolveNotesLimits, type RouteNotesLimits } from "./limits.ts";
import type { RouteNote, RouteNotesStore } from "../core/notes_store.ts";

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

function checkSeconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Cannot create notes store: ${name} must be a positive number: current value is ${value}`,
    );
  }
  return value;
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
 * import { createPostgresNotesStore } from "./postgres.ts";
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
  const caps = resolveIntegerLimits(limits);
  const maxConnections = checkPositiveInteger(
    "maxConnections",
    options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  );
  const connectTimeout = checkSeconds(
    "connectTimeoutSeconds",
    options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS,
  );
  const pool = openPool(parseTarget(url), { maxConnections, connectTimeout });
  await startPool(pool, migrate);
  return storeOnPool(pool, caps);
}

/** The limits with their defaults, checked to fit PL/pgSQL's integer, which takes them. */
function resolveIntegerLimits(limits: RouteNotesLimits): Required<RouteNotesLimits> {
  const resolved = resolveNotesLimits(limits);
  const { maxNotesPerLocation: perLocation, maxLocations } = resolved;
  if (perLocation > 2 ** 31 - 1 || maxLocations > 2 ** 31 - 1) {
    throw new RangeError(
      "Cannot create notes store: limits above 2147483647 do not fit PostgreSQL's integer: " +
        `current values are ${perLocation} and ${maxLocations}`,
    );
  }
  return resolved;
}

/** The store's exchange and close over a pool whose schema is up to date. */
function storeOnPool(pool: Pool, limits: Required<RouteNotesLimits>): RouteNotesStore {
  const { sql, sockets, target, connectTimeout } = pool;
  const { maxNotesPerLocation: perLocation, maxLocations } = limits;
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
