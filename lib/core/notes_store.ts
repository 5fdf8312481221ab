/**
 * What the RouteGuide handlers need from a notes store: the note and the
 * store's interface. Pure types; the stores (memory, SQLite, PostgreSQL)
 * implement them elsewhere, so that one shared by several processes can
 * replace the in-memory one without touching the service.
 *
 * @module
 */

import type { E7Point } from "./geo.ts";

/** A message left at a location, shaped like the protobuf `RouteNote`. */
export interface RouteNote {
  /** Where the note was left. */
  location: E7Point;
  /** The text of the note. */
  message: string;
}

/** Where notes live between RouteChat calls. */
export interface RouteNotesStore {
  /**
   * Returns every note stored at the note's location, oldest first, and
   * then stores the note, as one atomic step: two concurrent calls at one
   * location never both miss each other's note.
   */
  exchange(note: RouteNote): Promise<RouteNote[]>;
  /** Releases what the store holds open. */
  close(): Promise<void>;
}
