/**
 * Memory of long streams: a RecordRoute of a million points and a RouteChat
 * of 100,000 notes against the real server, sampling its RSS as they run.
 * The server's memory must not grow with the length of either stream.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-env --allow-run bench/long_streams.ts [--points 1000000] [--notes 100000]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createRouteGuideClient } from "../lib/grpc/client.ts";
import { serverDenoFlags } from "../lib/server/deno_flags.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const { values } = parseArgs({
  args: Deno.args,
  options: {
    points: { type: "string", default: "1000000" },
    notes: { type: "string", default: "100000" },
  },
});

const server = new Deno.Command(Deno.execPath(), {
  args: ["run", ...serverDenoFlags(), `${ROOT}server.ts`, "--host", "127.0.0.1", "--port", "0"],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
let first = "";
while (!first.includes("\n")) first += (await reader.read()).value ?? "";
reader.releaseLock();
const target = `127.0.0.1:${first.match(/:(\d+) /)![1]}`;

async function rssMb(): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${server.pid}/status`] })
    .output();
  return Number(new TextDecoder().decode(stdout).match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
}

/** Runs `work` while sampling the server's RSS; prints the curve at each tenth. */
async function measure(
  label: string,
  total: number,
  work: (progress: (n: number) => void) => Promise<void>,
) {
  const samples: [number, number][] = [];
  let done = 0;
  let next = 0;
  const before = await rssMb();
  await work((n) => {
    done = n;
    if (n >= next) {
      next += total / 10;
      rssMb().then((rss) => samples.push([done, Math.round(rss * 10) / 10]));
    }
  });
  const after = await rssMb();
  const peak = Math.max(before, after, ...samples.map(([, rss]) => rss));
  console.log(
    JSON.stringify({
      label,
      before_mb: Math.round(before * 10) / 10,
      peak_mb: Math.round(peak * 10) / 10,
      after_mb: Math.round(after * 10) / 10,
      curve: samples,
    }),
  );
}

const client = createRouteGuideClient(target);
const pointsTotal = Number(values.points);
await measure(`RecordRoute of ${pointsTotal} points`, pointsTotal, async (progress) => {
  async function* route() {
    for (let i = 0; i < pointsTotal; i++) {
      if (i % 1000 === 0) progress(i);
      yield { latitude: 400000000 + (i % 1000) * 1000, longitude: -740000000 - (i % 777) * 1000 };
    }
  }
  const summary = await client.recordRoute(route(), { deadline: Date.now() + 600_000 });
  if (summary.point_count !== pointsTotal) throw new Error(`point_count ${summary.point_count}`);
});

const notesTotal = Number(values.notes);
await measure(`RouteChat of ${notesTotal} notes`, notesTotal, async (progress) => {
  let replies = 0;
  async function* notes() {
    for (let i = 0; i < notesTotal; i++) {
      if (i % 1000 === 0) progress(i);
      // Every note at a new place: each one is stored, none is replayed.
      yield {
        location: { latitude: i % 1_000_000, longitude: Math.floor(i / 1_000_000) },
        message: `note ${i}`,
      };
    }
  }
  for await (const _ of client.routeChat(notes(), { deadline: Date.now() + 600_000 })) replies++;
  if (replies !== 0) throw new Error(`${replies} replies`);
});

client.close();
server.kill("SIGTERM");
await server.status;
