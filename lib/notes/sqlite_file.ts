/**
 * Opening the SQLite notes store's file: WAL mode, the notes tables and the
 * prepared statements, with every wait for another process's lock spent
 * without blocking the event loop.
 *
 * @module
 */

import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";

/** How long a process waits for another one's write lock before failing, in milliseconds. */
export const BUSY_TIMEOUT_MS = 5_000;
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

/** Prepares every statement the store runs. */
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

/** The store's prepared statements, by name. */
export type Statements = ReturnType<typeof prepare>;

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
export async function whenFree<T>(step: () => T, deadline: number): Promise<T> {
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
export async function openDatabase(
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
