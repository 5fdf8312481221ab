/**
 * One place among the supervisor's N workers: the process now in it, when
 * it started, the deaths in a row before it, a pending restart, and the
 * signals held until the process is ready. A slot gets a new
 * {@linkcode WorkerSlot} for each process started in it.
 *
 * @module
 */

import { HeldSignals } from "./worker_readiness.ts";

/** How a worker process ended. */
export interface WorkerExit {
  /** Exit code (128 + the signal number when a signal ended it). */
  code: number;
  /** The signal that ended it, if one did. */
  signal: Deno.Signal | null;
}

/** One running worker process, as the supervisor sees it. */
export interface WorkerProcess {
  /** Its process id. */
  readonly pid: number;
  /** Lines it writes to stdout (its ready line among them); ends when it exits. */
  readonly lines: AsyncIterable<string>;
  /** Settles when it exits. */
  readonly status: Promise<WorkerExit>;
  /** Sends it a signal; does nothing once it has exited. */
  kill(signal: Deno.Signal): void;
}

/** Says how a worker ended, for a log line: "exited with code 1", "was killed by SIGKILL". */
export function describeExit(exit: WorkerExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/** Options for {@linkcode WorkerSlot}. */
export interface WorkerSlotOptions {
  /** When the process started, in the supervisor's clock. */
  startedAt: number;
  /** Deaths in a row in this slot before this process. */
  deathsInARow: number;
}

/** Slot `index` of the supervisor with the process just started in it. */
export class WorkerSlot {
  /** The slot's number, 1 to N. */
  readonly index: number;
  /** The process in the slot. */
  readonly process: WorkerProcess;
  /** When the process started. */
  readonly startedAt: number;
  /** Deaths in a row in this slot before this process. */
  readonly deathsInARow: number;
  /** A pending restart, cancelled by stop(). */
  restartTimer?: ReturnType<typeof setTimeout>;
  /** Settles when the slot's current process exits (or at once, between processes). */
  exited: Promise<WorkerExit | undefined>;
  readonly #signals: HeldSignals;

  /** Slot `index`, now running `process`. */
  constructor(index: number, process: WorkerProcess, options: WorkerSlotOptions) {
    this.index = index;
    this.process = process;
    this.startedAt = options.startedAt;
    this.deathsInARow = options.deathsInARow;
    this.exited = process.status;
    this.#signals = new HeldSignals(process);
  }

  /** Whether the process printed its ready line. */
  get ready(): boolean {
    return this.#signals.ready;
  }

  /** Marks the process ready and sends it the signals held for it. */
  markReady(): void {
    this.#signals.markReady();
  }

  /** Sends the process a signal, held until it is ready. */
  signal(signal: Deno.Signal): void {
    this.#signals.send(signal);
  }

  /** The process died and a restart is pending: nothing to wait for at stop. */
  vacate(): void {
    this.exited = Promise.resolve(undefined);
  }
}
