/**
 * Test helpers: start the real server as a child process on a free port and
 * read its address from the ready line.
 *
 * @module
 */

import { collectText, TextLineReader } from "./_lines.ts";
import { waitFor } from "./_async.ts";
import { createFeatureDb } from "../lib/core/feature_index.ts";
import { type RouteGuideServer, serve } from "../lib/server/serve.ts";
import { serverDenoFlags, taskDenoFlags } from "../lib/server/deno_flags.ts";

/** The project root, as a path. */
export const ROOT: string = decodeURIComponent(new URL("../", import.meta.url).pathname);

/**
 * The flags `deno task server` runs `server.ts` with (permissions, V8
 * settings), from deno.json, so the tests run the server exactly as users do.
 */
export const SERVER_FLAGS: string[] = serverDenoFlags();

/** The flags `deno task client` runs `client.ts` with. */
export const CLIENT_FLAGS: string[] = taskDenoFlags("client");

/** A server process started by {@linkcode startServer}. */
export interface ServerProcess extends AsyncDisposable {
  /** `127.0.0.1:PORT`, ready for a client. */
  target: string;
  /** The port it listens on. */
  port: number;
  /** The child process. */
  process: Deno.ChildProcess;
  /** The ready line as printed. */
  readyLine: string;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Options for {@linkcode startServer}. */
export interface StartServerOptions {
  /** Extra server flags, e.g. `["--db", path]`. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Extra Deno flags before `server.ts`, e.g. `["--allow-write=/tmp/x"]`. */
  denoFlags?: string[];
}

/**
 * Starts `server.ts` on 127.0.0.1 port 0 and resolves once it printed its
 * ready line. Use with `await using` so the process is always stopped.
 */
export async function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...SERVER_FLAGS,
      ...(options.denoFlags ?? []),
      `${ROOT}server.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...(options.args ?? []),
    ],
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const err = collectText(child.stderr);
  const lines = new TextLineReader(child.stdout);
  const readyLine = await lines.next();
  // Keep draining stdout so the child never blocks on a full pipe.
  const outDone = (async () => {
    while (await lines.next() !== undefined) { /* discard */ }
  })();
  const match = readyLine?.match(/^listening on (\S+):(\d+) \((\d+) features(?:, \d+ workers)?\)$/);
  if (!match) {
    await child.status;
    await err.done;
    throw new Error(`server did not start: ${readyLine ?? "(no output)"}\n${err.text()}`);
  }
  const port = Number(match[2]);
  let status: Promise<Deno.CommandStatus> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") => {
    status ??= (async () => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const s = await child.status;
      await Promise.all([err.done, outDone]);
      return s;
    })();
    return status;
  };
  return {
    target: `127.0.0.1:${port}`,
    port,
    process: child,
    readyLine: readyLine!,
    stderr: err.text,
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}

/** Runs the CLI client with arguments; resolves to its exit code and output. */
export async function runClientProcess(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CLIENT_FLAGS, `${ROOT}client.ts`, ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/**
 * Resolves once the server's stderr matches `pattern`, with the match;
 * rejects, showing the stderr, when it has not after `ms`.
 */
export async function waitForStderr(
  server: ServerProcess,
  pattern: RegExp,
  ms = 10_000,
): Promise<RegExpMatchArray> {
  let match: RegExpMatchArray | null = null;
  try {
    await waitFor(() => (match = server.stderr().match(pattern)) !== null, `${pattern}`, ms);
  } catch {
    throw new Error(`no ${pattern} on the server's stderr within ${ms} ms:\n${server.stderr()}`);
  }
  return match!;
}

/**
 * Serves, in process on a free loopback port,
 * two features: "A" at (10, 10) and "B" at (20, 20) (E7 units).
 */
export function serveTwoFeatures(): Promise<RouteGuideServer> {
  const features = [
    { name: "A", location: { latitude: 10, longitude: 10 } },
    { name: "B", location: { latitude: 20, longitude: 20 } },
  ];
  return serve({
    db: createFeatureDb(features).db,
    host: "127.0.0.1",
    port: 0,
  });
}
