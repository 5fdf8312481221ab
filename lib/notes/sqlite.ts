/**
 * A route-notes store kept in an SQLite file through Deno's built-in
 * `node:sqlite`, so that several server processes can share one set of notes.
 * Opening the file is `lib/notes/sqlite_file.ts`'s; here are the exchange and
 * the queue that batches exchanges into transactions.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { resolveNotesLimits, type RouteNotesLimits } from "./limits.ts";
import type { RouteNote, RouteNotesStore } from "../core/notes_store.ts";
import { BUSY_TIMEOUT_MS, openDatabase, type Statements, whenFree } from "./sqlite_file.ts";

/** Most exchanges in one transaction, which bounds how long a worker holds the file's lock. */
const MAX_BATCH = 64;
/** What exchanges get once the store is closed. */
const CLOSED = "Cannot exchange note: the notes store is closed";

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
 * import { createSqliteNotesStore } from "./sqlite.ts";
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
  const caps = resolveNotesLimits(limits);
  const { database, statements } = await openDatabase(path);
  const exchange = createBatchQueue(database, {
    statements,
    exchangeOne: (note) => exchangeInTransaction(statements, caps, note),
  });
  return {
    exchange,
    close() {
      if (database.isOpen) database.close();
      return Promise.resolve();
    },
  };
}

/** Makes room for one more location by dropping the ones written to least recently. */
function evictLocations(statements: Statements, maxLocations: number): void {
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
function exchangeInTransaction(
  statements: Statements,
  limits: Required<RouteNotesLimits>,
  note: RouteNote,
): RouteNote[] {
  const { latitude, longitude } = note.location;
  const row = statements.earlier.get(latitude, longitude);
  const count = Number(row?.count);
  if (count === 0 && statements.isKnown.get(latitude, longitude) === undefined) {
    evictLocations(statements, limits.maxLocations);
    statements.addLocations.run(1);
  }
  const { lastInsertRowid } = statements.insert.run(latitude, longitude, note.message);
  statements.touch.run(latitude, longitude, lastInsertRowid);
  const perLocation = limits.maxNotesPerLocation;
  if (count + 1 > perLocation) statements.dropOldest.run(latitude, longitude, perLocation);
  const messages: string[] = JSON.parse(String(row?.messages));
  return messages.map((message) => ({ location: { latitude, longitude }, message }));
}

/** What {@linkcode createBatchQueue} runs exchanges with. */
interface BatchQueueOptions {
  /** The statements, for the transaction's begin, commit and rollback. */
  statements: Statements;
  /** One exchange inside the open transaction. */
  exchangeOne(note: RouteNote): RouteNote[];
}

/** An exchange waiting for its transaction. */
interface Waiting {
  note: RouteNote;
  resolve(notes: RouteNote[]): void;
  reject(e: unknown): void;
}

/**
 * The exchange function of the store: exchanges wait here for the next
 * transaction. Several that arrive together (one per RouteChat stream, under
 * load) share one transaction: one lock taken, one commit, where a
 * transaction each made two workers hand the file's lock back and forth for
 * every note.
 */
function createBatchQueue(
  database: DatabaseSync,
  options: BatchQueueOptions,
): (note: RouteNote) => Promise<RouteNote[]> {
  const { statements, exchangeOne } = options;
  const waiting: Waiting[] = [];
  let running = false;

  /** Takes the file's write lock, unless the store was closed meanwhile. */
  function beginIfOpen(): boolean {
    if (!database.isOpen) return false;
    statements.begin.run();
    return true;
  }

  /** Runs one batch in one transaction; fails the whole batch (and says so) when it fails. */
  function runBatch(batch: Waiting[]): boolean {
    const results: RouteNote[][] = [];
    try {
      for (const w of batch) results.push(exchangeOne(w.note));
      statements.commit.run();
    } catch (error) {
      if (database.isTransaction) statements.rollback.run();
      for (const w of batch) w.reject(error);
      return false;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
    return true;
  }

  /**
   * Runs the waiting exchanges, in arrival order, a batch per transaction,
   * until none wait. While another process holds the write lock it waits
   * for it without blocking the event loop (which lets a larger batch
   * gather), for up to 5 seconds before failing the oldest.
   */
  async function runWaiting(): Promise<void> {
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
      if (!runBatch(waiting.splice(0, MAX_BATCH))) continue;
      // Let the replies go out and more exchanges arrive before the next batch.
      if (waiting.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    running = false;
  }

  return (note) => {
    if (!database.isOpen) {
      return Promise.reject(new Error(CLOSED));
    }
    return new Promise((resolve, reject) => {
      waiting.push({ note, resolve, reject });
      if (!running) {
        running = true;
        // After the current turn, so that exchanges arriving with this one join it.
        setImmediate(() => runWaiting());
      }
    });
  };
}
