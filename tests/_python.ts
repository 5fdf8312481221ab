/**
 * Finds the Python that the interop tests drive (Debian's, with grpcio),
 * registers the tests that need it, and runs their check scripts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isCi } from "./_env.ts";
import { type ProcessRun, runProcess } from "./_process.ts";

/** How to get a Python the interop tests can use. */
const INSTALL_HINT = "apt-get install python3-grpcio python3-grpc-tools";

/** Finds a Python that can `import grpc, grpc_tools`, or says why there is none. */
export function findPython(): { python?: string; reason: string } {
  const reasons: string[] = [];
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    try {
      const out = new Deno.Command(candidate, {
        args: ["-c", "import grpc, grpc_tools"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).outputSync();
      if (out.success) return { python: candidate, reason: "" };
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
      reasons.push(`${candidate}: ${err || `exit code ${out.code}`}`);
    } catch (error) {
      reasons.push(`${candidate}: ${(error as Error).message}`);
    }
  }
  return { reason: reasons.join("; ") };
}

/** What a Python script run by {@linkcode runPython} did. */
export type PythonRun = ProcessRun;

/** Runs a Python script, killing it after `timeoutMs`. */
export function runPython(
  python: string,
  args: string[],
  timeoutMs: number,
): Promise<PythonRun> {
  return runProcess(python, args, {
    timeoutMs,
    env: { PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
  });
}

/**
 * Registers a test that drives Python: with no usable Python it is ignored
 * (saying how to install one), or fails under `CI=true`. `register` defines
 * the test when there is one (e.g. a wrapper that also needs openssl).
 */
export function pythonTest(
  name: string,
  fn: (python: string) => Promise<void>,
  options: { register?: (name: string, fn: () => Promise<void>) => void } = {},
): void {
  const found = findPython();
  if (found.python !== undefined) {
    const python = found.python;
    (options.register ?? Deno.test)(name, () => fn(python));
    return;
  }
  const message = `no Python with grpc and grpc_tools (${found.reason}); ` +
    `install them with \`${INSTALL_HINT}\``;
  if (isCi()) {
    Deno.test(name, () => {
      assert.fail(`CI=true but ${message}`);
    });
  } else {
    console.log(`skipping "${name}": ${message} to enable it`);
    Deno.test({ name, ignore: true, fn() {} });
  }
}

/** Options for {@linkcode assertPythonChecksPass}. */
export interface PythonChecksOptions {
  /** What the script's last line starts with, e.g. `python interop` for `python interop: 9 passed, 0 failed`. */
  summary: string;
  /**
   * Milliseconds the script may run before it is killed.
   * @default {60000}
   */
  timeoutMs?: number;
  /** More to show when it fails, e.g. the servers' stderr. */
  context?: () => string;
}

/** Runs a check script and asserts that it exited 0 having passed some checks and failed none. */
export async function assertPythonChecksPass(
  python: string,
  args: string[],
  options: PythonChecksOptions,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const { code, stdout, stderr, timedOut } = await runPython(python, args, timeoutMs);
  const details = `${python} ${args.join(" ")}\n--- stdout ---\n${stdout}\n` +
    `--- stderr ---\n${stderr}\n${options.context?.() ?? ""}`;
  assert.ok(!timedOut, `the Python client was killed after ${timeoutMs} ms\n${details}`);
  assert.equal(code, 0, `the Python client exited with ${code}\n${details}`);
  const summary = new RegExp(`^${options.summary}: [1-9]\\d* passed, 0 failed$`, "m");
  assert.match(stdout, summary, `no "0 failed" summary line\n${details}`);
}
