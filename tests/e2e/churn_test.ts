/**
 * Crash regression: connection churn with a cancelled stream in every burst.
 * On Deno 2.9.4–2.9.6 `node:http2` aborts the whole process here (nghttp2
 * assertion in find_stream_on_goaway_func, denoland/deno#36788): the server
 * did while it ran on `node:http2`; the grpc-js clients of this test process
 * still do. The pinned runtime must not.
 */

import assert from "node:assert/strict";
import { createRouteGuideClient } from "../../lib/grpc/client.ts";
import { startServer } from "../_server.ts";
import { type TempDb, writeGridDb } from "../_db.ts";
import { EMPIRE_STATE } from "../_places.ts";

const CYCLES = 40;
const BOX = {
  lo: { latitude: 400000000, longitude: -750000000 },
  hi: { latitude: 420000000, longitude: -730000000 },
};

/**
 * Long listings make the crash likely (streams still have data queued when
 * the client goes away), so the test serves 2,000 features in a grid.
 */
function writeChurnDb(): Promise<TempDb> {
  return writeGridDb({
    count: 2000,
    columns: 50,
    step: { latitude: 400000, longitude: 400000 },
    name: (i) => i % 10 === 0 ? "" : `grid ${i}`,
    first: [{ name: "Empire State Building", location: EMPIRE_STATE }],
    prefix: "routeguide_churn_",
  });
}

async function drain<T>(items: AsyncIterable<T>): Promise<number> {
  let n = 0;
  for await (const _ of items) n++;
  return n;
}

Deno.test(`the server survives ${CYCLES} cycles of connect, burst of every RPC kind with one cancel, close`, async () => {
  await using db = await writeChurnDb();
  await using server = await startServer({ args: ["--db", db.path] });
  let exited = false;
  server.process.status.then(() => exited = true);
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const client = createRouteGuideClient(server.target);
    const cancel = new AbortController();
    const burst = [
      client.getFeature(EMPIRE_STATE),
      client.getFeature({ latitude: cycle, longitude: cycle }),
      drain(client.listFeatures(BOX)),
      client.recordRoute(Array.from({ length: 20 }, () => EMPIRE_STATE)),
      drain(client.routeChat([
        { location: { latitude: cycle, longitude: 7 }, message: `cycle ${cycle}` },
        { location: { latitude: cycle, longitude: 7 }, message: "again" },
      ])),
      // The stream cancelled midway.
      (async () => {
        for await (const _ of client.listFeatures(BOX, { signal: cancel.signal })) cancel.abort();
      })(),
    ];
    if (cycle % 2 === 0) {
      // Close while the calls are still in flight.
      await new Promise((resolve) => setTimeout(resolve, 2));
      client.close();
      await Promise.allSettled(burst);
    } else {
      const results = await Promise.allSettled(burst);
      client.close();
      // Everything but the cancelled stream succeeded.
      assert.deepEqual(
        results.slice(0, -1).map((r) => r.status),
        ["fulfilled", "fulfilled", "fulfilled", "fulfilled", "fulfilled"],
        JSON.stringify(results.filter((r) => r.status === "rejected")),
      );
      assert.equal(results.at(-1)!.status, "rejected");
    }
    assert.equal(exited, false, `the server died in cycle ${cycle}:\n${server.stderr()}`);
  }
  const check = createRouteGuideClient(server.target);
  try {
    assert.equal(
      (await check.getFeature(EMPIRE_STATE)).name,
      "Empire State Building",
    );
  } finally {
    check.close();
  }
  assert.equal(exited, false, server.stderr());
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0, server.stderr());
});
