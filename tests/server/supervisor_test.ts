/**
 * The `--workers N` supervisor (lib/server/supervisor.ts).
 *
 * `startWorkers` is driven through fake {@linkcode WorkerProcess} objects:
 * each has a pid, stdout lines the test prints, a `status` the test settles
 * to make it exit, and a `kill()` that records signals and, like a server,
 * exits 0 on SIGINT/SIGTERM and is killed by SIGKILL (code 137). Timings
 * are a few milliseconds, and the tests wait for conditions, not for fixed
 * times. `spawnWorker` and `stdinClosed` are checked with tiny real Deno
 * children.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createLogger, type Logger } from "../../lib/server/telemetry.ts";
import {
  findDenoForWorkers,
  parseReadyLine,
  spawnWorker,
  startWorkers,
  type Supervisor,
  type SupervisorOptions,
  WORKER_DENO_FLAGS,
  workerDenoFlags,
  type WorkerExit,
  type WorkerProcess,
} from "../../lib/server/supervisor.ts";
import { waitFor, within } from "../_async.ts";
import { TextLineReader } from "../_lines.ts";
import { SERVER_FLAGS } from "../_server.ts";

// ---------------------------------------------------------------------------
// Fakes and helpers

/** How a fake worker answers a signal other than SIGKILL: its exit, or `undefined` to carry on. */
type SignalAnswer = (signal: Deno.Signal) => WorkerExit | undefined;

/** Like the server: SIGINT and SIGTERM stop it cleanly, SIGHUP (reload) and the rest do not. */
const likeServer: SignalAnswer = (signal) =>
  signal === "SIGINT" || signal === "SIGTERM" ? { code: 0, signal: null } : undefined;

/** Carries on whatever it is sent (until SIGKILL). */
const stubborn: SignalAnswer = () => undefined;

const KILLED: WorkerExit = { code: 137, signal: "SIGKILL" };

/** A worker process that exists only in the test. */
class FakeWorker implements WorkerProcess {
  readonly pid: number;
  readonly index: number;
  readonly status: Promise<WorkerExit>;
  readonly lines: AsyncIterable<string>;
  /** When it was started (`performance.now()`). */
  readonly startedAt = performance.now();
  /** Signals it received while running, in order. */
  readonly signals: Deno.Signal[] = [];
  /** How it exited, once it has. */
  exit?: WorkerExit;
  /** When it exited (`performance.now()`). */
  exitedAt?: number;
  answer: SignalAnswer;
  #settle!: (exit: WorkerExit) => void;
  #queue: string[] = [];
  #ended = false;
  #wake?: () => void;

  constructor(pid: number, index: number, answer: SignalAnswer) {
    this.pid = pid;
    this.index = index;
    this.answer = answer;
    this.status = new Promise((resolve) => this.#settle = resolve);
    this.lines = this.#read();
  }

  /** Lines printed but not read by the supervisor yet. */
  get unread(): number {
    return this.#queue.length;
  }

  /** Writes lines to its stdout. */
  print(...lines: string[]): void {
    assert.equal(this.#ended, false, "printing after stdout ended");
    this.#queue.push(...lines);
    this.#poke();
  }

  /** Writes a worker's ready line. */
  printReady(features = 201, port = 50051): void {
    this.print(`listening on 127.0.0.1:${port} (${features} features)`);
  }

  /** Closes its stdout. */
  endStdout(): void {
    this.#ended = true;
    this.#poke();
  }

  /** Exits; its stdout ends too unless a child of its own still holds it. */
  die(exit: WorkerExit, options: { stdoutOpen?: boolean } = {}): void {
    if (this.exit !== undefined) return;
    this.exit = exit;
    this.exitedAt = performance.now();
    if (!options.stdoutOpen) this.endStdout();
    this.#settle(exit);
  }

  kill(signal: Deno.Signal): void {
    if (this.exit !== undefined) return;
    this.signals.push(signal);
    const exit = signal === "SIGKILL" ? KILLED : this.answer(signal);
    // A real process exits a moment after the signal, not during kill().
    if (exit !== undefined) setTimeout(() => this.die(exit), 1);
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *#read(): AsyncGenerator<string> {
    while (true) {
      if (this.#queue.length > 0) {
        yield this.#queue.shift()!;
      } else if (this.#ended) {
        return;
      } else {
        await new Promise<void>((resolve) => this.#wake = resolve);
      }
    }
  }
}

/** Fake workers handed out by a `start()` function, pids from 1001 up. */
interface Fleet {
  /** Every worker started, in order. */
  started: FakeWorker[];
  /** The `start` option for {@linkcode startWorkers}. */
  start(index: number): FakeWorker;
  /** The worker started last for slot `index`. */
  slot(index: number): FakeWorker;
}

interface FleetOptions {
  /** How the workers answer signals; default {@linkcode likeServer}. */
  answer?: SignalAnswer;
  /** Runs as each worker starts (print its ready line, say). */
  onStart?: (worker: FakeWorker) => void;
}

function createFleet(options: FleetOptions = {}): Fleet {
  const started: FakeWorker[] = [];
  return {
    started,
    start(index) {
      const worker = new FakeWorker(1001 + started.length, index, options.answer ?? likeServer);
      started.push(worker);
      options.onStart?.(worker);
      return worker;
    },
    slot(index) {
      const worker = started.findLast((w) => w.index === index);
      assert.ok(worker, `no worker was started in slot ${index}`);
      return worker;
    },
  };
}

interface LogLine {
  level: string;
  msg: string;
  worker?: number;
  deaths_in_a_row?: number;
}

/** A JSON logger at debug level whose lines the test reads back. */
function createLogRecorder(): { logger: Logger; lines: () => LogLine[] } {
  const written: string[] = [];
  const logger = createLogger({ level: "debug", format: "json", write: (l) => written.push(l) });
  return { logger, lines: () => written.map((l) => JSON.parse(l) as LogLine) };
}

/** A fleet, a log and an output sink around {@linkcode startWorkers}. */
interface Rig {
  fleet: Fleet;
  log: () => LogLine[];
  /** Lines passed to `output`. */
  output: string[];
  options: SupervisorOptions;
}

function createRig(
  workers: number,
  fleetOptions: FleetOptions = {},
  overrides: Partial<SupervisorOptions> = {},
): Rig {
  const fleet = createFleet(fleetOptions);
  const { logger, lines } = createLogRecorder();
  const output: string[] = [];
  return {
    fleet,
    log: lines,
    output,
    options: {
      workers,
      start: (index) => fleet.start(index),
      logger,
      output: (line) => output.push(line),
      restartDelayMs: 5,
      maxRestartDelayMs: 40,
      stableMs: 10_000,
      ...overrides,
    },
  };
}

/** Starts supervised fakes that print their ready line as they start. */
async function startReady(
  workers: number,
  overrides: Partial<SupervisorOptions> = {},
  fleetOptions: FleetOptions = {},
): Promise<Rig & { supervisor: Supervisor }> {
  const rig = createRig(workers, { onStart: (w) => w.printReady(), ...fleetOptions }, overrides);
  const supervisor = await within(startWorkers(rig.options), 10_000, "startWorkers");
  return { ...rig, supervisor };
}

/** Whether a promise has settled yet, looked at later. */
function track(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  promise.then(() => state.settled = true, () => state.settled = true);
  return state;
}

/**
 * Counts the timers started from now on that have neither fired nor been
 * cleared: a restart the supervisor scheduled is one. Asserting none is
 * pending shows "nothing will be started again" without sleeping.
 */
function pendingTimers(): { count(): number; [Symbol.dispose](): void } {
  const original = { set: globalThis.setTimeout, clear: globalThis.clearTimeout };
  const pending = new Set<unknown>();
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const id = original.set(
      (...a: unknown[]) => {
        pending.delete(id);
        fn(...a);
      },
      ms,
      ...args,
    );
    pending.add(id);
    return id;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id?: number) => {
    pending.delete(id);
    original.clear(id);
  }) as typeof clearTimeout;
  return {
    count: () => pending.size,
    [Symbol.dispose]() {
      globalThis.setTimeout = original.set;
      globalThis.clearTimeout = original.clear;
    },
  };
}

/**
 * One macrotask turn, no time: every promise callback queued so far by the
 * fake fleet (it does no I/O) and by the supervisor's reactions to it runs
 * first, so a check after it sees everything that has happened by now.
 */
const drain = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const errorLines = (log: LogLine[]) => log.filter((l) => l.level === "error");

/** Log lines at notice level and above (leaving out info and debug). */
const noticeAndAbove = (log: LogLine[]) =>
  log.filter((l) => l.level === "notice" || l.level === "warn" || l.level === "error");

/** Stops a rig's supervisor whatever happened in the test, so no timer outlives it. */
async function cleanUp(supervisor: Supervisor): Promise<void> {
  await within(supervisor.stop("SIGTERM", 10_000), 20_000, "stop");
}

// ---------------------------------------------------------------------------
// parseReadyLine

Deno.test("parseReadyLine() reads a worker's ready line", () => {
  assert.deepEqual(parseReadyLine("listening on 127.0.0.1:50051 (201 features)"), {
    address: "127.0.0.1:50051",
    features: 201,
  });
  assert.deepEqual(parseReadyLine("listening on 0.0.0.0:0 (0 features)"), {
    address: "0.0.0.0:0",
    features: 0,
  });
});

Deno.test("parseReadyLine() reads an IPv6 address in brackets", () => {
  assert.deepEqual(parseReadyLine("listening on [::1]:5 (201 features)"), {
    address: "[::1]:5",
    features: 201,
  });
});

Deno.test("parseReadyLine() returns undefined for lines that are not a worker's ready line", () => {
  for (
    const line of [
      // The supervisor's own ready line is not a worker's.
      "listening on 0.0.0.0:50051 (201 features, 2 workers)",
      "",
      "listening on 127.0.0.1:50051",
      "listening on 127.0.0.1:50051 ()",
      "listening on 127.0.0.1:50051 (many features)",
      "listening on 127.0.0.1:50051 (-1 features)",
      "listening on 127.0.0.1:50051 (1 feature)",
      " listening on 127.0.0.1:50051 (201 features)",
      "listening on 127.0.0.1:50051 (201 features) ",
      "listening on 127.0.0.1:50051 (201 features)!",
      "worker 1: listening on 127.0.0.1:50051 (201 features)",
      "listening on  (201 features)",
      '{"level":"notice","msg":"listening on 127.0.0.1:50051 (201 features)"}',
    ]
  ) {
    assert.equal(parseReadyLine(line), undefined, JSON.stringify(line));
  }
});

// ---------------------------------------------------------------------------
// startWorkers: starting

Deno.test("startWorkers() starts workers 1 to N once each and reports the first one's ready line", async () => {
  const rig = createRig(3);
  const starting = startWorkers(rig.options);
  assert.deepEqual(rig.fleet.started.map((w) => w.index), [1, 2, 3]);
  // Ready lines in any order: `ready` is still worker 1's.
  rig.fleet.slot(3).printReady(3, 3);
  rig.fleet.slot(2).printReady(2, 2);
  rig.fleet.slot(1).printReady(1, 1);
  const supervisor = await within(starting, 10_000, "startWorkers");
  assert.deepEqual(supervisor.ready, { address: "127.0.0.1:1", features: 1 });
  assert.deepEqual(supervisor.pids(), [1001, 1002, 1003]);
  assert.equal(supervisor.restarts, 0);
  assert.equal(rig.fleet.started.length, 3);
  assert.deepEqual(rig.output, []);
  await cleanUp(supervisor);
});

Deno.test("startWorkers() resolves only once the last worker printed its ready line", async () => {
  const rig = createRig(3);
  const starting = startWorkers(rig.options);
  const state = track(starting);
  rig.fleet.slot(1).printReady();
  rig.fleet.slot(2).printReady();
  rig.fleet.slot(3).print(
    "loading features",
    "listening on 127.0.0.1:50051 (201 features, 3 workers)",
  );
  await drain();
  assert.equal(state.settled, false, "resolved before worker 3 was ready");
  rig.fleet.slot(3).printReady();
  const supervisor = await within(starting, 10_000, "startWorkers");
  assert.equal(state.settled, true);
  await cleanUp(supervisor);
});

Deno.test("startWorkers() passes other stdout lines to output, before and after the ready line", async () => {
  const rig = createRig(2);
  const starting = startWorkers(rig.options);
  rig.fleet.slot(1).print("w1 before");
  rig.fleet.slot(2).print("w2 before");
  rig.fleet.slot(1).printReady();
  rig.fleet.slot(1).print("w1 after");
  rig.fleet.slot(2).printReady();
  const supervisor = await within(starting, 10_000, "startWorkers");
  await waitFor(() => rig.output.length === 3, "three output lines");
  assert.deepEqual(rig.output, ["w1 before", "w2 before", "w1 after"]);

  // A second ready-looking line is just output.
  rig.fleet.slot(2).printReady(7, 7);
  await waitFor(() => rig.output.length === 4, "the second ready line");
  assert.equal(rig.output[3], "listening on 127.0.0.1:7 (7 features)");
  await cleanUp(supervisor);
});

Deno.test("startWorkers() keeps draining each worker's stdout after the start", async () => {
  const { supervisor, fleet, output } = await startReady(2);
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
  fleet.slot(2).print(...lines);
  await waitFor(() => output.length === lines.length, "every line to reach output");
  assert.deepEqual(output, lines);
  assert.equal(fleet.slot(2).unread, 0);
  fleet.slot(1).print("late");
  await waitFor(() => output.length === lines.length + 1, "a later line");
  assert.equal(output.at(-1), "late");
  await cleanUp(supervisor);
});

Deno.test("startWorkers() uses its defaults: console.log for output", async () => {
  const fleet = createFleet({ onStart: (w) => w.printReady() });
  const { logger } = createLogRecorder();
  const printed: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args);
  try {
    const supervisor = await startWorkers({ workers: 1, start: fleet.start, logger });
    fleet.slot(1).print("to the console");
    await waitFor(() => printed.length === 1, "a console line");
    assert.deepEqual(printed, [["to the console"]]);
    await cleanUp(supervisor);
  } finally {
    console.log = log;
  }
});

// ---------------------------------------------------------------------------
// startWorkers: a worker that dies before it is ready

Deno.test("startWorkers() rejects when a worker exits before its ready line, and kills the others", async () => {
  using timers = pendingTimers();
  const rig = createRig(3);
  const starting = startWorkers(rig.options);
  rig.fleet.slot(1).printReady();
  rig.fleet.slot(2).print("error: cannot read the database");
  rig.fleet.slot(2).die({ code: 1, signal: null });
  await assert.rejects(
    within(starting, 10_000, "startWorkers"),
    (error: Error) => {
      assert.equal(
        error.message,
        "worker 2 exited with code 1 before it was ready; stopped the others",
      );
      return true;
    },
  );
  assert.deepEqual(rig.fleet.slot(1).signals, ["SIGKILL"]);
  assert.deepEqual(rig.fleet.slot(2).signals, []);
  assert.deepEqual(rig.fleet.slot(3).signals, ["SIGKILL"]);
  assert.deepEqual(rig.fleet.slot(1).exit, KILLED);
  assert.deepEqual(rig.fleet.slot(3).exit, KILLED);
  assert.deepEqual(rig.output, ["error: cannot read the database"]);
  // Nothing is started again: no worker now, and no restart pending.
  assert.equal(timers.count(), 0, "a restart is pending");
  assert.equal(rig.fleet.started.length, 3);
  assert.deepEqual(errorLines(rig.log()), []);
});

Deno.test("startWorkers() says which signal killed a worker before its ready line", async () => {
  using timers = pendingTimers();
  const rig = createRig(2);
  const starting = startWorkers(rig.options);
  rig.fleet.slot(1).die({ code: 139, signal: "SIGSEGV" });
  await assert.rejects(
    within(starting, 10_000, "startWorkers"),
    new Error("worker 1 was killed by SIGSEGV before it was ready; stopped the others"),
  );
  assert.deepEqual(rig.fleet.slot(2).signals, ["SIGKILL"]);
  assert.equal(timers.count(), 0, "a restart is pending");
  assert.equal(rig.fleet.started.length, 2);
});

Deno.test("startWorkers() with one worker rejects without mentioning others", async () => {
  const rig = createRig(1);
  const starting = startWorkers(rig.options);
  rig.fleet.slot(1).die({ code: 2, signal: null });
  await assert.rejects(
    within(starting, 10_000, "startWorkers"),
    new Error("worker 1 exited with code 2 before it was ready"),
  );
  assert.equal(rig.fleet.started.length, 1);
});

Deno.test("startWorkers() fails a worker that exits before its ready line while its stdout stays open", async () => {
  using timers = pendingTimers();
  const rig = createRig(3);
  const starting = startWorkers(rig.options);
  rig.fleet.slot(1).printReady();
  rig.fleet.slot(3).printReady();
  // A child of its own still holds the pipe: the lines never end.
  rig.fleet.slot(2).die({ code: 3, signal: null }, { stdoutOpen: true });
  await assert.rejects(
    within(starting, 10_000, "startWorkers"),
    new Error("worker 2 exited with code 3 before it was ready; stopped the others"),
  );
  assert.deepEqual(rig.fleet.slot(1).signals, ["SIGKILL"]);
  assert.deepEqual(rig.fleet.slot(3).signals, ["SIGKILL"]);
  assert.equal(timers.count(), 0, "a restart is pending");
  assert.equal(rig.fleet.started.length, 3);
});

Deno.test("startWorkers() fails when a worker's stdout ends before its ready line, once it exits", async () => {
  const rig = createRig(2);
  const starting = startWorkers(rig.options);
  rig.fleet.slot(1).printReady();
  rig.fleet.slot(2).endStdout();
  await drain();
  rig.fleet.slot(2).die({ code: 1, signal: null });
  await assert.rejects(
    within(starting, 10_000, "startWorkers"),
    new Error("worker 2 exited with code 1 before it was ready; stopped the others"),
  );
  assert.deepEqual(rig.fleet.slot(1).signals, ["SIGKILL"]);
});

Deno.test("startWorkers() does not fail the start for a worker that dies after its ready line: it restarts it", async () => {
  const rig = createRig(2, { onStart: (w) => w.index === 1 && w.printReady() });
  const starting = startWorkers(rig.options);
  await waitFor(() => rig.fleet.slot(1).unread === 0, "worker 1's ready line to be read");
  rig.fleet.slot(1).die({ code: 1, signal: null });
  await drain();
  rig.fleet.slot(2).printReady();
  const supervisor = await within(starting, 10_000, "startWorkers");
  await waitFor(() => rig.fleet.started.length === 3, "worker 1 to start again");
  assert.equal(rig.fleet.slot(1).pid, 1003);
  assert.equal(supervisor.restarts, 1);
  await cleanUp(supervisor);
});

// ---------------------------------------------------------------------------
// startWorkers: restarts

Deno.test("A worker that dies is started again in its slot after restartDelayMs, and the restart is logged", async () => {
  const delay = 40;
  const { supervisor, fleet, log, output } = await startReady(
    3,
    { restartDelayMs: delay, maxRestartDelayMs: 1000 },
    { onStart: (w) => w.pid <= 1003 && w.printReady() }, // not the restarted one
  );
  try {
    const dead = fleet.slot(2);
    dead.die({ code: 3, signal: null });
    // The supervisor watched this status first, so it has seen the death by now.
    await dead.status;
    assert.deepEqual(
      errorLines(log()).map(({ msg, worker, deaths_in_a_row }) => ({
        msg,
        worker,
        deaths_in_a_row,
      })),
      [{
        msg: `worker 2 (pid 1002) exited with code 3; starting it again in ${delay} ms`,
        worker: 2,
        deaths_in_a_row: 1,
      }],
    );
    assert.equal(fleet.started.length, 3, "started again at once");
    await waitFor(() => fleet.started.length === 4, "the new worker");
    const next = fleet.started[3];
    assert.equal(next.index, 2);
    assert.ok(
      next.startedAt - dead.exitedAt! >= delay - 2,
      `started again after ${next.startedAt - dead.exitedAt!} ms`,
    );
    assert.equal(supervisor.restarts, 1);
    assert.deepEqual(supervisor.pids(), [1001, 1004, 1003]);

    // The notice waits for the new worker's ready line; other lines are output.
    next.print("warming up");
    await waitFor(() => output.includes("warming up"), "the new worker's output");
    assert.equal(log().filter((l) => l.level === "notice").length, 0);
    next.printReady();
    await waitFor(() => log().some((l) => l.level === "notice"), "the notice");
    const notices = log().filter((l) => l.level === "notice");
    assert.deepEqual(
      notices.map(({ msg, worker }) => ({ msg, worker })),
      [{ msg: "worker 2 started again (pid 1004)", worker: 2 }],
    );
    assert.deepEqual(output, ["warming up"]);
    next.print("after");
    await waitFor(() => output.includes("after"), "output after the new ready line");
  } finally {
    await cleanUp(supervisor);
  }
});

Deno.test("A restart is logged with the signal that killed the worker", async () => {
  const { supervisor, fleet, log } = await startReady(1);
  try {
    fleet.slot(1).die({ code: 137, signal: "SIGKILL" });
    await waitFor(() => fleet.started.length === 2, "the restart");
    assert.equal(
      errorLines(log())[0].msg,
      "worker 1 (pid 1001) was killed by SIGKILL; starting it again in 5 ms",
    );
    await waitFor(() => log().some((l) => l.level === "notice"), "the notice");
  } finally {
    await cleanUp(supervisor);
  }
});

Deno.test("Deaths in a row double the restart delay up to maxRestartDelayMs", async () => {
  const { supervisor, fleet, log } = await startReady(2, {
    restartDelayMs: 5,
    maxRestartDelayMs: 20,
    stableMs: 10_000,
  });
  try {
    for (let death = 1; death <= 5; death++) {
      const worker = fleet.slot(1);
      worker.die({ code: 1, signal: null });
      await waitFor(() => fleet.slot(1) !== worker, `restart ${death}`);
      assert.ok(
        fleet.slot(1).startedAt - worker.exitedAt! >= Math.min(20, 5 * 2 ** (death - 1)) - 2,
      );
    }
    assert.deepEqual(
      errorLines(log()).map((l) => [l.worker, l.deaths_in_a_row, l.msg.match(/in (\d+) ms$/)?.[1]]),
      [[1, 1, "5"], [1, 2, "10"], [1, 3, "20"], [1, 4, "20"], [1, 5, "20"]],
    );
    assert.equal(supervisor.restarts, 5);
    // Worker 2 has its own count.
    fleet.slot(2).die({ code: 1, signal: null });
    await waitFor(() => errorLines(log()).length === 6, "worker 2's death");
    assert.deepEqual(
      [errorLines(log())[5].worker, errorLines(log())[5].deaths_in_a_row],
      [2, 1],
    );
    await waitFor(() => supervisor.restarts === 6, "worker 2's restart");
  } finally {
    await cleanUp(supervisor);
  }
});

Deno.test("A restarted worker that dies before its ready line counts as another death in a row", async () => {
  let readyOnStart = true;
  const { supervisor, fleet, log } = await startReady(1, {}, {
    onStart: (w) => readyOnStart && w.printReady(),
  });
  try {
    readyOnStart = false;
    fleet.slot(1).die({ code: 1, signal: null });
    await waitFor(() => fleet.started.length === 2, "the first restart");
    fleet.slot(1).die({ code: 1, signal: null });
    await waitFor(() => fleet.started.length === 3, "the second restart");
    assert.deepEqual(errorLines(log()).map((l) => l.deaths_in_a_row), [1, 2]);
    assert.equal(
      errorLines(log())[1].msg,
      "worker 1 (pid 1002) exited with code 1; starting it again in 10 ms",
    );
    assert.equal(log().filter((l) => l.level === "notice").length, 0);
    fleet.slot(1).printReady();
    await waitFor(() => log().some((l) => l.level === "notice"), "the notice");
  } finally {
    await cleanUp(supervisor);
  }
});

Deno.test("A worker that stayed up longer than stableMs restarts with the first delay again", async () => {
  const stableMs = 60_000;
  let clock = 0;
  const { supervisor, fleet, log } = await startReady(1, {
    restartDelayMs: 5,
    maxRestartDelayMs: 1000,
    stableMs,
    now: () => clock,
  });
  try {
    // Up for less than stableMs, twice: 5 ms, then 10 ms.
    fleet.slot(1).die({ code: 1, signal: null });
    await waitFor(() => fleet.started.length === 2, "the first restart");
    fleet.slot(1).die({ code: 1, signal: null });
    await waitFor(() => fleet.started.length === 3, "the second restart");
    clock += stableMs;
    fleet.slot(1).die({ code: 1, signal: null });
    await waitFor(() => fleet.started.length === 4, "the third restart");
    assert.deepEqual(
      errorLines(log()).map((l) => [l.deaths_in_a_row, l.msg.match(/in (\d+) ms$/)?.[1]]),
      [[1, "5"], [2, "10"], [1, "5"]],
    );
  } finally {
    await cleanUp(supervisor);
  }
});

Deno.test("startWorkers() logs each worker's pid at info level once all are ready", async () => {
  const { supervisor, log } = await startReady(2);
  assert.deepEqual(
    log().map(({ level, msg, worker }) => ({ level, msg, worker })),
    [
      { level: "info", msg: "worker 1 ready (pid 1001)", worker: 1 },
      { level: "info", msg: "worker 2 ready (pid 1002)", worker: 2 },
    ],
  );
  await cleanUp(supervisor);
});

// ---------------------------------------------------------------------------
// signal and stop

Deno.test("Supervisor.signal() sends the signal to every running worker", async () => {
  const { supervisor, fleet, log } = await startReady(3);
  try {
    supervisor.signal("SIGHUP");
    assert.deepEqual(fleet.started.map((w) => w.signals), [["SIGHUP"], ["SIGHUP"], ["SIGHUP"]]);
    // It reaches a worker started again too, once that one is ready.
    fleet.slot(2).die({ code: 1, signal: null });
    await waitFor(
      () => log().some((l) => l.level === "notice"),
      "the restarted worker's ready line",
    );
    supervisor.signal("SIGHUP");
    assert.deepEqual(fleet.started.map((w) => w.signals), [
      ["SIGHUP", "SIGHUP"],
      ["SIGHUP"],
      ["SIGHUP", "SIGHUP"],
      ["SIGHUP"],
    ]);
    await drain();
    assert.equal(supervisor.restarts, 1);
  } finally {
    await cleanUp(supervisor);
  }
});

Deno.test("Supervisor.signal() holds a signal for a restarted worker until its ready line", async () => {
  let readyOnStart = true;
  const { supervisor, fleet, log } = await startReady(2, {}, {
    onStart: (w) => readyOnStart && w.printReady(),
  });
  try {
    readyOnStart = false;
    fleet.slot(1).die({ code: 1, signal: null });
    await waitFor(() => fleet.started.length === 3, "the restart");
    const starting = fleet.slot(1);
    // Still starting, it may not listen for SIGHUP yet: SIGHUP would end it.
    supervisor.signal("SIGHUP");
    supervisor.signal("SIGHUP");
    assert.deepEqual(starting.signals, []);
    assert.deepEqual(fleet.slot(2).signals, ["SIGHUP", "SIGHUP"]);
    starting.printReady();
    await waitFor(() => log().some((l) => l.level === "notice"), "the ready line");
    // Held signals arrive once each, as the worker is ready.
    assert.deepEqual(starting.signals, ["SIGHUP"]);
    supervisor.signal("SIGHUP");
    assert.deepEqual(starting.signals, ["SIGHUP", "SIGHUP"]);
  } finally {
    await cleanUp(supervisor);
  }
});

Deno.test("Supervisor.stop() sends the signal to every worker and resolves true when all exit 0", async () => {
  using timers = pendingTimers();
  const { supervisor, fleet, log } = await startReady(3);
  // Resolving within 10 s of a 60 s timeout: it waited for the exits, not the timeout.
  assert.equal(await within(supervisor.stop("SIGTERM", 60_000), 10_000, "stop"), true);
  assert.deepEqual(fleet.started.map((w) => w.signals), [["SIGTERM"], ["SIGTERM"], ["SIGTERM"]]);
  assert.deepEqual(fleet.started.map((w) => w.exit), Array(3).fill({ code: 0, signal: null }));
  // Workers that exit on stop are not started again (none pending), and nothing is logged.
  assert.equal(timers.count(), 0, "a restart is pending");
  assert.equal(fleet.started.length, 3);
  assert.deepEqual(noticeAndAbove(log()), []);
});

Deno.test("Supervisor.stop() passes on the signal it is given", async () => {
  const { supervisor, fleet } = await startReady(2);
  assert.equal(await within(supervisor.stop("SIGINT", 60_000), 10_000, "stop"), true);
  assert.deepEqual(fleet.started.map((w) => w.signals), [["SIGINT"], ["SIGINT"]]);
});

Deno.test("Supervisor.stop() resolves false when a worker exits with another code", async () => {
  const exits: WorkerExit[] = [{ code: 1, signal: null }, { code: 143, signal: "SIGTERM" }];
  for (const exit of exits) {
    const { supervisor, fleet } = await startReady(3);
    fleet.slot(2).answer = () => exit;
    assert.equal(await within(supervisor.stop("SIGTERM", 60_000), 10_000, "stop"), false);
    assert.deepEqual(fleet.started.map((w) => w.exit?.code), [0, exit.code, 0]);
    assert.equal(fleet.started.length, 3);
  }
});

Deno.test("Supervisor.stop() kills workers still running after timeoutMs, with a warning", async () => {
  using timers = pendingTimers();
  const { supervisor, fleet, log } = await startReady(3);
  fleet.slot(2).answer = stubborn;
  const timeoutMs = 40;
  const t0 = performance.now();
  assert.equal(await within(supervisor.stop("SIGTERM", timeoutMs), 10_000, "stop"), false);
  const took = performance.now() - t0;
  assert.ok(took >= timeoutMs - 2, `stop took ${took} ms`);
  assert.deepEqual(fleet.slot(1).signals, ["SIGTERM"]);
  assert.deepEqual(fleet.slot(2).signals, ["SIGTERM", "SIGKILL"]);
  assert.deepEqual(fleet.slot(3).signals, ["SIGTERM"]);
  assert.deepEqual(fleet.slot(2).exit, KILLED);
  assert.deepEqual(
    noticeAndAbove(log()).map(({ level, msg }) => ({ level, msg })),
    [{ level: "warn", msg: `workers still running after ${timeoutMs} ms; killing them` }],
  );
  assert.equal(timers.count(), 0, "a restart is pending");
  assert.equal(fleet.started.length, 3);
});

Deno.test("Supervisor.stop() cancels a pending restart", async () => {
  using timers = pendingTimers();
  // A restart far off: one not cancelled is a timer still pending after stop().
  const restartDelayMs = 60_000;
  const { supervisor, fleet, log } = await startReady(2, {
    restartDelayMs,
    maxRestartDelayMs: restartDelayMs,
  });
  fleet.slot(1).die({ code: 1, signal: null });
  await fleet.slot(1).status;
  assert.equal(errorLines(log()).length, 1, "the restart is scheduled");
  assert.equal(await within(supervisor.stop("SIGTERM", 60_000), 10_000, "stop"), true);
  await drain();
  assert.equal(timers.count(), 0, "the restart is still pending after stop()");
  assert.equal(fleet.started.length, 2, "a worker was started after stop()");
  assert.equal(supervisor.restarts, 0);
});

Deno.test("Supervisor.stop() is not held up by a dead worker waiting for its restart", async () => {
  const { supervisor, fleet, log } = await startReady(2, {
    restartDelayMs: 60_000,
    maxRestartDelayMs: 60_000,
  });
  fleet.slot(2).die({ code: 1, signal: null });
  await fleet.slot(2).status;
  assert.equal(errorLines(log()).length, 1, "the restart is scheduled");
  // The worker already dead counts as stopped; only worker 1 is waited for
  // (held up, stop() would take the 60 s restart delay or its timeout).
  assert.equal(await within(supervisor.stop("SIGTERM", 60_000), 10_000, "stop"), true);
  assert.deepEqual(fleet.slot(1).signals, ["SIGTERM"]);
  assert.deepEqual(fleet.slot(2).signals, []);
  assert.equal(fleet.started.length, 2);
});

Deno.test("Supervisor.stop() also stops a restarted worker not yet ready", async () => {
  let readyOnStart = true;
  const { supervisor, fleet, log } = await startReady(2, {}, {
    onStart: (w) => readyOnStart && w.printReady(),
  });
  readyOnStart = false;
  fleet.slot(1).die({ code: 1, signal: null });
  await waitFor(() => fleet.started.length === 3, "the restart");
  assert.equal(await within(supervisor.stop("SIGTERM", 60_000), 10_000, "stop"), true);
  assert.deepEqual(fleet.started[2].signals, ["SIGTERM"]);
  assert.deepEqual(fleet.started[2].exit, { code: 0, signal: null });
  assert.equal(log().filter((l) => l.level === "notice").length, 0);
});

// ---------------------------------------------------------------------------
// Failures of the supervisor's own: spawning, and workers that misbehave

Deno.test({
  name: "A restart whose start() throws is logged and tried again after a longer delay",
  fn: async () => {
    const rig = createRig(1, { onStart: (w) => w.printReady() });
    let failures = 0;
    rig.options.start = (index) => {
      if (rig.fleet.started.length === 1 && failures < 2) {
        failures += 1;
        throw new Error("Failed to spawn 'deno': No such file or directory");
      }
      return rig.fleet.start(index);
    };
    const supervisor = await within(startWorkers(rig.options), 10_000, "startWorkers");
    try {
      rig.fleet.slot(1).die({ code: 1, signal: null });
      await waitFor(() => rig.fleet.started.length === 2, "a restart that worked");
      assert.equal(failures, 2);
      const errors = errorLines(rig.log());
      assert.equal(errors.length, 3);
      assert.match(errors[1].msg, /Failed to spawn 'deno'/);
      assert.match(errors[2].msg, /Failed to spawn 'deno'/);
      assert.equal(supervisor.restarts, 1);
    } finally {
      await cleanUp(supervisor);
    }
  },
});

Deno.test({
  name: "startWorkers() kills the workers already started when start() throws for another",
  fn: async () => {
    const rig = createRig(3, { onStart: (w) => w.printReady() });
    rig.options.start = (index) => {
      if (index === 2) throw new Error("Failed to spawn 'deno': Resource temporarily unavailable");
      return rig.fleet.start(index);
    };
    await assert.rejects(
      within(startWorkers(rig.options), 10_000, "startWorkers"),
      new Error("Failed to spawn 'deno': Resource temporarily unavailable"),
    );
    assert.equal(rig.fleet.started.length, 1);
    assert.deepEqual(rig.fleet.slot(1).signals, ["SIGKILL"]);
    assert.deepEqual(rig.fleet.slot(1).exit, KILLED);
  },
});

Deno.test({
  name:
    "startWorkers() fails a worker whose stdout ends before its ready line, even if it lives on",
  fn: async () => {
    const rig = createRig(2);
    const starting = startWorkers(rig.options);
    rig.fleet.slot(1).printReady();
    rig.fleet.slot(2).endStdout();
    await assert.rejects(
      within(starting, 10_000, "startWorkers"),
      /^Error: worker 2 .* before it was ready; stopped the others$/,
    );
    assert.deepEqual(rig.fleet.slot(1).signals, ["SIGKILL"]);
    assert.deepEqual(rig.fleet.slot(2).signals, ["SIGKILL"]);
  },
});

Deno.test({
  name: "startWorkers() rejects a number of workers below 1 with a RangeError",
  fn: async () => {
    for (const workers of [0, -1, 1.5, NaN]) {
      const rig = createRig(workers);
      await assert.rejects(
        within(startWorkers(rig.options), 10_000, `workers: ${workers}`),
        RangeError,
      );
      assert.equal(rig.fleet.started.length, 0);
    }
  },
});

// ---------------------------------------------------------------------------
// Flags and the Deno to run

Deno.test("workerDenoFlags() adds exactly --allow-write=PATH for an SQLite notes store", () => {
  assert.deepEqual(workerDenoFlags("sqlite:/var/lib/routeguide/notes.db"), [
    ...WORKER_DENO_FLAGS,
    "--allow-write=/var/lib/routeguide/notes.db",
  ]);
  assert.deepEqual(workerDenoFlags("sqlite:notes.db"), [
    ...WORKER_DENO_FLAGS,
    "--allow-write=notes.db",
  ]);
});

Deno.test("workerDenoFlags() adds nothing for memory and PostgreSQL notes", () => {
  for (
    const notes of [
      "memory",
      "postgres://routeguide:secret@db.example:5432/routeguide",
      "postgresql://localhost/routeguide",
    ]
  ) {
    assert.deepEqual(workerDenoFlags(notes), [...WORKER_DENO_FLAGS], notes);
  }
});

Deno.test("workerDenoFlags() returns a new array each time, never WORKER_DENO_FLAGS itself", () => {
  const before = [...WORKER_DENO_FLAGS];
  for (const notes of ["memory", "sqlite:/tmp/n.db"]) {
    const flags = workerDenoFlags(notes);
    assert.notEqual(flags, WORKER_DENO_FLAGS);
    flags.push("--allow-all");
    assert.notEqual(workerDenoFlags(notes), flags);
  }
  assert.deepEqual(WORKER_DENO_FLAGS, before);
});

Deno.test("WORKER_DENO_FLAGS are the flags of `deno task server` less --allow-run", () => {
  assert.ok(
    SERVER_FLAGS.some((f) => f.startsWith("--allow-run")),
    "the server task has --allow-run",
  );
  assert.deepEqual(
    [...WORKER_DENO_FLAGS],
    SERVER_FLAGS.filter((f) => f !== "--allow-run" && !f.startsWith("--allow-run=")),
  );
});

Deno.test("findDenoForWorkers() returns this Deno when it may run it by its path", async () => {
  assert.equal(await findDenoForWorkers(), Deno.execPath());
});

// A run permission for other programs does not cover this Deno. (Not
// ["deno"]: from 2.9 on, Deno resolves a permitted name on PATH, and there
// `deno` is usually this very binary.)
for (const run of [false, ["sh"]]) {
  Deno.test({
    name: `findDenoForWorkers() with run permission ${JSON.stringify(run)} says to use --allow-run`,
    permissions: { run },
    fn: async () => {
      await assert.rejects(
        findDenoForWorkers(),
        new Error(
          `cannot start workers: run with --allow-run (--workers starts this Deno, ` +
            `${Deno.execPath()}, once per worker)`,
        ),
      );
    },
  });
}

// ---------------------------------------------------------------------------
// Real processes

/** Writes a script to a new temporary directory; removed on dispose. */
async function scratchScript(source: string): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "supervisor_test_" });
  const path = `${dir}/child.ts`;
  await Deno.writeTextFile(path, source);
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("spawnWorker() runs a child whose stdout lines, kill and exit status reach the WorkerProcess", async () => {
  await using script = await scratchScript(`
    console.log("starting");
    console.log("listening on 127.0.0.1:1 (2 features)");
    const buffer = new Uint8Array(64);
    while (await Deno.stdin.read(buffer) !== null) { /* until stdin closes */ }
  `);
  const worker = spawnWorker({
    deno: Deno.execPath(),
    denoFlags: [],
    script: script.path,
    args: [],
    env: {},
  });
  assert.ok(worker.pid > 0);
  const lines = worker.lines[Symbol.asyncIterator]();
  assert.deepEqual(await within(lines.next(), 20_000, "line 1"), {
    value: "starting",
    done: false,
  });
  const second = await within(lines.next(), 20_000, "line 2");
  assert.equal(second.value, "listening on 127.0.0.1:1 (2 features)");
  assert.deepEqual(parseReadyLine(second.value), { address: "127.0.0.1:1", features: 2 });
  worker.kill("SIGTERM");
  assert.deepEqual(await within(worker.status, 20_000, "status"), { code: 143, signal: "SIGTERM" });
  assert.deepEqual(await within(lines.next(), 20_000, "end of lines"), {
    value: undefined,
    done: true,
  });
  // Once it has exited, kill() does nothing (and does not throw).
  worker.kill("SIGKILL");
  await drain();
});

Deno.test("spawnWorker() passes flags, the script's arguments and env, and splits CRLF and unterminated lines", async () => {
  await using script = await scratchScript(`
    const out = (s: string) => Deno.stdout.writeSync(new TextEncoder().encode(s));
    out(JSON.stringify(Deno.args) + "\\r\\n");
    out(Deno.env.get("SUPERVISOR_TEST_WORKER") + "\\n");
    out("no line end");
  `);
  const worker = spawnWorker({
    deno: Deno.execPath(),
    denoFlags: ["--allow-env=SUPERVISOR_TEST_WORKER"],
    script: script.path,
    args: ["--port", "0", "a b"],
    env: { SUPERVISOR_TEST_WORKER: "7" },
  });
  const lines: string[] = [];
  await within(
    (async () => {
      for await (const line of worker.lines) lines.push(line);
    })(),
    5000,
    "the lines",
  );
  assert.deepEqual(lines, ['["--port","0","a b"]', "7", "no line end"]);
  assert.deepEqual(await worker.status, { code: 0, signal: null });
});

Deno.test("stdinClosed() resolves in a child when its parent closes the child's stdin", async () => {
  const supervisorUrl = new URL("../../lib/server/supervisor.ts", import.meta.url).href;
  await using script = await scratchScript(`
    import { stdinClosed } from ${JSON.stringify(supervisorUrl)};
    console.log("waiting");
    await stdinClosed();
    console.log("closed");
  `);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", script.path],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = new TextLineReader(child.stdout);
  try {
    assert.equal(await within(lines.next(), 20_000, "waiting"), "waiting");
    // Still waiting while stdin is open, data included: 1 MiB is more than a pipe holds, so the
    // write completes only if the child kept reading, and fails if it exited early.
    const next = lines.next();
    const state = track(next);
    const stdin = child.stdin.getWriter();
    await within(stdin.write(new Uint8Array(1 << 20)), 20_000, "the child to read 1 MiB");
    assert.equal(state.settled, false, "stdinClosed() resolved with stdin still open");
    await stdin.close();
    assert.equal(await within(next, 20_000, "closed"), "closed");
    assert.equal(await within(lines.next(), 20_000, "end"), undefined);
    const status = await within(child.status, 20_000, "exit");
    assert.deepEqual([status.code, status.signal], [0, null]);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }
});

Deno.test("stdinClosed() resolves at once when stdin is already at its end", async () => {
  const supervisorUrl = new URL("../../lib/server/supervisor.ts", import.meta.url).href;
  await using script = await scratchScript(`
    import { stdinClosed } from ${JSON.stringify(supervisorUrl)};
    await stdinClosed();
    console.log("closed");
  `);
  const { code, stdout } = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["run", script.path],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output(),
    5000,
    "the child",
  );
  assert.equal(code, 0);
  assert.equal(new TextDecoder().decode(stdout), "closed\n");
});
