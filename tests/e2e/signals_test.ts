/**
 * Signals at the worst moment: the server binds SIGINT, SIGTERM and SIGHUP
 * before it prints anything, so a parent that signals the instant it reads
 * the ready line never ends it by accident (`lib/server/signals.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createRouteGuideClient } from "../../lib/grpc/client.ts";
import { ROOT, startServer } from "../_server.ts";
import { waitFor } from "../_async.ts";

Deno.test("listenForSignals() answers SIGHUPs that came before the handler once, then each one", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-run", `${ROOT}tests/fixtures/hangup_early.ts`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(code, 0, text.decode(stderr));
  assert.deepEqual(text.decode(stdout).trim().split("\n"), [
    "after two early SIGHUPs: 1",
    "after one more: 2",
    "stop: SIGTERM",
  ]);
});

Deno.test("a SIGHUP sent the moment the ready line is read never ends the server", async () => {
  for (let round = 1; round <= 10; round++) {
    await using server = await startServer();
    server.process.kill("SIGHUP");
    const answered = waitFor(
      () => server.stderr().includes("SIGHUP: nothing to reload (no TLS files)"),
      `the SIGHUP line (round ${round})`,
    );
    const ended = server.process.status.then((status) => {
      throw new Error(`round ${round}: the server ended: ${JSON.stringify(status)}`);
    });
    await Promise.race([answered, ended]);
    const client = createRouteGuideClient(server.target);
    try {
      assert.equal((await client.getFeature({ latitude: 0, longitude: 0 })).name, "");
    } finally {
      client.close();
    }
    assert.deepEqual({ ...await server.stop("SIGTERM") }, { success: true, code: 0, signal: null });
  }
});
