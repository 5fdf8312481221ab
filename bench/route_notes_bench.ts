/** The in-memory notes store at its location cap, as a RouteChat load keeps it: `deno task bench`. */

import { createMemoryNotesStore } from "../lib/route_notes.ts";

const store = createMemoryNotesStore();
let i = 0;
// Fill it to the cap (10,000 locations) first.
for (; i < 20_000; i++) {
  await store.exchange({ location: { latitude: i, longitude: 1 }, message: "A" });
}

Deno.bench(
  "exchange a note at a new location, store at its location cap (evicts one)",
  async () => {
    await store.exchange({ location: { latitude: i++, longitude: 1 }, message: "A" });
  },
);

Deno.bench("exchange a note at a location with notes", async () => {
  await store.exchange({ location: { latitude: i - 1, longitude: 1 }, message: "B" });
});
