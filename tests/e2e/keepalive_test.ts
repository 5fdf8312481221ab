/**
 * Keepalive and idle connections, against the real server process:
 *
 * - a client process frozen with SIGSTOP in the middle of a RouteChat stops
 *   answering pings; with `--keepalive 1 --keepalive-timeout 1` the server
 *   must drop that connection and forget the call within 10 s. Observed
 *   through the shutdown log line `SIGTERM: shutting down; N calls in
 *   flight`; a control run without short keepalive shows the same frozen
 *   call still counted, so the observable really sees it;
 * - `--max-connection-idle 1` closes a connection without calls (seen by a
 *   raw `node:http2` session) but never one with a call open.
 *
 * The frozen client is a separate process (tests/fixtures/hold_stream.ts):
 * freezing a client inside the test process would freeze the test too.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect as http2Connect } from "node:http2";
import { createRouteGuideClient, type RouteNote } from "../../lib/grpc/client.ts";
import { collectText, TextLineReader } from "../_lines.ts";
import { CLIENT_FLAGS, ROOT, type ServerProcess, startServer } from "../_server.ts";
import { sleep, STEP_MS, waitFor, within } from "../_async.ts";
import { EMPIRE_STATE } from "../_places.ts";

const HOLDER = `${ROOT}tests/fixtures/hold_stream.ts`;
/** How long the server may take to reclaim a frozen client's connection. */
const RECLAIM_MS = 10_000;

/** A client process holding one RouteChat open; see tests/fixtures/hold_stream.ts. */
interface Holder extends AsyncDisposable {
  child: Deno.ChildProcess;
  stderr(): string;
}

/** Starts the holder and resolves once its call is live on the server ("ready"). */
async function startHolder(server: ServerProcess): Promise<Holder> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CLIENT_FLAGS, HOLDER, server.target, "60"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const err = collectText(child.stderr);
  const lines = new TextLineReader(child.stdout);
  const dispose = async () => {
    for (const signal of ["SIGCONT", "SIGKILL"] as const) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    }
    await child.status;
    await err.done;
    while (await lines.next() !== undefined) { /* drain */ }
  };
  try {
    const first = await within(lines.next(), 20_000, "the holder's ready line");
    assert.equal(first, "ready", `holder said ${first}; stderr: ${err.text()}`);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { child, stderr: err.text, [Symbol.asyncDispose]: dispose };
}

/** The number in the server's `SIGTERM: shutting down; N calls in flight` line. */
async function callsInFlightAtShutdown(server: ServerProcess): Promise<number> {
  const status = await within(server.stop("SIGTERM"), 20_000, "the server's shutdown");
  assert.equal(status.code, 0, server.stderr());
  const match = server.stderr().match(/SIGTERM: shutting down; (\d+) calls in flight/);
  assert.ok(match, `no shutdown line in:\n${server.stderr()}`);
  return Number(match[1]);
}

Deno.test("keepalive: a client frozen with SIGSTOP mid-RouteChat is dropped and its call forgotten within 10 s", async () => {
  await using server = await startServer({
    // At --log-level info the server logs the frozen client's call when it
    // ends, which lets the test stop waiting early; the verdict comes from
    // the shutdown line, log line or not.
    args: ["--keepalive", "1", "--keepalive-timeout", "1", "--grace", "1", "--log-level", "info"],
    // grpc-js's keepalive trace says when a ping went unanswered (it then
    // destroys the connection), for the failure message.
    env: { GRPC_TRACE: "keepalive", GRPC_VERBOSITY: "DEBUG" },
  });
  await using holder = await startHolder(server);
  // A client on its own, healthy connection: the server itself stays fine.
  const healthy = createRouteGuideClient(server.target, { retry: false });
  try {
    holder.child.kill("SIGSTOP");
    const frozenAt = Date.now();
    // The holder's is the only RouteChat.
    const callEnded = () => / call method=routeguide\.RouteGuide\/RouteChat /.test(server.stderr());
    const endedAfter = await waitFor(callEnded, "the frozen client's call to end", RECLAIM_MS)
      .then(() => Date.now() - frozenAt, () => undefined);
    const droppedAfter = /Ping timeout passed without response/.test(server.stderr())
      ? "a keepalive drop"
      : "no keepalive drop";
    console.log(
      `keepalive: the frozen client's call ended ${endedAfter ?? "never"} ms after SIGSTOP`,
    );
    // Whether or not the log showed it, the call must be gone by now.
    const feature = await healthy.getFeature(EMPIRE_STATE, { deadline: Date.now() + STEP_MS });
    assert.equal(feature.name, "Empire State Building, New York, NY");
    const inFlight = await callsInFlightAtShutdown(server);
    assert.equal(
      inFlight,
      0,
      `the frozen client's call was still in flight ${Date.now() - frozenAt} ms after SIGSTOP ` +
        `(the trace shows ${droppedAfter})\n` +
        server.stderr().split("\n").filter((l) => !/^D \d/.test(l)).join("\n"),
    );
  } finally {
    healthy.close();
  }
});

Deno.test("keepalive control: with the default keepalive a frozen client's call is still in flight after 3 s", async () => {
  await using server = await startServer({ args: ["--grace", "1"] });
  await using holder = await startHolder(server);
  holder.child.kill("SIGSTOP");
  await sleep(3000);
  assert.equal(await callsInFlightAtShutdown(server), 1, server.stderr());
  assert.match(server.stderr(), /1 calls cancelled/);
});

Deno.test("--max-connection-idle 1: a connection without calls is closed; one with a call open is not", async () => {
  await using server = await startServer({
    args: ["--max-connection-idle", "1", "--grace", "1"],
    // grpc-js's server trace says when it closes a connection for idleness.
    env: { GRPC_TRACE: "server", GRPC_VERBOSITY: "DEBUG" },
  });
  const idleClosed = () => server.stderr().match(/Session idle timeout triggered/g)?.length ?? 0;

  // A bare HTTP/2 connection that never starts a stream.
  const session = http2Connect(`http://${server.target}`);
  try {
    const events: string[] = [];
    const connectedAt = await within(
      new Promise<number>((resolve, reject) => {
        session.once("connect", () => resolve(Date.now()));
        session.once("error", reject);
      }),
      STEP_MS,
      "the HTTP/2 connection",
    );
    session.on("error", () => {/* a reset after GOAWAY is fine */});
    const closedAfter = await within(
      new Promise<number>((resolve) => {
        session.once("goaway", () => events.push(`goaway +${Date.now() - connectedAt} ms`));
        session.once("close", () => resolve(Date.now() - connectedAt));
      }),
      STEP_MS,
      "the server to close the idle connection",
    );
    assert.ok(events.length > 0, "closed without a GOAWAY");
    assert.ok(closedAfter >= 900, `closed after ${closedAfter} ms, before the idle limit`);
  } finally {
    session.destroy();
  }

  // A RouteChat open for longer than the idle limit keeps its connection.
  const client = createRouteGuideClient(server.target, { retry: false });
  try {
    const location = {
      latitude: -880000000 + Math.floor(Math.random() * 10000000),
      longitude: Math.floor(Math.random() * 1000000000),
    };
    const notes = async function* (): AsyncGenerator<RouteNote> {
      yield { location, message: "first" };
      await sleep(2500);
      yield { location, message: "second" };
    };
    const replies: string[] = [];
    for await (
      const note of client.routeChat(notes(), { deadline: Date.now() + 10_000 })
    ) replies.push(note.message);
    assert.deepEqual(replies, ["first"]);
    // Once idle the connection is closed; the next call simply reconnects.
    await waitFor(() => idleClosed() >= 2, "the server to close the chat's connection once idle");
    const feature = await client.getFeature(EMPIRE_STATE, { deadline: Date.now() + STEP_MS });
    assert.equal(feature.name, "Empire State Building, New York, NY");
  } finally {
    client.close();
  }
});
