/**
 * Connections the server closed before they were served (at the cap,
 * silent too long, failed TLS handshake), logged as one summary line with
 * counts at most once an interval: a flood of them must be visible without
 * flooding the log.
 *
 * @module
 */

import type { Logger } from "./telemetry.ts";

/** Why a connection was closed before it was served. */
export type RefusalKind = "cap" | "silent" | "handshake";

/** Options for {@linkcode createRefusalLog}. */
export interface RefusalLogOptions {
  /** Where the summary lines go (at `warn`). */
  logger: Logger;
  /** The cap on open connections, named in the line. */
  maxConnections: number;
  /** The silent-connection deadline in milliseconds, named in the line. */
  silentMs: number;
  /**
   * Milliseconds between summary lines at most.
   * @default {1000}
   */
  intervalMs?: number;
  /**
   * Calls `fn` after `ms`; returns a way to cancel it.
   * @default {setTimeout}
   */
  schedule?: (fn: () => void, ms: number) => () => void;
}

/** Counts refused connections and logs them in summary lines. */
export interface RefusalLog {
  /** Counts one refused connection; a line follows within the interval. */
  count(kind: RefusalKind): void;
  /** Writes what is counted now and stops the timer (at shutdown). */
  close(): void;
}

function defaultSchedule(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
}

/** The summary, e.g. `12 at the cap (--max-connections 50), 3 silent for 10 s`. */
function summary(counts: Record<RefusalKind, number>, options: RefusalLogOptions): string {
  const parts: string[] = [];
  if (counts.cap > 0) {
    parts.push(`${counts.cap} at the cap (--max-connections ${options.maxConnections})`);
  }
  if (counts.silent > 0) parts.push(`${counts.silent} silent for ${options.silentMs / 1000} s`);
  if (counts.handshake > 0) parts.push(`${counts.handshake} failed TLS handshakes`);
  return `connections refused: ${parts.join(", ")}`;
}

/**
 * Creates the refusal log: the first refusal starts the interval, and its
 * end writes one line with everything counted meanwhile.
 *
 * @example
 * ```ts
 * import { createRefusalLog } from "./refusals.ts";
 * import { createLogger } from "./telemetry.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const fire: (() => void)[] = [];
 * const log = createRefusalLog({
 *   logger: createLogger({ write: (l) => lines.push(l), now: () => new Date(0) }),
 *   maxConnections: 50,
 *   silentMs: 10_000,
 *   schedule: (fn) => (fire.push(fn), () => {}),
 * });
 * log.count("cap");
 * log.count("silent");
 * fire[0]();
 * assert.equal(
 *   lines[0],
 *   "1970-01-01T00:00:00.000Z WARN   connections refused: 1 at the cap (--max-connections 50), " +
 *     "1 silent for 10 s at_cap=1 silent=1 failed_handshakes=0",
 * );
 * ```
 */
export function createRefusalLog(options: RefusalLogOptions): RefusalLog {
  const intervalMs = options.intervalMs ?? 1000;
  const schedule = options.schedule ?? defaultSchedule;
  let counts: Record<RefusalKind, number> = { cap: 0, silent: 0, handshake: 0 };
  let cancel: (() => void) | undefined;
  const flush = () => {
    cancel = undefined;
    if (counts.cap + counts.silent + counts.handshake === 0) return;
    options.logger.log("warn", summary(counts, options), {
      at_cap: counts.cap,
      silent: counts.silent,
      failed_handshakes: counts.handshake,
    });
    counts = { cap: 0, silent: 0, handshake: 0 };
  };
  return {
    count(kind) {
      counts[kind]++;
      cancel ??= schedule(flush, intervalMs);
    },
    close() {
      cancel?.();
      flush();
    },
  };
}
