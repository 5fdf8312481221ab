/**
 * Slow readers are served, not buffered: 4 clients each start a
 * ListFeatures over 300,000 features, read one message, stop reading for
 * 6 s, then read the rest. The server's memory must stay bounded meanwhile.
 */

import assert from "node:assert/strict";
import { createRouteGuideClient } from "../../lib/grpc/client.ts";
import { startServer } from "../_server.ts";
import { sleep, waitFor } from "../_async.ts";
import { type TempDb, writeGridDb } from "../_db.ts";

const FEATURES = 300_000;
const READERS = 4;
const PAUSE_MS = 6000;
const BOUND_MB = 32;

/** A 600 × 500 grid over a 1° × 1° box: every feature distinct. */
function writeDb(): Promise<TempDb> {
  return writeGridDb({
    count: FEATURES,
    columns: 500,
    step: { latitude: 16000, longitude: 19000 },
    name: (i) => i % 10 === 0 ? "" : `Feature ${i}`,
    prefix: "routeguide_300k_",
  });
}

/** The process's resident set in MB (Deno only reads /proc with --allow-all, so ask `cat`). */
async function rssMb(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const kb = new TextDecoder().decode(stdout).match(/VmRSS:\s+(\d+) kB/)?.[1];
  return kb === undefined ? 0 : Number(kb) / 1024;
}

Deno.test({
  name:
    `4 paused readers of ${FEATURES} features grow the server by less than ${BOUND_MB} MB, then get everything`,
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using db = await writeDb();
    await using server = await startServer({ args: ["--db", db.path] });
    const pid = server.process.pid;
    await sleep(500);
    const before = await rssMb(pid);
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssMb(pid));
        await sleep(50);
      }
    })();
    const rect = {
      lo: { latitude: 400000000, longitude: -750000000 },
      hi: { latitude: 410000000, longitude: -740000000 },
    };
    // Each reader stops after its first feature until the pause is over.
    let paused = 0;
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => resume = resolve);
    const read = async () => {
      // One connection per reader, as separate clients would have.
      const client = createRouteGuideClient(server.target, {
        channelOptions: { "grpc.use_local_subchannel_pool": 1 },
      });
      try {
        let n = 0;
        for await (const _ of client.listFeatures(rect)) {
          if (++n === 1) {
            paused++;
            await resumed;
          }
        }
        return n;
      } finally {
        client.close();
      }
    };
    const readers = Array.from({ length: READERS }, read);
    let duringPause: number;
    try {
      await waitFor(() => paused === READERS, "every reader's first feature", 30_000);
      // All four hold their calls open without reading, for the whole pause.
      await sleep(PAUSE_MS);
      duringPause = peak - before;
    } finally {
      resume();
    }
    const counts = await Promise.all(readers);
    sampling = false;
    await sampler;
    console.log(
      `server RSS ${before.toFixed(1)} MB before; +${
        duringPause.toFixed(1)
      } MB during the pause; ` +
        `+${(peak - before).toFixed(1)} MB at the peak`,
    );
    assert.deepEqual(counts, Array(READERS).fill(FEATURES));
    assert.ok(
      duringPause < BOUND_MB,
      `the server grew by ${duringPause.toFixed(1)} MB while the readers paused`,
    );
  },
});
