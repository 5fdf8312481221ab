/**
 * The PostgreSQL notes store's schema: the tables, the exchange function
 * `route_notes_exchange()` that runs each exchange as one transaction, and
 * the migration that creates them or brings them up to date.
 *
 * @module
 */

import type postgres from "postgres";

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
export const SCHEMA_VERSION: number = MIGRATIONS.length;

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
export async function migrate(sql: postgres.Sql): Promise<void> {
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
