/**
 * Route notes kept in this process's memory: the store for a single server
 * process.
 *
 * @module
 */

import { MAX_LATITUDE_E7 } from "../core/geo.ts";
import { resolveNotesLimits, type RouteNotesLimits } from "./limits.ts";
import type { RouteNote, RouteNotesStore } from "../core/notes_store.ts";

/** One location's notes and its place in the write order. */
interface Place {
  key: number | string;
  latitude: number;
  longitude: number;
  /** A ring of at most `maxNotesPerLocation` messages; the oldest is at `oldest`. */
  messages: string[];
  oldest: number;
  /** Neighbours in the write order: `older` was written to before this one. */
  older: Place | undefined;
  newer: Place | undefined;
}

/**
 * Creates a store that keeps notes in this process's memory, bounded by
 * `limits`.
 *
 * @example
 * ```ts
 * import { createMemoryNotesStore } from "./memory.ts";
 * import assert from "node:assert/strict";
 * const store = createMemoryNotesStore();
 * const here = { latitude: 1, longitude: 2 };
 * assert.deepEqual(await store.exchange({ location: here, message: "first" }), []);
 * assert.deepEqual(await store.exchange({ location: here, message: "second" }), [
 *   { location: here, message: "first" },
 * ]);
 * ```
 */
export function createMemoryNotesStore(limits: RouteNotesLimits = {}): RouteNotesStore {
  const { maxNotesPerLocation: perLocation, maxLocations } = resolveNotesLimits(limits);
  const keyOf = createLocationKeys();
  const byKey = new Map<number | string, Place>();
  // The write order as a list: a location written to moves to the newest
  // end, and the oldest end is the one to drop. (Moving a Map entry to its
  // end by delete and set instead leaves a deleted entry in the key's hash
  // chain each time, so a busy location made every lookup of its key walk
  // thousands of them: 30 µs a note at 10,000 locations.)
  let oldestPlace: Place | undefined;
  let newestPlace: Place | undefined;

  function unlink(place: Place): void {
    if (place.older === undefined) oldestPlace = place.newer;
    else place.older.newer = place.newer;
    if (place.newer === undefined) newestPlace = place.older;
    else place.newer.older = place.older;
  }
  function linkNewest(place: Place): void {
    place.older = newestPlace;
    place.newer = undefined;
    if (newestPlace === undefined) oldestPlace = place;
    else newestPlace.newer = place;
    newestPlace = place;
  }
  /** A new place for `key`; at the cap, the least recently written one, emptied. */
  function newPlace(key: number | string, latitude: number, longitude: number): Place {
    if (byKey.size < maxLocations) {
      return {
        key,
        latitude,
        longitude,
        messages: [],
        oldest: 0,
        older: undefined,
        newer: undefined,
      };
    }
    const place = oldestPlace!;
    unlink(place);
    byKey.delete(place.key);
    place.key = key;
    place.latitude = latitude;
    place.longitude = longitude;
    place.messages.length = 0;
    place.oldest = 0;
    return place;
  }

  return {
    exchange(note) {
      const { latitude, longitude } = note.location;
      const key = keyOf(latitude, longitude);
      let place = byKey.get(key);
      if (place === undefined) {
        place = newPlace(key, latitude, longitude);
        byKey.set(key, place);
        place.messages.push(note.message);
        linkNewest(place);
        return Promise.resolve([]);
      }
      const earlier = notesOf(place);
      const { messages } = place;
      if (messages.length < perLocation) {
        messages.push(note.message);
      } else {
        messages[place.oldest] = note.message;
        place.oldest = place.oldest + 1 === perLocation ? 0 : place.oldest + 1;
      }
      if (place !== newestPlace) {
        unlink(place);
        linkNewest(place);
      }
      return Promise.resolve(earlier);
    },
    close() {
      byKey.clear();
      oldestPlace = newestPlace = undefined;
      return Promise.resolve();
    },
  };
}

/** Copies of the notes at `place`, oldest first. */
function notesOf(place: Place): RouteNote[] {
  const { messages, oldest, latitude, longitude } = place;
  const notes = new Array<RouteNote>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const at = oldest + i < messages.length ? oldest + i : oldest + i - messages.length;
    notes[i] = { location: { latitude, longitude }, message: messages[at] };
  }
  return notes;
}

/**
 * Returns a function that gives each location a Map key, equal for equal
 * locations only (as `${latitude},${longitude}` would, with -0 as 0). A
 * location with an integer latitude within ±90° and an int32 longitude, as
 * every valid one is, gets a number without building a string: the 64 bits
 * of a double whose high half is the latitude offset by 2^30 (so always a
 * normal, positive double, never NaN) and whose low half is the longitude.
 */
function createLocationKeys(): (latitude: number, longitude: number) => number | string {
  const bits = new DataView(new ArrayBuffer(8));
  return (latitude, longitude) => {
    if (
      (latitude | 0) !== latitude || (longitude | 0) !== longitude ||
      latitude < -MAX_LATITUDE_E7 || latitude > MAX_LATITUDE_E7
    ) {
      return `${latitude},${longitude}`;
    }
    bits.setInt32(0, latitude + 2 ** 30);
    bits.setInt32(4, longitude);
    return bits.getFloat64(0);
  };
}
