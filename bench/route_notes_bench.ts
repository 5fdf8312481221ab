/**
 * What one RouteChat note costs in each notes store, at its location cap as
 * a long RouteChat load keeps it: `deno task bench`. The PostgreSQL store is
 * measured when `ROUTEGUIDE_BENCH_POSTGRES` holds a URL of a database it may
 * fill (e.g. one started by `tests/_postgres.ts`).
 *
 * @module
 */

import type { RouteNotesStore } from "../lib/core/notes_store.ts";
import { createMemoryNotesStore } from "../lib/notes/memory.ts";
import { createSqliteNotesStore } from "../lib/notes/sqlite.ts";

const dir = Deno.makeTempDirSync({ prefix: "route_notes_bench_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const stores: [string, RouteNotesStore][] = [
  ["memory", createMemoryNotesStore()],
  ["sqlite", await createSqliteNotesStore(`${dir}/notes.db`)],
];
const postgresUrl = Deno.env.get("ROUTEGUIDE_BENCH_POSTGRES");
if (postgresUrl !== undefined) {
  const { createPostgresNotesStore } = await import("../lib/notes/postgres.ts");
  stores.push(["postgres", await createPostgresNotesStore(postgresUrl)]);
}

for (const [name, store] of stores) {
  let i = 0;
  // Fill it past the cap (10,000 locations) first.
  for (; i < 12_000; i++) {
    await store.exchange({ location: { latitude: i, longitude: 1 }, message: "A" });
  }
  Deno.bench({
    name: `${name}: a note at a new location, at the location cap (evicts one)`,
    group: "new location",
    baseline: name === "memory",
    async fn() {
      await store.exchange({ location: { latitude: i++, longitude: 1 }, message: "A" });
    },
  });
  Deno.bench({
    name: `${name}: a note where there are notes (50 come back, the oldest is dropped)`,
    group: "busy location",
    baseline: name === "memory",
    async fn() {
      await store.exchange({ location: { latitude: -1, longitude: 1 }, message: "B" });
    },
  });
}
