/**
 * Finds the Python that the interop tests drive (Debian's, with grpcio).
 *
 * @module
 */

import { type ProcessRun, runProcess } from "./_process.ts";

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

/** Whether this runs in CI (`CI=true`), where a missing tool fails instead of skipping. */
export function isCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
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
