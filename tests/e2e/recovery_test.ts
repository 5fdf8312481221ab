/**
 * Recovery from a crash, against the real server process: under a load of
 * GetFeature and ListFeatures calls, the server is killed with SIGKILL and
 * started again on the same port. The client library's retry policy
 * (RETRY_SERVICE_CONFIG: UNAVAILABLE, 5 attempts, 0.1 s doubling to 1 s)
 * must hide the gap: no GetFeature, and no ListFeatures that had not yet
 * received a message, may fail, and the same client object must reconnect
 * by itself. The replacement is a warm standby process (see
 * {@linkcode startStandby}) that binds the port 0.3 s after the kill. Calls
 * in flight at the kill are the ignored test (a bug, see there); calls made
 * while the server is down are the active one. Also: the CLI reports an
 * address with no server (exit 3) within seconds, not at its 10 s deadline.
 *
 * @module
 */

import assert from "node:assert/strict";
import { codeName, RpcError } from "../../lib/core/rpc_error.ts";
import { createRouteGuideClient, type RouteGuideClient } from "../../lib/grpc/client.ts";
import { collectText, TextLineReader } from "../_lines.ts";
import { ROOT, runClientProcess, type ServerProcess, startServer } from "../_server.ts";
import { sleep, waitFor, within } from "../_async.ts";
import { EMPIRE_STATE, EMPIRE_STATE_NAME, LOWER_MANHATTAN } from "../_places.ts";
import { freePort } from "../_env.ts";

/** A server process started ahead of time that binds only when told. */
interface Standby extends AsyncDisposable {
  /** Runs the server's `main` now; resolves once it printed its ready line. */
  go(): Promise<void>;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
}

/**
 * The restart, made fast: a cold `deno run server.ts` takes 0.4 s on an idle
 * machine here and up to 1 s under load, too close to the retry window (1.3
 * to 1.7 s measured, reconnect backoff included) for a test that must not
 * flake. The standby is a separate process that has already loaded
 * `server.ts` (imported, not run) and calls its real `main(args)` when told,
 * which binds within ~0.1 s. (`deno eval` runs it, with all permissions.)
 */
async function startStandby(args: string[]): Promise<Standby> {
  const code = `
    import { main } from ${JSON.stringify(new URL("../../server.ts", import.meta.url).href)};
    console.log("warm");
    const reader = Deno.stdin.readable.getReader();
    await reader.read();
    reader.releaseLock();
    Deno.exit(await main(${JSON.stringify(args)}));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const err = collectText(child.stderr);
  const lines = new TextLineReader(child.stdout);
  const stdin = child.stdin.getWriter();
  const expectLine = async (pattern: RegExp, what: string) => {
    const line = await within(lines.next(), 20_000, what).catch((error) => `${error}`);
    assert.match(line ?? "(end of output)", pattern, `${what}; stderr:\n${err.text()}`);
  };
  const dispose = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await stdin.close().catch(() => {});
    await child.status;
    await err.done;
    while (await lines.next() !== undefined) { /* drain */ }
  };
  try {
    await expectLine(/^warm$/, "the standby server did not load");
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    async go() {
      await stdin.write(new TextEncoder().encode("go\n"));
      await expectLine(/^listening on /, "the standby server did not start");
    },
    stderr: err.text,
    [Symbol.asyncDispose]: dispose,
  };
}

/** What the load saw. */
interface LoadReport {
  /** Calls that completed, and when (ms since the epoch). */
  completedAt: number[];
  /** Failures the retry policy should have hidden. */
  errors: string[];
  /** ListFeatures that failed after their first message (not retryable; reported only). */
  midStreamFailures: string[];
  /** The slowest successful call, ms. */
  slowestMs: number;
}

/** A load running: its report fills in as calls end; `finished` settles once every loop stopped. */
interface Load {
  report: LoadReport;
  finished: Promise<LoadReport>;
}

/** Runs GetFeature and ListFeatures loops until `stop` aborts. */
function runLoad(client: RouteGuideClient, stop: AbortSignal): Load {
  const report: LoadReport = { completedAt: [], errors: [], midStreamFailures: [], slowestMs: 0 };
  const describe = (error: unknown) =>
    error instanceof RpcError ? `${codeName(error.code)}: ${error.message}` : String(error);
  const done = (started: number) => {
    report.completedAt.push(Date.now());
    report.slowestMs = Math.max(report.slowestMs, Date.now() - started);
  };
  const getLoop = async () => {
    while (!stop.aborted) {
      const started = Date.now();
      try {
        const feature = await client.getFeature(EMPIRE_STATE, { deadline: started + 10_000 });
        if (feature.name !== EMPIRE_STATE_NAME) {
          report.errors.push(`GetFeature answered ${JSON.stringify(feature.name)}`);
        }
        done(started);
      } catch (error) {
        report.errors.push(`GetFeature at +${Date.now() - started} ms: ${describe(error)}`);
      }
      await sleep(5);
    }
  };
  const listLoop = async () => {
    while (!stop.aborted) {
      const started = Date.now();
      let received = 0;
      try {
        for await (
          const _ of client.listFeatures(LOWER_MANHATTAN, { deadline: started + 10_000 })
        ) received++;
        if (received === 0) report.errors.push("ListFeatures returned nothing");
        done(started);
      } catch (error) {
        const line = `ListFeatures after ${received} message(s), at +${Date.now() - started} ms: ${
          describe(error)
        }`;
        (received === 0 ? report.errors : report.midStreamFailures).push(line);
      }
      await sleep(5);
    }
  };
  const finished = Promise.all([getLoop(), getLoop(), getLoop(), getLoop(), listLoop(), listLoop()])
    .then(() => report);
  return { report, finished };
}

/** How long after the SIGKILL the replacement binds the port. */
const DOWNTIME_MS = 300;

/**
 * Starts a server on a port picked by {@linkcode freePort}. The port is
 * free only a moment ago: should another process take it first, the server
 * fails to start and another port is tried (five times at most).
 */
async function startOnFreePort(): Promise<{ port: number; server: ServerProcess }> {
  for (let attempt = 1;; attempt++) {
    const port = freePort();
    try {
      return { port, server: await startServer({ args: ["--port", String(port)] }) };
    } catch (error) {
      if (attempt === 5) throw error;
      console.log(`recovery: port ${port} was taken (${(error as Error).message}); another`);
    }
  }
}

/**
 * Starts the real server on a fixed port, SIGKILLs it, and binds a
 * replacement on the same port {@linkcode DOWNTIME_MS} later, while the same
 * client keeps calling: from before the kill (`inFlightAtKill`), or only
 * from shortly after it. Asserts that no retryable call failed and that the
 * client reconnected by itself.
 */
async function crashAndRestart(inFlightAtKill: boolean): Promise<void> {
  const { port, server } = await startOnFreePort();
  const crashed: ServerProcess = server;
  await using standby = await startStandby(["--host", "127.0.0.1", "--port", String(port)]);
  const client = createRouteGuideClient(`127.0.0.1:${port}`);
  const stop = new AbortController();
  let load: Load | undefined;
  try {
    // startServer passes "--port 0" first; the later flag must win.
    assert.equal(crashed.port, port, crashed.readyLine);
    const first = await client.getFeature(EMPIRE_STATE, { deadline: Date.now() + 10_000 });
    assert.equal(first.name, EMPIRE_STATE_NAME);

    if (inFlightAtKill) {
      const running = runLoad(client, stop.signal);
      load = running;
      // Every loop has had time for a couple of calls: some are in flight.
      await waitFor(() => running.report.completedAt.length >= 12, "the load to get going");
    }
    const killedAt = Date.now();
    const status = await crashed.stop("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
    if (!inFlightAtKill) {
      // Calls start once the client has seen its connection close.
      await sleep(100);
      load = runLoad(client, stop.signal);
    }
    await sleep(killedAt + DOWNTIME_MS - Date.now());
    await standby.go();
    const restartedAt = Date.now();
    const restartMs = restartedAt - killedAt;
    // Let the load run well past the retries' longest backoff: until a call
    // completes 1.5 s after the restart.
    const { report: live } = load!;
    await waitFor(
      () => live.completedAt.some((t) => t > restartedAt + 1500),
      "a call to complete 1.5 s after the restart",
    ).catch(() => {/* the assertions below say what went wrong */});
    stop.abort();
    const report = await load!.finished;
    load = undefined;

    const before = report.completedAt.filter((t) => t < killedAt).length;
    const after = report.completedAt.filter((t) => t > restartedAt + 1500).length;
    const text = `port bound again ${restartMs} ms after the kill; ` +
      `${before} calls completed before the kill, ${after} from 1.5 s after the restart; ` +
      `slowest call ${report.slowestMs} ms; ` +
      `${report.midStreamFailures.length} ListFeatures cut mid-stream`;
    console.log(`recovery: ${text}`);
    assert.deepEqual(
      report.errors,
      [],
      `${report.errors.length} errors reached the caller (${text})`,
    );
    if (inFlightAtKill) assert.ok(before > 0, `no calls completed before the kill (${text})`);
    else assert.deepEqual(report.midStreamFailures, [], text);
    // The same client object reconnected without help.
    assert.ok(after > 0, `no calls completed after the restart (${text})`);
  } finally {
    stop.abort();
    await load?.finished.catch(() => {});
    client.close();
    await crashed.stop("SIGKILL");
  }
}

// Calls IN FLIGHT at the moment of the SIGKILL, measured on Deno 2.8.3 +
// grpc-js 1.14.7, used to reach the caller as errors in 6 of 23 runs:
//  1. `INTERNAL: ... write EPIPE` with no response headers yet: Deno's
//     node:http2 client reports the dead peer as EPIPE, which grpc-js maps to
//     INTERNAL, outside a retry policy of UNAVAILABLE only. The client library
//     tries those again itself, telling them from a server's own INTERNAL by
//     grpc-js's wording (lib/grpc/client.ts, isTransportFailure).
//  2. `UNAVAILABLE: read ECONNRESET` / `Connection dropped` on calls that had
//     their reply but not yet the trailers: grpc-js has committed them and
//     never retries. The client library tries those read-only calls again
//     itself (lib/grpc/client.ts, retryOnTransportError).
Deno.test({
  name: "recovery: calls in flight when the server is SIGKILLed and restarted surface no errors",
  fn: () => crashAndRestart(true),
});

Deno.test(
  "recovery: calls made while a SIGKILLed server restarts on its port all succeed; the client reconnects by itself",
  () => crashAndRestart(false),
);

Deno.test("recovery: the CLI reports no server at an address (exit 3) within seconds, not at its 10 s deadline", async () => {
  const port = freePort();
  const started = Date.now();
  const result = await within(
    runClientProcess(["--target", `127.0.0.1:${port}`, "get", "40.7484", "-73.9857"]),
    30_000,
    "the CLI",
  );
  const took = Date.now() - started;
  console.log(`recovery: the CLI gave up on 127.0.0.1:${port} after ${took} ms`);
  assert.equal(result.code, 3, `${result.stdout}\n${result.stderr}`);
  assert.match(
    result.stderr,
    new RegExp(`cannot reach a RouteGuide server at 127\\.0\\.0\\.1:${port}`),
  );
  // Its retries give up after about 1.5 s; the rest is the process's own
  // start, seconds on a busy machine. Waiting out the 10 s deadline would
  // take longer (and end in DEADLINE_EXCEEDED, not exit 3).
  assert.ok(took < 10_000, `took ${took} ms`);
});
