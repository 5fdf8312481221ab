/**
 * Whether a worker process is ready: its ready line (`listening on
 * HOST:PORT (N features)`) read from its stdout, and the signals held for
 * it until then (a process not yet listening for SIGHUP would be ended by
 * one). Knows nothing of how processes are started.
 *
 * @module
 */

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

/**
 * Waits for a worker's ready line, passing other lines to `output`, and
 * keeps reading its stdout afterwards (so it never blocks on a full pipe).
 * Resolves to `undefined` when the worker exits without one.
 */
export function readReady(
  worker: { readonly lines: AsyncIterable<string> },
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
 * The index of the first worker found not ready (its promise settled with
 * `undefined`), or -1 once every one is ready.
 */
export function firstNotReady(readies: Promise<WorkerReady | undefined>[]): Promise<number> {
  return new Promise<number>((resolve) => {
    let pending = readies.length;
    readies.forEach((ready, i) =>
      ready.then((r) => {
        if (r === undefined) resolve(i);
        else if (--pending === 0) resolve(-1);
      })
    );
  });
}

/** Signals for one process, sent at once when it is ready, held until then. */
export class HeldSignals {
  readonly #process: { kill(signal: Deno.Signal): void };
  readonly #held = new Set<Deno.Signal>();
  #ready = false;

  /** Signals for `process`, which is not ready yet. */
  constructor(process: { kill(signal: Deno.Signal): void }) {
    this.#process = process;
  }

  /** Whether the process printed its ready line. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Sends `signal` now if the process is ready; otherwise holds it (once) until it is. */
  send(signal: Deno.Signal): void {
    if (this.#ready) this.#process.kill(signal);
    else this.#held.add(signal);
  }

  /** The process is ready: the held signals go out. */
  markReady(): void {
    this.#ready = true;
    for (const signal of this.#held) this.#process.kill(signal);
    this.#held.clear();
  }
}
