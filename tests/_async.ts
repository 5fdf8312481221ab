/**
 * Small async helpers the tests share.
 *
 * @module
 */

/** Every single step of a test (a call, a log line, an exit) must finish within this. */
export const STEP_MS = 10_000;

/** A call deadline one {@linkcode STEP_MS} from now. */
export const deadline = (): number => Date.now() + STEP_MS;

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Collects every item of an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Rejects with a message after `ms`; the timer never outlives the promise. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `condition` (sync or async) every few milliseconds until it holds;
 * fails after `timeoutMs` saying what it waited for (`what` may be a
 * function, read at the time of failure, to show the state then). An error
 * the condition throws ends the wait at once. The one polling helper of the
 * tests: wait for the event itself, with a generous bound.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) {
      const said = typeof what === "string" ? what : what();
      throw new Error(`timed out after ${timeoutMs} ms: ${said}`);
    }
    await sleep(5);
  }
}
