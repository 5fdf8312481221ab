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

import { RestartPolicy, type RestartPolicyOptions } from "./restart_policy.ts";
import type { Logger } from "./telemetry.ts";
import { serverDenoFlags, withoutRunPermission } from "./deno_flags.ts";
import { firstNotReady, readReady, type WorkerReady } from "./worker_readiness.ts";
import { describeExit, type WorkerProcess, WorkerSlot } from "./worker_slot.ts";

export type { RestartPolicyOptions } from "./restart_policy.ts";
export { parseReadyLine, type WorkerReady } from "./worker_readiness.ts";
export type { WorkerExit, WorkerProcess } from "./worker_slot.ts";

/** Options for {@linkcode startWorkers}. */
export interface SupervisorOptions extends RestartPolicyOptions {
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

/** The workers' slots, and starting them again when they die. */
class WorkerPool {
  readonly slots: WorkerSlot[] = [];
  restarts = 0;
  #stopping = false;
  readonly #options: SupervisorOptions;
  readonly #policy: RestartPolicy;
  readonly #output: (line: string) => void;
  readonly #now: () => number;

  /** A pool with no workers started yet. */
  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#policy = new RestartPolicy(options);
    this.#output = options.output ?? ((line: string) => console.log(line));
    this.#now = options.now ?? Date.now;
  }

  /** Starts a process in slot `index`; throws when spawning fails. */
  launch(index: number, deathsInARow: number): WorkerSlot {
    const process = this.#options.start(index);
    const slot = new WorkerSlot(index, process, { startedAt: this.#now(), deathsInARow });
    this.slots[index - 1] = slot;
    return slot;
  }

  /** Starts every worker; when one cannot be spawned, kills the others and throws. */
  async launchAll(): Promise<void> {
    try {
      for (let index = 1; index <= this.#options.workers; index++) this.launch(index, 0);
    } catch (error) {
      // Spawning one failed: the ones already running must not outlive the start.
      for (const slot of this.slots) slot.process.kill("SIGKILL");
      await Promise.all(this.slots.map((s) => s.process.status));
      throw error;
    }
  }

  /** For each worker, its ready line, or `undefined` when it exits first. */
  readies(): Promise<WorkerReady | undefined>[] {
    return this.slots.map((slot) =>
      Promise.race([
        readReady(slot.process, this.#output),
        // A worker that exits before its ready line fails the start even if
        // its stdout stays open in a child of its own.
        slot.process.status.then(() => undefined),
      ])
    );
  }

  /** Worker `failed` died before it was ready: stops them all and throws, saying how it died. */
  async failStart(failed: number): Promise<never> {
    this.#stopping = true;
    const slot = this.slots[failed];
    for (const other of this.slots) if (other !== slot) other.process.kill("SIGKILL");
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
    await Promise.all(this.slots.map((s) => s.process.status));
    throw new Error(
      `worker ${slot.index} ${describeExit(exit)} before it was ready` +
        (this.#options.workers > 1 ? "; stopped the others" : ""),
    );
  }

  /** Every worker printed its ready line: marks them ready and watches each. */
  allReady(): void {
    for (const slot of this.slots) {
      slot.markReady();
      this.#options.logger.log("info", `worker ${slot.index} ready (pid ${slot.process.pid})`, {
        worker: slot.index,
      });
      this.#watch(slot);
    }
  }

  /** Watches a running worker and starts it again when it dies. */
  #watch(slot: WorkerSlot): void {
    slot.process.status.then((exit) => {
      if (this.#stopping) return;
      const deathsInARow = this.#policy.deathsInARow(
        this.#now() - slot.startedAt,
        slot.deathsInARow,
      );
      const delay = this.#policy.delayMs(deathsInARow);
      this.#options.logger.log(
        "error",
        `worker ${slot.index} (pid ${slot.process.pid}) ${describeExit(exit)}; ` +
          `starting it again in ${delay} ms`,
        { worker: slot.index, deaths_in_a_row: deathsInARow },
      );
      slot.vacate();
      this.#scheduleRestart(slot, deathsInARow, delay);
    });
  }

  /**
   * Starts the worker of `slot` again after `wait` ms; a spawn that fails
   * (EAGAIN, deno gone) counts as one more death and is tried again later.
   */
  #scheduleRestart(slot: WorkerSlot, deathsInARow: number, wait: number): void {
    slot.restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      let next: WorkerSlot;
      try {
        next = this.launch(slot.index, deathsInARow);
      } catch (error) {
        const again = this.#policy.delayMs(deathsInARow + 1);
        this.#options.logger.log(
          "error",
          `worker ${slot.index} could not be started: ${(error as Error).message}; ` +
            `trying again in ${again} ms`,
          { worker: slot.index, deaths_in_a_row: deathsInARow + 1 },
        );
        this.#scheduleRestart(slot, deathsInARow + 1, again);
        return;
      }
      this.restarts += 1;
      this.#readyAgain(next);
      this.#watch(next);
    }, wait);
  }

  /** Marks a restarted worker ready once it prints its ready line (if it is still the slot's). */
  #readyAgain(slot: WorkerSlot): void {
    readReady(slot.process, this.#output).then((ready) => {
      if (ready === undefined || this.slots[slot.index - 1] !== slot) return;
      slot.markReady();
      this.#options.logger.log(
        "notice",
        `worker ${slot.index} started again (pid ${slot.process.pid})`,
        { worker: slot.index },
      );
    });
  }

  /** See {@linkcode Supervisor.stop}. */
  async stop(signal: Deno.Signal, timeoutMs: number): Promise<boolean> {
    this.#stopping = true;
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    for (const slot of this.slots) slot.process.kill(signal);
    const exits = Promise.all(this.slots.map((slot) => slot.exited));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    if (await Promise.race([exits, late]) === "late") {
      this.#options.logger.log("warn", `workers still running after ${timeoutMs} ms; killing them`);
      for (const slot of this.slots) slot.process.kill("SIGKILL");
    }
    clearTimeout(timer);
    const results = await exits;
    return results.every((exit) => exit === undefined || exit.code === 0);
  }
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
  const pool = new WorkerPool(options);
  await pool.launchAll();
  const readies = pool.readies();
  const failed = await firstNotReady(readies);
  if (failed !== -1) await pool.failStart(failed);
  const ready = (await readies[0])!;
  pool.allReady();
  return {
    ready,
    get restarts() {
      return pool.restarts;
    },
    pids: () => pool.slots.map((slot) => slot.process.pid),
    signal(signal) {
      for (const slot of pool.slots) slot.signal(signal);
    },
    stop: (signal, timeoutMs) => pool.stop(signal, timeoutMs),
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
