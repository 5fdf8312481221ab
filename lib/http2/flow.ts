/**
 * HTTP/2 flow-control windows (RFC 9113 §5.2, §6.9), one small type per
 * direction: {@linkcode OutFlow} for what we may send, {@linkcode InFlow}
 * for what the peer may send us and when to tell it it may send more.
 *
 * @module
 */

import { MAX_WINDOW } from "./frames.ts";

/** The window for bytes we send; the peer widens it with WINDOW_UPDATE. */
export class OutFlow {
  /** Bytes we may send now; negative after the peer shrank the initial window. */
  available: number;

  /** Starts with the peer's initial window. */
  constructor(initial: number) {
    this.available = initial;
  }

  /** Adds a WINDOW_UPDATE increment or a SETTINGS delta; false when the window would pass 2^31 - 1. */
  add(delta: number): boolean {
    if (this.available + delta > MAX_WINDOW) return false;
    this.available += delta;
    return true;
  }

  /** Takes `n` bytes out of the window. */
  take(n: number): void {
    this.available -= n;
  }
}

/**
 * The window for bytes we receive. Bytes count as soon as they arrive and
 * are given back (by WINDOW_UPDATE) once consumed, in batches of at least
 * half the window so a busy connection sends few updates.
 */
export class InFlow {
  /** Bytes the peer may still send. */
  available: number;
  /** Bytes consumed but not given back yet. */
  #unacked = 0;
  readonly #target: number;

  /** Starts with `initial` available; `target` is the window kept open. */
  constructor(initial: number, target = initial) {
    this.available = initial;
    this.#target = target;
  }

  /** Counts received bytes; false when the peer sent more than its window. */
  receive(n: number): boolean {
    if (n > this.available) return false;
    this.available -= n;
    return true;
  }

  /**
   * Marks bytes consumed; returns the increment to send now (never 0), or
   * 0 when it is not worth a frame yet.
   */
  consume(n: number): number {
    this.#unacked += n;
    const shortfall = this.#target - this.available;
    if (shortfall <= 0) {
      this.#unacked = 0;
      return 0;
    }
    if (this.#unacked < this.#target / 2 && this.available >= this.#target / 2) return 0;
    const increment = Math.min(this.#unacked, shortfall);
    this.#unacked = 0;
    if (increment <= 0) return 0;
    this.available += increment;
    return increment;
  }
}
