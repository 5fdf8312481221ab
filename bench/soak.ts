/**
 * `deno task soak`: runs the server under a mixed load of all four RPC kinds
 * from several client processes, with connection churn and slow readers,
 * for a set time; restarts the server if it dies, and reports calls,
 * errors, restarts and the server's memory over time.
 *
 * ```sh
 * deno task soak --duration 600 --clients 4
 * ```
 *
 * Not a test: it prints figures, and exits 1 only if calls failed or the
 * server had to be restarted.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { SoakReport } from "./soak_worker.ts";
import { spawnServer } from "./_server.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "60" },
    clients: { type: "string", default: "3" },
    concurrency: { type: "string", default: "4" },
    db: { type: "string", default: `${ROOT}data/route_guide_db.json` },
    every: { type: "string", default: "10" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    "Usage: deno task soak [--duration 60] [--clients 3] [--concurrency 4] [--db PATH] [--every 10]",
  );
  Deno.exit(0);
}

let port = 0;
let restarts = 0;
let stopping = false;
let server!: Deno.ChildProcess;

async function startServer(): Promise<void> {
  const started = await spawnServer(values.db!, port);
  server = started.child;
  port = started.port;
  const child = server;
  child.status.then(async (status) => {
    if (stopping || child !== server) return;
    restarts++;
    console.error(`server died (${JSON.stringify(status)}); restarting on port ${port}`);
    await startServer();
  });
}

async function rssMb(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const kb = new TextDecoder().decode(stdout).match(/VmRSS:\s+(\d+) kB/)?.[1];
  return kb === undefined ? NaN : Number(kb) / 1024;
}

await startServer();
const started = Date.now();
const until = started + Number(values.duration) * 1000;
const target = `127.0.0.1:${port}`;
console.log(
  `soak: ${values.clients} client processes × ${values.concurrency} workers against ${target} for ${values.duration} s`,
);

const clients = Array.from(
  { length: Number(values.clients) },
  (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        `${ROOT}bench/soak_worker.ts`,
        "--target",
        target,
        "--db",
        values.db!,
        "--until",
        String(until),
        "--seed",
        String(i + 1),
        "--concurrency",
        values.concurrency!,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output(),
);

const curve: { s: number; rss: number }[] = [];
const sampler = (async () => {
  while (Date.now() < until) {
    curve.push({ s: Math.round((Date.now() - started) / 1000), rss: await rssMb(server.pid) });
    const last = curve.at(-1)!;
    if (last.s % Number(values.every) === 0) {
      console.log(`t=${last.s}s rss=${last.rss.toFixed(1)} MB`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
})();

const reports = (await Promise.all(clients)).map((out) =>
  JSON.parse(new TextDecoder().decode(out.stdout)) as SoakReport
);
await sampler;
const finalRss = await rssMb(server.pid);
stopping = true;
server.kill("SIGTERM");
const exit = await server.status;

const sum = (pick: (r: SoakReport) => Record<string, number>) => {
  const total: Record<string, number> = {};
  for (const r of reports) {
    for (const [k, v] of Object.entries(pick(r))) total[k] = (total[k] ?? 0) + v;
  }
  return total;
};
const calls = sum((r) => r.calls);
const errors = sum((r) => r.errors);
const rss = curve.map((c) => c.rss).filter((x) => !Number.isNaN(x));
const summary = {
  duration_s: Number(values.duration),
  calls,
  total_calls: Object.values(calls).reduce((a, b) => a + b, 0),
  errors,
  total_errors: Object.values(errors).reduce((a, b) => a + b, 0),
  first_errors: reports.flatMap((r) => r.firstErrors).slice(0, 5),
  reconnects: reports.reduce((n, r) => n + r.reconnects, 0),
  restarts,
  rss_mb: {
    first: rss[0],
    min: Math.min(...rss),
    max: Math.max(...rss),
    final: finalRss,
    curve: curve.filter((c) => c.s % Number(values.every) === 0).map((
      c,
    ) => [c.s, Math.round(c.rss)]),
  },
  server_exit: exit.code,
};
console.log(JSON.stringify(summary));
Deno.exit(summary.total_errors === 0 && restarts === 0 ? 0 : 1);
