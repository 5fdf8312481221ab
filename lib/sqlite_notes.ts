/**
 * A route-notes store kept in an SQLite file through Deno's built-in
 * `node:sqlite`, so that several server processes can share one set of notes.
 *
 * @module
 */

import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import {
  resolveNotesLimits,
  type RouteNote,
  type RouteNotesLimits,
  type RouteNotesStore,
} from "./route_notes.ts";

/** How long a process waits for another one's write lock before failing, in milliseconds. */
const BUSY_TIMEOUT_MS = 5_000;
/** Most exchanges in one transaction, which bounds how long a worker holds the file's lock. */
const MAX_BATCH = 64;
/** What exchanges get once the store is closed. */
const CLOSED = "Cannot exchange note: the notes store is closed";
/** SQLite's primary result code for a lock held by another connection. */
const SQLITE_BUSY = 5;

// A location's `last_write` is the id of the latest note written there: ids
// grow across every process sharing the file (AUTOINCREMENT never reuses
// one), so they double as the write sequence for the location cap.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS route_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    latitude INTEGER NOT NULL,
    longitude INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS route_notes_by_location ON route_notes (latitude, longitude, id);
  CREATE TABLE IF NOT EXISTS route_note_locations (
    latitude INTEGER NOT NULL,
    longitude INTEGER NOT NULL,
    last_write INTEGER NOT NULL,
    PRIMARY KEY (latitude, longitude)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS route_note_locations_by_last_write
    ON route_note_locations (last_write);
  CREATE TABLE IF NOT EXISTS route_note_location_count (
    only INTEGER PRIMARY KEY CHECK (only = 0),
    count INTEGER NOT NULL
  );
  INSERT OR IGNORE INTO route_note_location_count (only, count)
    SELECT 0, count(*) FROM route_note_locations;
`;

type PathKind = "directory" | "file" | "missing" | "unknown";

function pathKind(path: string): PathKind {
  try {
    return Deno.statSync(path).isDirectory ? "directory" : "file";
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? "missing" : "unknown";
  }
}

/** Says why `path` could not be opened, in more words than SQLite's "unable to open database file". */
function openProblem(path: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  if (isBusy(error)) {
    return `${reason}: another process held it for more than ${BUSY_TIMEOUT_MS / 1000} s`;
  }
  // A missing permission is the whole story; stat would only trip over it too.
  if (error instanceof Deno.errors.NotCapable) {
    return `${reason.replace(/, run again with .*$/, "")}: run with --allow-write=${path}`;
  }
  const dir = dirname(path);
  switch (pathKind(dir)) {
    case "missing":
      return `its directory ${JSON.stringify(dir)} does not exist (${reason})`;
    case "file":
      return `${JSON.stringify(dir)} is not a directory (${reason})`;
  }
  if (pathKind(path) === "directory") return `it is a directory (${reason})`;
  return reason;
}

function prepare(db: DatabaseSync) {
  const statements = {
    begin: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
    // One JSON array instead of a row per note: node:sqlite builds rows
    // slowly (50 rows cost ~50 µs, the array ~15 µs), and this Deno's
    // node:sqlite cuts TEXT results at the first U+0000, which JSON escapes.
    earlier: db.prepare(
      "SELECT count(*) AS count, json_group_array(message ORDER BY id) AS messages " +
        "FROM route_notes WHERE latitude = ? AND longitude = ?",
    ),
    insert: db.prepare("INSERT INTO route_notes (latitude, longitude, message) VALUES (?, ?, ?)"),
    // Keeps the newest `?3` notes at the location.
    dropOldest: db.prepare(
      "DELETE FROM route_notes WHERE latitude = ?1 AND longitude = ?2 AND id <= (" +
        "SELECT id FROM route_notes WHERE latitude = ?1 AND longitude = ?2 " +
        "ORDER BY id DESC LIMIT 1 OFFSET ?3)",
    ),
    touch: db.prepare(
      "INSERT INTO route_note_locations (latitude, longitude, last_write) VALUES (?, ?, ?) " +
        "ON CONFLICT (latitude, longitude) DO UPDATE SET last_write = excluded.last_write",
    ),
    isKnown: db.prepare("SELECT 1 FROM route_note_locations WHERE latitude = ? AND longitude = ?"),
    locationCount: db.prepare("SELECT count FROM route_note_location_count"),
    addLocations: db.prepare("UPDATE route_note_location_count SET count = count + ?"),
    leastRecent: db.prepare(
      "SELECT latitude, longitude FROM route_note_locations ORDER BY last_write LIMIT ?",
    ),
    forgetLocation: db.prepare(
      "DELETE FROM route_note_locations WHERE latitude = ? AND longitude = ?",
    ),
    dropLocation: db.prepare("DELETE FROM route_notes WHERE latitude = ? AND longitude = ?"),
  } satisfies Record<string, StatementSync>;
  return statements;
}

type Statements = ReturnType<typeof prepare>;

/**
 * Whether `error` is SQLite's "database is locked". Only errors from prepared
 * statements say so: this Deno's `DatabaseSync.exec()` drops SQLite's result
 * code, so every step that may meet another connection's lock is prepared.
 */
function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  // Extended codes (SQLITE_BUSY_RECOVERY, ...) keep the primary one in the low byte.
  return typeof code === "number" && (code & 0xff) === SQLITE_BUSY;
}

/**
 * Runs `step` until it stops failing for another connection's lock, and
 * gives up with SQLite's error once `deadline` (a `Date.now()` time) has
 * passed. Between tries it yields to the event loop: the first few times
 * with `setImmediate`, which comes back after pending I/O without the 4 ms
 * clamp of nested timers, then every millisecond, which spends less CPU
 * spinning. SQLite's own busy handler would instead sleep the whole process,
 * event loop included, and it is not even called where waiting could
 * deadlock: a connection that read the file and now needs to write it (as
 * `PRAGMA journal_mode = WAL` does on a new file) gets "database is locked"
 * at once while another holds the write lock.
 */
async function whenFree<T>(step: () => T, deadline: number): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return step();
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => attempt < 5 ? setImmediate(resolve) : setTimeout(resolve, 1));
    }
  }
}

/** The journal mode SQLite reports after running `pragma` (`PRAGMA journal_mode...`). */
function journalMode(db: DatabaseSync, pragma: string): string {
  return String(db.prepare(pragma).get()?.journal_mode);
}

/** Fails unless `mode` is WAL, which sharing the file between processes needs. */
function assertWal(mode: string): void {
  if (mode !== "wal") {
    throw new Error(`it cannot be put in WAL mode: its journal mode stays ${JSON.stringify(mode)}`);
  }
}

/**
 * Opens the file, in WAL mode and with the notes tables, and prepares the
 * statements; waits, without blocking the event loop, for up to 5 s in all
 * while other processes hold the file's lock (another one may be creating
 * the same new file right now).
 */
async function openDatabase(
  path: string,
): Promise<{ database: DatabaseSync; statements: Statements }> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    const database = db;
    // Every wait for a lock is whenFree's: a busy lock fails at once.
    database.exec("PRAGMA busy_timeout = 0");
    assertWal(await whenFree(() => journalMode(database, "PRAGMA journal_mode = WAL"), deadline));
    // In WAL mode NORMAL still survives a crash of the process; only an OS
    // crash or power loss can lose the last few commits, which notes can
    // afford, and it saves an fsync per exchange.
    database.exec("PRAGMA synchronous = NORMAL");
    // The write lock first: a transaction that reads the schema and then
    // writes it could not wait for the lock once it has read.
    await whenFree(() => database.prepare("BEGIN IMMEDIATE").run(), deadline);
    database.exec(SCHEMA);
    // Read back under the lock, where no other process can change it.
    assertWal(journalMode(database, "PRAGMA journal_mode"));
    const statements = prepare(database);
    database.exec("COMMIT");
    return { database, statements };
  } catch (error) {
    if (db?.isOpen) {
      if (db.isTransaction) db.exec("ROLLBACK");
      db.close();
    }
    throw new Error(
      `Cannot open notes store at ${JSON.stringify(path)}: ${openProblem(path, error)}`,
      { cause: error },
    );
  }
}

/**
 * Opens a store that keeps notes in the SQLite file at `path` (created
 * with its tables when missing), bounded by `limits`. Several stores, in one
 * process or many, may share a file: it is opened in WAL mode and each
 * exchange runs in a `BEGIN IMMEDIATE` transaction, so exchanges at one
 * location never miss each other's notes. Exchanges that arrive together
 * share one transaction, in arrival order (up to 64; measured: RouteChat at
 * new places 2.9–3.1k → 4.8–5.3k round trips/s with one worker, 2.3–2.5k →
 * 3.2–3.8k with two sharing the file). A transaction runs synchronously; while
 * another process holds the write lock, exchanges wait for it without
 * blocking the event loop, for up to 5 seconds before failing. Opening waits
 * the same way while other processes hold the file's lock or are opening the
 * same new file.
 *
 * Needs `--allow-read`, and `--allow-write` for the file alone (SQLite makes
 * its `-wal` and `-shm` files beside it past Deno's checks).
 *
 * @throws {RangeError} when a limit is not a positive integer.
 * @throws {Error} when the file cannot be opened, is not a notes database,
 *   cannot be put in WAL mode (`:memory:`, say) or stays locked for 5 s;
 *   the message names the path.
 *
 * @example
 * ```ts
 * import { createSqliteNotesStore } from "./sqlite_notes.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".db" });
 * try {
 *   const store = await createSqliteNotesStore(path, { maxNotesPerLocation: 2 });
 *   const here = { latitude: 1, longitude: 2 };
 *   assert.deepEqual(await store.exchange({ location: here, message: "first" }), []);
 *   await store.exchange({ location: here, message: "second" });
 *   assert.deepEqual(await store.exchange({ location: here, message: "third" }), [
 *     { location: here, message: "first" },
 *     { location: here, message: "second" },
 *   ]);
 *   await store.close();
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function createSqliteNotesStore(
  path: string,
  limits: RouteNotesLimits = {},
): Promise<RouteNotesStore> {
  const { maxNotesPerLocation: perLocation, maxLocations } = resolveNotesLimits(limits);

  const { database, statements } = await openDatabase(path);

  /** Makes room for one more location by dropping the ones written to least recently. */
  function evictLocations(): void {
    const count = Number(statements.locationCount.get()?.count);
    // More than one goes when another process sharing the file has a larger cap.
    const excess = count - maxLocations + 1;
    if (excess <= 0) return;
    const victims = statements.leastRecent.all(excess);
    for (const { latitude, longitude } of victims) {
      statements.dropLocation.run(latitude, longitude);
      statements.forgetLocation.run(latitude, longitude);
    }
    statements.addLocations.run(-victims.length);
  }

  /** One exchange, inside the caller's transaction. */
  function exchangeInTransaction(note: RouteNote): RouteNote[] {
    const { latitude, longitude } = note.location;
    const row = statements.earlier.get(latitude, longitude);
    const count = Number(row?.count);
    if (count === 0 && statements.isKnown.get(latitude, longitude) === undefined) {
      evictLocations();
      statements.addLocations.run(1);
    }
    const { lastInsertRowid } = statements.insert.run(latitude, longitude, note.message);
    statements.touch.run(latitude, longitude, lastInsertRowid);
    if (count + 1 > perLocation) statements.dropOldest.run(latitude, longitude, perLocation);
    const messages: string[] = JSON.parse(String(row?.messages));
    return messages.map((message) => ({ location: { latitude, longitude }, message }));
  }

  // Exchanges wait here for the next transaction. Several that arrive
  // together (one per RouteChat stream, under load) share one transaction:
  // one lock taken, one commit, where a transaction each made two workers
  // hand the file's lock back and forth for every note.
  const waiting: {
    note: RouteNote;
    resolve(notes: RouteNote[]): void;
    reject(e: unknown): void;
  }[] = [];
  let draining = false;

  /** Takes the file's write lock, unless the store was closed meanwhile. */
  function beginIfOpen(): boolean {
    if (!database.isOpen) return false;
    statements.begin.run();
    return true;
  }

  /**
   * Runs the waiting exchanges, in arrival order, a batch per transaction,
   * until none wait. While another process holds the write lock it waits
   * for it without blocking the event loop (which lets a larger batch
   * gather), for up to 5 seconds before failing the oldest.
   */
  async function drain(): Promise<void> {
    while (waiting.length > 0) {
      try {
        if (!await whenFree(beginIfOpen, Date.now() + BUSY_TIMEOUT_MS)) {
          const error = new Error(CLOSED);
          for (const w of waiting.splice(0)) w.reject(error);
          break;
        }
      } catch (error) {
        waiting.shift()?.reject(error);
        continue;
      }
      const batch = waiting.splice(0, MAX_BATCH);
      const results: RouteNote[][] = [];
      try {
        for (const w of batch) results.push(exchangeInTransaction(w.note));
        statements.commit.run();
      } catch (error) {
        if (database.isTransaction) statements.rollback.run();
        for (const w of batch) w.reject(error);
        continue;
      }
      batch.forEach((w, i) => w.resolve(results[i]));
      // Let the replies go out and more exchanges arrive before the next batch.
      if (waiting.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    draining = false;
  }

  function exchangeWhenFree(note: RouteNote): Promise<RouteNote[]> {
    if (!database.isOpen) {
      return Promise.reject(new Error(CLOSED));
    }
    return new Promise((resolve, reject) => {
      waiting.push({ note, resolve, reject });
      if (!draining) {
        draining = true;
        // After the current turn, so that exchanges arriving with this one join it.
        setImmediate(() => drain());
      }
    });
  }

  return {
    exchange: exchangeWhenFree,
    close() {
      if (database.isOpen) database.close();
      return Promise.resolve();
    },
  };
}
