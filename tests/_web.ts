/**
 * Test helpers for the web protocols (gRPC-Web and Connect, over HTTP/1.1
 * and h2c): the server the web interop tests call, and what RouteGuide
 * answers from the project's database.
 *
 * The server is ours, started by the test on port 0, unless the
 * environment variable `ROUTEGUIDE_WEB_REFERENCE` names an already-running
 * one (`http://127.0.0.1:PORT`): then the tests call that reference
 * instead, to check that the tests themselves are right. The reference is
 * connect-es on Node (`../shared/peers/connect-node`), started with
 * `--db data/route_guide_db.json --proto protos/route_guide.proto`; nothing
 * here runs it or reads from it.
 *
 * @module
 */

import { createFeatureDb } from "../lib/core/feature_index.ts";
import { type RouteGuideServer, serve } from "../lib/server/serve.ts";
import { ROOT, SERVER_FLAGS, startServer } from "./_server.ts";

/** The environment variable that points the web tests at a reference server. */
export const REFERENCE_ENV = "ROUTEGUIDE_WEB_REFERENCE";

/** The project's fixed feature database. */
export const DB_PATH = `${ROOT}data/route_guide_db.json`;

/** The reference server's base URL, when the tests run against one. */
export function webReference(): string | undefined {
  const value = Deno.env.get(REFERENCE_ENV);
  if (value === undefined || value === "") return undefined;
  if (!/^http:\/\/[^/]+:\d+$/.test(value)) {
    throw new Error(`${REFERENCE_ENV}=${value}: expected http://HOST:PORT`);
  }
  return value;
}

/** Whether the web tests run against the reference rather than our server. */
export const AGAINST_REFERENCE: boolean = webReference() !== undefined;

/** A server the web tests call. */
export interface WebTarget extends AsyncDisposable {
  /** `http://HOST:PORT`, no trailing slash. */
  baseUrl: string;
  /** The host name or address. */
  host: string;
  /** The port. */
  port: number;
  /** Our server's process id when it runs as a child process; unknown for the reference. */
  pid?: number;
  /** Calls in flight on our in-process server; only with `inProcess`. */
  inFlight?: () => number;
  /** Our server's stderr so far (empty for the reference and in process), for failure messages. */
  stderr(): string;
}

/** Options for {@linkcode startWebTarget}. */
export interface WebTargetOptions {
  /**
   * The feature database our server loads (the reference has its own).
   * @default {DB_PATH}
   */
  db?: string;
  /**
   * Run our server in this process, so that its calls in flight can be read.
   * @default {false}
   */
  inProcess?: boolean;
  /** Extra flags for our server's process. */
  args?: string[];
}

/** Parses `http://HOST:PORT` into its parts. */
function targetOf(baseUrl: string): { host: string; port: number } {
  const url = new URL(baseUrl);
  return { host: url.hostname, port: Number(url.port) };
}

/** Our server in this process, on a free loopback port, with the features of `db`. */
async function serveInProcess(db: string): Promise<WebTarget> {
  const features = JSON.parse(await Deno.readTextFile(db));
  const server: RouteGuideServer = await serve({
    db: createFeatureDb(features).db,
    host: "127.0.0.1",
    port: 0,
  });
  const baseUrl = `http://127.0.0.1:${server.port}`;
  return {
    baseUrl,
    ...targetOf(baseUrl),
    inFlight: () => server.inFlight,
    stderr: () => "",
    async [Symbol.asyncDispose]() {
      await server.shutdown(1000);
    },
  };
}

/** The reference as a target: nothing to start or stop. */
function referenceTarget(baseUrl: string): WebTarget {
  return {
    baseUrl,
    ...targetOf(baseUrl),
    stderr: () => "",
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

/** Reads a child's stdout up to its first line, then lets go of the pipe. */
async function firstLine(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.split("\n")[0];
}

/**
 * One server for a whole test module, on the project's database (unless
 * `args` name another, with any other server flags): call it at the
 * module's top level, so the server starts before any test (Deno's
 * sanitizers then count none of it against one) and each case costs no
 * start-up. It is killed when the module unloads; its stderr goes to the
 * test's. With {@linkcode REFERENCE_ENV} set, the reference instead.
 */
export async function startSharedWebTarget(args: readonly string[] = []): Promise<WebTarget> {
  const reference = webReference();
  if (reference !== undefined) return referenceTarget(reference);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...SERVER_FLAGS,
      `${ROOT}server.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  // The server prints only its ready line on stdout, so the pipe can go after it.
  const startTimer = setTimeout(kill, 30_000);
  const ready = await firstLine(child.stdout).finally(() => clearTimeout(startTimer));
  const port = ready.match(/^listening on \S+:(\d+) /)?.[1];
  if (port === undefined) {
    kill();
    await child.status;
    throw new Error(`the shared server did not start: ${ready || "(no output)"}`);
  }
  child.unref();
  globalThis.addEventListener("unload", kill);
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    ...targetOf(baseUrl),
    pid: child.pid,
    stderr: () => "",
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

/**
 * The server a web test calls: the reference when {@linkcode REFERENCE_ENV}
 * is set, else our server started for this test (use with `await using`).
 */
export async function startWebTarget(options: WebTargetOptions = {}): Promise<WebTarget> {
  const reference = webReference();
  if (reference !== undefined) return referenceTarget(reference);
  const db = options.db ?? DB_PATH;
  if (options.inProcess === true) return await serveInProcess(db);
  const server = await startServer({ args: ["--db", db, ...(options.args ?? [])] });
  const baseUrl = `http://${server.target}`;
  return {
    baseUrl,
    ...targetOf(baseUrl),
    pid: server.process.pid,
    stderr: server.stderr,
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

/**
 * Registers a web test; when `notOnReference` gives a reason, the test is
 * ignored under the reference (where the reference legitimately differs
 * from what we require, or the test needs our server's insides).
 */
export function webTest(
  name: string,
  fn: () => Promise<void>,
  notOnReference?: string,
): void {
  if (AGAINST_REFERENCE && notOnReference !== undefined) {
    Deno.test({ name: `${name} (ignored on the reference: ${notOnReference})`, ignore: true, fn });
    return;
  }
  Deno.test(name, fn);
}
