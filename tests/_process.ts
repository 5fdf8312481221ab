/**
 * Runs an independent client (Python, Go, curl...) as a child process with a
 * time limit, collecting its output.
 *
 * @module
 */

/** What a process run by {@linkcode runProcess} did. */
export interface ProcessRun {
  /** Exit code (meaningless when `timedOut`). */
  code: number;
  stdout: string;
  stderr: string;
  /** Whether it was killed for running past the time limit. */
  timedOut: boolean;
}

/** Options for {@linkcode runProcess}. */
export interface RunProcessOptions {
  /** Kill the process (SIGKILL) after this many milliseconds. */
  timeoutMs: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
}

/** Runs `command` with `args`, stdin closed, killing it after `options.timeoutMs`. */
export async function runProcess(
  command: string,
  args: string[],
  options: RunProcessOptions,
): Promise<ProcessRun> {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs);
  try {
    const output = await child.output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return {
      code: output.code,
      stdout: decode(output.stdout),
      stderr: decode(output.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}
