/**
 * `--workers N`: a small supervisor that keeps N server processes running
 * on one port. The kernel spreads new connections across the processes
 * (`SO_REUSEPORT`, the `reusePort` option of `serve()`); the supervisor
 * only starts them, waits for each one's ready line, passes signals on, and
 * starts a worker again when it dies.
 *
 * Processes are reached through {@linkcode WorkerProcess}, so the logic
 * here is tested with fakes and the real spawning lives in
 * {@linkcode spawnWorker}.
 *
 * @module
 */

import type { Logger } from "./telemetry.ts";
import { serverDenoFlags, withoutRunPermission } from "./server_deno_flags.ts";

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

/** What a worker's ready line says. */
export interface WorkerReady {
  /** The address it listens on, as printed. */
  address: string;
  /** Features it serves. */
  features: number;
}

/** Reads a worker's ready line: `listening on HOST:PORT (N features)`. */
export function parseReadyLine(line: string): WorkerReady | undefined {
  const match = line.match(/^listening on (\S+) \((\d+) features\)$/);
  return match === null ? undefined : { address: match[1], features: Number(match[2]) };
}

/** Options for {@linkcode startWorkers}. */
export interface SupervisorOptions {
  /** Worker processes to keep running. */
  workers: number;
  /** Starts worker number `index` (1 to `workers`). */
  start(index: number): WorkerProcess;
  /** Where restarts and exits are logged. */
  logger: Logger;
  /**
   * Writes a line a worker printed that is not its ready line.
   * @default {console.log}
   */
  output?: (line: string) => void;
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
  /**
   * The clock, in milliseconds, that decides how long a worker stayed up.
   * @default {Date.now}
   */
  now?: () => number;
}

/** Workers that all printed their ready line. */
export interface Supervisor {
  /** The ready line of the first worker. */
  readonly ready: WorkerReady;
  /** Workers started again after dying, so far. */
  readonly restarts: number;
  /** Process ids of the workers, the last one started in each slot (maybe dead, awaiting restart). */
  pids(): number[];
  /**
   * Sends a signal to every worker (SIGHUP: reload). A worker still
   * starting gets it once it is ready: before that it may not listen for
   * it yet, and SIGHUP would end it.
   */
  signal(signal: Deno.Signal): void;
  /**
   * Stops restarting, sends `signal` to every worker and waits for them to
   * exit; workers still running after `timeoutMs` are killed. Resolves to
   * whether every worker exited with code 0.
   */
  stop(signal: Deno.Signal, timeoutMs: number): Promise<boolean>;
}

/** Slot of one worker: the process now in it and its restart history. */
interface Slot {
  index: number;
  process: WorkerProcess;
  startedAt: number;
  deathsInARow: number;
  /** A pending restart, cancelled by stop(). */
  restartTimer?: ReturnType<typeof setTimeout>;
  /** Settles when the slot's current process exits (or at once, between processes). */
  exited: Promise<WorkerExit | undefined>;
  /** Whether the current process printed its ready line. */
  ready: boolean;
  /** Signals for the current process, held until it is ready. */
  held: Set<Deno.Signal>;
}

/** Marks a slot's process ready and sends it the signals held for it. */
function markReady(slot: Slot): void {
  slot.ready = true;
  for (const signal of slot.held) slot.process.kill(signal);
  slot.held.clear();
}

function describeExit(exit: WorkerExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/**
 * Waits for a worker's ready line, passing other lines to `output`, and
 * keeps reading its stdout afterwards (so it never blocks on a full pipe).
 * Resolves to `undefined` when the worker exits without one.
 */
function readReady(
  worker: WorkerProcess,
  output: (line: string) => void,
): Promise<WorkerReady | undefined> {
  return new Promise((resolve) => {
    (async () => {
      let ready = false;
      for await (const line of worker.lines) {
        const parsed = ready ? undefined : parseReadyLine(line);
        if (parsed !== undefined) {
          ready = true;
          resolve(parsed);
        } else {
          output(line);
        }
      }
      resolve(undefined);
    })().catch(() => resolve(undefined));
  });
}

/**
 * Starts `options.workers` workers and resolves once each printed its ready
 * line. A worker that dies before that fails the start: the others are
 * killed and the promise rejects, saying which one died and how (its own
 * error is on its stderr). Afterwards, a worker that dies is started again
 * after a back-off delay, each restart logged.
 */
export async function startWorkers(options: SupervisorOptions): Promise<Supervisor> {
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new RangeError(
      `Cannot start workers: workers must be a positive integer: current value is ${options.workers}`,
    );
  }
  const { logger } = options;
  const output = options.output ?? ((line: string) => console.log(line));
  const firstDelay = options.restartDelayMs ?? 100;
  const maxDelay = options.maxRestartDelayMs ?? 30_000;
  const stableMs = options.stableMs ?? 60_000;
  const now = options.now ?? Date.now;
  const slots: Slot[] = [];
  let stopping = false;
  let restarts = 0;

  const launch = (slot: Pick<Slot, "index" | "deathsInARow">): Slot => {
    const process = options.start(slot.index);
    const started: Slot = {
      ...slot,
      process,
      startedAt: now(),
      exited: process.status,
      ready: false,
      held: new Set(),
    };
    slots[slot.index - 1] = started;
    return started;
  };

  const delayFor = (deathsInARow: number) =>
    Math.min(maxDelay, firstDelay * 2 ** (deathsInARow - 1));

  // Starts the worker of `slot` again after `wait` ms; a spawn that fails
  // (EAGAIN, deno gone) counts as one more death and is tried again later.
  const scheduleRestart = (slot: Slot, deathsInARow: number, wait: number) => {
    slot.restartTimer = setTimeout(() => {
      if (stopping) return;
      let next: Slot;
      try {
        next = launch({ index: slot.index, deathsInARow });
      } catch (error) {
        const again = delayFor(deathsInARow + 1);
        logger.log(
          "error",
          `worker ${slot.index} could not be started: ${(error as Error).message}; ` +
            `trying again in ${again} ms`,
          { worker: slot.index, deaths_in_a_row: deathsInARow + 1 },
        );
        scheduleRestart(slot, deathsInARow + 1, again);
        return;
      }
      restarts += 1;
      readReady(next.process, output).then((ready) => {
        if (ready === undefined || slots[slot.index - 1] !== next) return;
        markReady(next);
        logger.log("notice", `worker ${slot.index} started again (pid ${next.process.pid})`, {
          worker: slot.index,
        });
      });
      watch(next);
    }, wait);
  };

  // Watches a running worker and starts it again when it dies.
  const watch = (slot: Slot) => {
    slot.process.status.then((exit) => {
      if (stopping) return;
      const upFor = now() - slot.startedAt;
      const deathsInARow = upFor >= stableMs ? 1 : slot.deathsInARow + 1;
      const delay = delayFor(deathsInARow);
      logger.log(
        "error",
        `worker ${slot.index} (pid ${slot.process.pid}) ${describeExit(exit)}; ` +
          `starting it again in ${delay} ms`,
        { worker: slot.index, deaths_in_a_row: deathsInARow },
      );
      slot.exited = Promise.resolve(undefined);
      scheduleRestart(slot, deathsInARow, delay);
    });
  };

  try {
    for (let index = 1; index <= options.workers; index++) {
      launch({ index, deathsInARow: 0 });
    }
  } catch (error) {
    // Spawning one failed: the ones already running must not outlive the start.
    for (const slot of slots) slot.process.kill("SIGKILL");
    await Promise.all(slots.map((s) => s.process.status));
    throw error;
  }
  const readies = slots.map((slot) =>
    Promise.race([
      readReady(slot.process, output),
      // A worker that exits before its ready line fails the start even if
      // its stdout stays open in a child of its own.
      slot.process.status.then(() => undefined),
    ])
  );
  // The first worker to die before its ready line, or -1 once all are ready.
  const failed = await new Promise<number>((resolve) => {
    let pending = readies.length;
    readies.forEach((ready, i) =>
      ready.then((r) => {
        if (r === undefined) resolve(i);
        else if (--pending === 0) resolve(-1);
      })
    );
  });
  if (failed !== -1) {
    stopping = true;
    const slot = slots[failed];
    for (const other of slots) if (other !== slot) other.process.kill("SIGKILL");
    // Its stdout may end a moment before it exits; one that closed stdout and
    // lives on can never be ready, so it is killed too.
    let grace: ReturnType<typeof setTimeout> | undefined;
    const gone = await Promise.race([
      slot.process.status,
      new Promise<undefined>((resolve) => grace = setTimeout(() => resolve(undefined), 500)),
    ]);
    clearTimeout(grace);
    if (gone === undefined) slot.process.kill("SIGKILL");
    const exit = await slot.process.status;
    await Promise.all(slots.map((s) => s.process.status));
    throw new Error(
      `worker ${slot.index} ${describeExit(exit)} before it was ready` +
        (options.workers > 1 ? "; stopped the others" : ""),
    );
  }
  const ready = (await readies[0])!;
  for (const slot of slots) {
    markReady(slot);
    logger.log("info", `worker ${slot.index} ready (pid ${slot.process.pid})`, {
      worker: slot.index,
    });
    watch(slot);
  }

  return {
    ready,
    get restarts() {
      return restarts;
    },
    pids: () => slots.map((slot) => slot.process.pid),
    signal(signal) {
      for (const slot of slots) {
        if (slot.ready) slot.process.kill(signal);
        else slot.held.add(signal);
      }
    },
    async stop(signal, timeoutMs) {
      stopping = true;
      for (const slot of slots) clearTimeout(slot.restartTimer);
      for (const slot of slots) slot.process.kill(signal);
      const exits = Promise.all(slots.map((slot) => slot.exited));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), timeoutMs);
      });
      if (await Promise.race([exits, late]) === "late") {
        logger.log("warn", `workers still running after ${timeoutMs} ms; killing them`);
        for (const slot of slots) slot.process.kill("SIGKILL");
      }
      clearTimeout(timer);
      const results = await exits;
      return results.every((exit) => exit === undefined || exit.code === 0);
    },
  };
}

/**
 * The Deno flags of `deno task server` (deno.json), which workers run with:
 * the same V8 settings and permissions, less `--allow-run` (a worker starts
 * nothing), read from deno.json by {@linkcode serverDenoFlags}.
 */
export const WORKER_DENO_FLAGS: readonly string[] = withoutRunPermission(serverDenoFlags());

/**
 * The Deno flags for workers keeping notes in `notes`: an SQLite store gets
 * write access to its file and nothing else (SQLite makes its `-wal` and
 * `-shm` files itself, past Deno's checks).
 */
export function workerDenoFlags(notes: string): string[] {
  if (!notes.startsWith("sqlite:")) return [...WORKER_DENO_FLAGS];
  return [...WORKER_DENO_FLAGS, `--allow-write=${notes.slice("sqlite:".length)}`];
}

/**
 * The Deno to start workers with: this very binary (`Deno.execPath()`), so
 * the workers run the same version wherever it is installed, on PATH or
 * not. Throws an `Error` saying what to do when the permissions do not let
 * it run.
 */
export async function findDenoForWorkers(): Promise<string> {
  const self = Deno.execPath();
  const status = await Deno.permissions.query({ name: "run", command: self });
  if (status.state !== "granted") {
    throw new Error(
      `cannot start workers: run with --allow-run (--workers starts this Deno, ${self}, ` +
        "once per worker)",
    );
  }
  return self;
}

/** How {@linkcode spawnWorker} starts a worker. */
export interface SpawnWorkerOptions {
  /** The Deno executable: `Deno.execPath()`. */
  deno: string;
  /** Deno flags before the script (permissions, V8 flags). */
  denoFlags: string[];
  /** The server script. */
  script: string;
  /** The server's arguments. */
  args: string[];
  /** Extra environment variables for the worker. */
  env: Record<string, string>;
}

/**
 * Starts a worker as a child process: stdout piped (the supervisor reads
 * the ready line), stderr shared (log lines go straight out), and stdin a
 * pipe the worker watches: when the supervisor dies, however it dies, the
 * pipe closes and the worker shuts down instead of living on alone.
 */
export function spawnWorker(options: SpawnWorkerOptions): WorkerProcess {
  const child = new Deno.Command(options.deno, {
    args: ["run", ...options.denoFlags, options.script, ...options.args],
    env: options.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = readLines(child.stdout);
  const status = child.status.then((s) => ({ code: s.code, signal: s.signal }));
  let exited = false;
  status.then(() => {
    exited = true;
    // Closing our end of its stdin releases the pipe.
    child.stdin.close().catch(() => {});
  });
  return {
    pid: child.pid,
    lines,
    status,
    kill(signal) {
      if (exited) return;
      try {
        child.kill(signal);
      } catch { /* it exited in between */ }
    },
  };
}

/** Splits a byte stream into lines (without their line ends). */
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + text).split("\n");
    rest = parts.pop()!;
    for (const line of parts) yield line.replace(/\r$/, "");
  }
  if (rest !== "") yield rest;
}

/**
 * Resolves once stdin reaches its end: for a worker, the moment its
 * supervisor is gone.
 */
export async function stdinClosed(): Promise<void> {
  const buffer = new Uint8Array(256);
  while (await Deno.stdin.read(buffer) !== null) { /* the supervisor never writes */ }
}
