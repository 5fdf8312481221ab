/**
 * `deno task bench:load`: starts the server (or uses `--against`), drives
 * each RPC kind from several client processes, and prints calls and
 * messages per second with p50/p90/p99 latency, as a table and as JSON.
 *
 * ```sh
 * deno task bench:load                                   # all four kinds, 2 client processes
 * deno task bench:load --scenario list --clients 3 --duration 10
 * deno task bench:load --against 127.0.0.1:50052 --db features.json
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { WorkerReport } from "./load_worker.ts";
import { spawnServer } from "./_server.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** One scenario's merged result. */
export interface LoadResult {
  scenario: string;
  target: string;
  clients: number;
  concurrency: number;
  duration_s: number;
  ops: number;
  ops_per_s: number;
  msgs_per_s: number;
  errors: number;
  first_error?: string;
  latency_ms: { p50: number; p90: number; p99: number; max: number };
}

/** The value at quantile `q` of sorted numbers. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Merges the reports of the client processes into one result. */
export function merge(
  reports: readonly WorkerReport[],
  info: {
    scenario: string;
    target: string;
    clients: number;
    concurrency: number;
    durationS: number;
  },
): LoadResult {
  const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const ops = reports.reduce((n, r) => n + r.ops, 0);
  const msgs = reports.reduce((n, r) => n + r.msgs, 0);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    scenario: info.scenario,
    target: info.target,
    clients: info.clients,
    concurrency: info.concurrency,
    duration_s: info.durationS,
    ops,
    ops_per_s: Math.round(ops / info.durationS),
    msgs_per_s: Math.round(msgs / info.durationS),
    errors: reports.reduce((n, r) => n + r.errors, 0),
    first_error: reports.find((r) => r.firstError)?.firstError,
    latency_ms: {
      p50: round(quantile(latencies, 0.5)),
      p90: round(quantile(latencies, 0.9)),
      p99: round(quantile(latencies, 0.99)),
      max: round(latencies.at(-1) ?? 0),
    },
  };
}

async function startServer(db: string): Promise<{ target: string; stop: () => Promise<void> }> {
  const { child, port } = await spawnServer(db);
  return {
    target: `127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function runScenario(
  scenario: string,
  target: string,
  options: {
    db: string;
    clients: number;
    concurrency: number;
    duration: number;
    rectDeg: string;
    points: string;
  },
): Promise<LoadResult> {
  const children = Array.from(
    { length: options.clients },
    (_, i) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-net",
          "--allow-read",
          "--allow-env",
          `${ROOT}bench/load_worker.ts`,
          "--target",
          target,
          "--db",
          options.db,
          "--scenario",
          scenario,
          "--duration",
          String(options.duration),
          "--concurrency",
          String(options.concurrency),
          "--rect-deg",
          options.rectDeg,
          "--points",
          options.points,
          "--seed",
          String(i + 1),
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output(),
  );
  const reports = (await Promise.all(children)).map((out) => {
    if (out.code !== 0) throw new Error(`a load process for ${scenario} failed`);
    return JSON.parse(new TextDecoder().decode(out.stdout)) as WorkerReport;
  });
  return merge(reports, {
    scenario,
    target,
    clients: options.clients,
    concurrency: options.concurrency,
    durationS: options.duration,
  });
}

/** Formats results as an aligned table. */
export function table(results: readonly LoadResult[]): string {
  const rows = [
    ["scenario", "calls/s", "msgs/s", "p50 ms", "p90 ms", "p99 ms", "errors"],
    ...results.map((r) => [
      r.scenario,
      String(r.ops_per_s),
      String(r.msgs_per_s),
      r.latency_ms.p50.toFixed(2),
      r.latency_ms.p90.toFixed(2),
      r.latency_ms.p99.toFixed(2),
      String(r.errors),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) =>
    row.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ")
  )
    .join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      against: { type: "string" },
      db: { type: "string", default: `${ROOT}data/route_guide_db.json` },
      scenario: { type: "string", default: "all" },
      clients: { type: "string", default: "2" },
      concurrency: { type: "string", default: "8" },
      duration: { type: "string", default: "5" },
      "rect-deg": { type: "string", default: "0.1" },
      points: { type: "string", default: "50" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno task bench:load [--against HOST:PORT] [--db PATH] [--scenario all|unary|list|record|chat]\n" +
        "       [--clients 2] [--concurrency 8] [--duration 5] [--rect-deg 0.1] [--points 50] [--json]",
    );
    Deno.exit(0);
  }
  const scenarios = values.scenario === "all"
    ? ["unary", "list", "record", "chat"]
    : values.scenario!.split(",");
  const server = values.against === undefined ? await startServer(values.db!) : undefined;
  const target = values.against ?? server!.target;
  const results: LoadResult[] = [];
  try {
    for (const scenario of scenarios) {
      results.push(
        await runScenario(scenario, target, {
          db: values.db!,
          clients: Number(values.clients),
          concurrency: Number(values.concurrency),
          duration: Number(values.duration),
          rectDeg: values["rect-deg"]!,
          points: values.points!,
        }),
      );
    }
  } finally {
    await server?.stop();
  }
  if (!values.json) {
    console.log(
      `target ${target}, ${values.clients} client processes × ${values.concurrency} workers`,
    );
    console.log(table(results));
  }
  console.log(JSON.stringify(results));
}
