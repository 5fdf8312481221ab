/**
 * When the supervisor starts a dead worker again: an exponential back-off
 * over the deaths in a row, reset by a worker that stayed up long enough.
 * Pure: no timers, no processes.
 *
 * @module
 */

/** Options for {@linkcode RestartPolicy}. */
export interface RestartPolicyOptions {
  /**
   * Wait before the first restart of a worker that died; doubled for each
   * further death in a row, up to `maxRestartDelayMs`.
   * @default {100}
   */
  restartDelayMs?: number;
  /**
   * Longest wait between restarts.
   * @default {30000}
   */
  maxRestartDelayMs?: number;
  /**
   * A worker that stayed up this long starts again from `restartDelayMs`
   * when it dies.
   * @default {60000}
   */
  stableMs?: number;
}

/**
 * The back-off of restarts.
 *
 * @example
 * ```ts
 * import { RestartPolicy } from "./restart_policy.ts";
 * import assert from "node:assert/strict";
 * const policy = new RestartPolicy({ restartDelayMs: 100, maxRestartDelayMs: 1000 });
 * assert.deepEqual([1, 2, 3, 4, 5].map((n) => policy.delayMs(n)), [100, 200, 400, 800, 1000]);
 * ```
 */
export class RestartPolicy {
  readonly #firstDelay: number;
  readonly #maxDelay: number;
  readonly #stableMs: number;

  /** A policy with the delays of `options`. */
  constructor(options: RestartPolicyOptions = {}) {
    this.#firstDelay = options.restartDelayMs ?? 100;
    this.#maxDelay = options.maxRestartDelayMs ?? 30_000;
    this.#stableMs = options.stableMs ?? 60_000;
  }

  /**
   * Deaths in a row once a worker died after `upMs` up, when `before` deaths
   * in a row came before its start: a worker that stayed up long enough
   * starts the count again.
   */
  deathsInARow(upMs: number, before: number): number {
    return upMs >= this.#stableMs ? 1 : before + 1;
  }

  /** Milliseconds to wait before starting a worker again after `deathsInARow` deaths. */
  delayMs(deathsInARow: number): number {
    return Math.min(this.#maxDelay, this.#firstDelay * 2 ** (deathsInARow - 1));
  }
}
