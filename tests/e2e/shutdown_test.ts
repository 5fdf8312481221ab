/**
 * Graceful shutdown of the real process: stop accepting, let calls in flight
 * finish within --grace, cancel the rest, exit 0.
 */

import assert from "node:assert/strict";
import { haversineMeters } from "../../lib/core/geo.ts";
import { Code, RpcError } from "../../lib/core/rpc_error.ts";
import { createRouteGuideClient, type RouteGuideClient } from "../../lib/grpc/client.ts";
import { type ServerProcess, startServer } from "../_server.ts";
import { sleep, waitFor } from "../_async.ts";
import { BROOKLYN_BRIDGE, EMPIRE_STATE } from "../_places.ts";

/**
 * Resolves once the server has started every call `client` opened so far:
 * calls on one client share one HTTP/2 connection, whose streams the server
 * takes in order, so the reply to a GetFeature opened after them proves it.
 */
async function openedOnServer(client: RouteGuideClient): Promise<void> {
  await client.getFeature(EMPIRE_STATE, { deadline: Date.now() + 10_000 });
}

/** Resolves once the server logged that SIGTERM started its shutdown; returns that line. */
async function shutdownStarted(server: ServerProcess): Promise<string> {
  const line = () => server.stderr().match(/SIGTERM: shutting down;[^\n]*/)?.[0];
  await waitFor(() => line() !== undefined, "the server's SIGTERM line");
  return line()!;
}

Deno.test("SIGTERM with nothing in flight exits 0 at once", async () => {
  await using server = await startServer();
  const started = Date.now();
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0, server.stderr());
  // "At once" rather than after the 10 s grace period: generous for a busy machine.
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  assert.match(server.stderr(), /0 calls cancelled/);
});

Deno.test("SIGINT also shuts down gracefully", async () => {
  await using server = await startServer();
  const status = await server.stop("SIGINT");
  assert.equal(status.code, 0, server.stderr());
  assert.match(server.stderr(), /SIGINT: shutting down/);
});

Deno.test("a RecordRoute in flight at SIGTERM completes with the right summary; new calls get UNAVAILABLE", async () => {
  await using server = await startServer();
  const client = createRouteGuideClient(server.target, { retry: false });
  try {
    let signalled!: () => void;
    const afterSignal = new Promise<void>((resolve) => signalled = resolve);
    const route = async function* () {
      yield EMPIRE_STATE;
      await afterSignal;
      // Keep sending for a while after the signal.
      await sleep(500);
      yield BROOKLYN_BRIDGE;
      await sleep(200);
      yield EMPIRE_STATE;
    };
    const summary = client.recordRoute(route());
    await openedOnServer(client);
    const exited = server.stop("SIGTERM");
    assert.match(await shutdownStarted(server), /; 1 calls in flight/);
    signalled();

    // A new client cannot start calls any more.
    const late = createRouteGuideClient(server.target, { retry: false });
    try {
      await assert.rejects(late.getFeature(EMPIRE_STATE), (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, Code.UNAVAILABLE);
        // The listener closed at the signal: a new client finds no server to connect to. (That
        // the server is alive and draining shows in the summary below; the shutting-down status
        // itself is asserted where the grace period cancels a call.)
        assert.match(error.message, /No connection established/);
        return true;
      });
    } finally {
      late.close();
    }

    const result = await summary;
    assert.equal(result.point_count, 3);
    assert.equal(result.feature_count, 3);
    const leg = haversineMeters(EMPIRE_STATE, BROOKLYN_BRIDGE);
    assert.equal(result.distance, Math.trunc(leg + leg));
    assert.equal((await exited).code, 0, server.stderr());
    assert.match(server.stderr(), /0 calls cancelled/);
  } finally {
    client.close();
  }
});

Deno.test("calls still open when the grace period ends are cancelled with UNAVAILABLE and counted", async () => {
  await using server = await startServer({ args: ["--grace", "1"] });
  const client = createRouteGuideClient(server.target);
  try {
    const openChat = async function* () {
      yield { location: { latitude: 123, longitude: 456 }, message: "still here" };
      await sleep(30_000);
    };
    // Settled into a value at once, so the rejection is never unhandled.
    const chatError = (async () => {
      for await (const _ of client.routeChat(openChat())) { /* no replies expected */ }
    })().then(() => undefined, (error: unknown) => error);
    await openedOnServer(client);
    const started = Date.now();
    const status = await server.stop("SIGTERM");
    const took = Date.now() - started;
    assert.equal(status.code, 0, server.stderr());
    // At least the grace period; the upper bound only catches a hang.
    assert.ok(took >= 900 && took < 10_000, `took ${took} ms`);
    assert.match(server.stderr(), /1 calls cancelled/);
    const error = await chatError;
    assert.ok(error instanceof RpcError, `chat ended with ${error}`);
    assert.equal(error.code, Code.UNAVAILABLE, error.message);
    assert.match(error.message, /the server is shutting down/);
  } finally {
    client.close();
  }
});

Deno.test("cancelled and expired calls leave nothing in flight behind", async () => {
  // At --log-level info the server logs each call as it ends: the sign that
  // it has let go of the expired and the cancelled call.
  await using server = await startServer({ args: ["--log-level", "info"] });
  const client = createRouteGuideClient(server.target);
  try {
    // A request stream that never sends anything.
    // deno-lint-ignore require-yield
    const silent = async function* <T>(): AsyncGenerator<T> {
      await sleep(3000);
    };
    // Connected first, so the call below reaches the server before it expires.
    await openedOnServer(client);
    const expired = client.recordRoute(silent(), { deadline: Date.now() + 500 });
    await openedOnServer(client);
    await assert.rejects(expired);
    const controller = new AbortController();
    const chat = (async () => {
      for await (const _ of client.routeChat(silent(), { signal: controller.signal })) {
        // nothing
      }
    })();
    await openedOnServer(client);
    controller.abort();
    await assert.rejects(chat);
    // Each is logged with the status the server saw: CANCELLED or DEADLINE_EXCEEDED.
    const ended = (method: string) =>
      new RegExp(` call method=routeguide\\.RouteGuide/${method} `).test(server.stderr());
    await waitFor(
      () => ended("RecordRoute") && ended("RouteChat"),
      "the server to end the expired RecordRoute and the cancelled RouteChat",
    ).catch((error) => assert.fail(`${error.message}:\n${server.stderr()}`));
  } finally {
    client.close();
  }
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0);
  assert.match(server.stderr(), /SIGTERM: shutting down; 0 calls in flight/);
});

Deno.test("with --notes sqlite:PATH, RouteChat notes survive a server restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "routeguide_notes_" });
  const args = ["--notes", `sqlite:${dir}/notes.db`];
  const denoFlags = [`--allow-write=${dir}`];
  const here = { latitude: 424242, longitude: -242424 };
  try {
    {
      await using server = await startServer({ args, denoFlags });
      const client = createRouteGuideClient(server.target);
      try {
        for await (const _ of client.routeChat([{ location: here, message: "before" }])) {
          // the first note at a place has nothing to replay
        }
      } finally {
        client.close();
      }
      assert.equal((await server.stop("SIGTERM")).code, 0, server.stderr());
    }
    await using again = await startServer({ args, denoFlags });
    const client = createRouteGuideClient(again.target);
    try {
      const replies: string[] = [];
      for await (const note of client.routeChat([{ location: here, message: "after" }])) {
        replies.push(note.message ?? "");
      }
      assert.deepEqual(replies, ["before"]);
    } finally {
      client.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--notes sqlite: without write permission fails at start with one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "routeguide_notes_" });
  try {
    await assert.rejects(
      startServer({ args: ["--notes", `sqlite:${dir}/notes.db`] }),
      /server did not start[\s\S]*error: .*notes store/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
