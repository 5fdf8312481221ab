/**
 * One load-generating process for `deno task bench:load`: runs one scenario
 * against a target for a fixed time with a number of concurrent workers,
 * and prints its counts and latencies as one JSON line.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createRouteGuideClient, type RouteGuideClient } from "../lib/grpc/client.ts";
import type { E7Point } from "../lib/core/geo.ts";
import { seededRandom } from "../tests/_random.ts";

/** What one worker process reports. */
export interface WorkerReport {
  /** Completed operations. */
  ops: number;
  /** Messages moved (features received, points sent, notes round-tripped). */
  msgs: number;
  /** Failed operations. */
  errors: number;
  /** The first error's message. */
  firstError?: string;
  /** Latency of every completed operation, in milliseconds. */
  latencies: number[];
}

/** The four scenarios, each one operation. */
export type Scenario = "unary" | "list" | "record" | "chat";

interface Setup {
  client: RouteGuideClient;
  points: E7Point[];
  bounds: { minLat: number; maxLat: number; minLon: number; maxLon: number };
  rectE7: number;
  routeLength: number;
  random: () => number;
}

/** Runs one operation of a scenario; resolves to the messages it moved. */
export function operation(scenario: Scenario, setup: Setup): () => Promise<number> {
  const { client, points, bounds, rectE7, routeLength, random } = setup;
  const pick = () => points[Math.floor(random() * points.length)];
  switch (scenario) {
    case "unary":
      return async () => {
        const point = pick();
        const feature = await client.getFeature(point, { deadline: Date.now() + 10_000 });
        if (feature.location?.latitude !== point.latitude) throw new Error("wrong answer");
        return 1;
      };
    case "list":
      return async () => {
        const lat = bounds.minLat +
          Math.floor(random() * Math.max(1, bounds.maxLat - bounds.minLat - rectE7));
        const lon = bounds.minLon +
          Math.floor(random() * Math.max(1, bounds.maxLon - bounds.minLon - rectE7));
        let n = 0;
        for await (
          const _ of client.listFeatures({
            lo: { latitude: lat, longitude: lon },
            hi: { latitude: lat + rectE7, longitude: lon + rectE7 },
          }, { deadline: Date.now() + 10_000 })
        ) n++;
        return n;
      };
    case "record":
      return async () => {
        const route = Array.from({ length: routeLength }, pick);
        const summary = await client.recordRoute(route, { deadline: Date.now() + 10_000 });
        if (summary.point_count !== routeLength) throw new Error("wrong point_count");
        return routeLength;
      };
    case "chat":
      return () => Promise.reject(new Error("chat runs on long-lived streams"));
  }
}

/**
 * A chat worker: one long-lived RouteChat; each operation sends a note at a
 * fresh location twice and waits for the first to come back.
 */
async function chatLoop(
  client: RouteGuideClient,
  until: number,
  seed: number,
  report: WorkerReport,
): Promise<void> {
  const outgoing: { location: E7Point; message: string }[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const notes = (async function* () {
    while (!done) {
      while (outgoing.length > 0) yield outgoing.shift()!;
      await new Promise<void>((resolve) => wake = resolve);
    }
  })();
  const replies = client.routeChat(notes)[Symbol.asyncIterator]();
  for (let i = 0; Date.now() < until; i++) {
    const location = { latitude: seed * 1000 + (i % 1000), longitude: Math.floor(i / 1000) };
    const started = performance.now();
    outgoing.push({ location, message: "A" }, { location, message: "B" });
    wake?.();
    const reply = await replies.next();
    if (reply.done) throw new Error("the chat ended early");
    report.latencies.push(performance.now() - started);
    report.ops++;
    report.msgs++;
  }
  done = true;
  wake?.();
  await replies.return?.();
}

/** Runs the worker from its command line and prints its report. */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: "string" },
      db: { type: "string" },
      scenario: { type: "string", default: "unary" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      concurrency: { type: "string", default: "8" },
      "rect-deg": { type: "string", default: "0.1" },
      points: { type: "string", default: "50" },
      seed: { type: "string", default: "1" },
    },
  });
  const scenario = values.scenario as Scenario;
  const seed = Number(values.seed);
  const features = JSON.parse(await Deno.readTextFile(values.db!)) as { location: E7Point }[];
  const points = features.map((f) => ({
    latitude: f.location?.latitude ?? 0,
    longitude: f.location?.longitude ?? 0,
  }));
  const lats = points.map((p) => p.latitude);
  const lons = points.map((p) => p.longitude);
  const bounds = {
    minLat: Math.min(...lats),
    maxLat: Math.max(...lats),
    minLon: Math.min(...lons),
    maxLon: Math.max(...lons),
  };
  const client = createRouteGuideClient(values.target!, { retry: false });
  await client.waitForReady(Date.now() + 10_000);
  const random = seededRandom(seed);
  const setup: Setup = {
    client,
    points,
    bounds,
    rectE7: Math.round(Number(values["rect-deg"]) * 1e7),
    routeLength: Number(values.points),
    random,
  };
  const report: WorkerReport = { ops: 0, msgs: 0, errors: 0, latencies: [] };
  const warmupEnd = Date.now() + Number(values.warmup) * 1000;
  const end = warmupEnd + Number(values.duration) * 1000;
  const concurrency = Number(values.concurrency);
  const run = async (worker: number) => {
    if (scenario === "chat") {
      const warm: WorkerReport = { ops: 0, msgs: 0, errors: 0, latencies: [] };
      await chatLoop(client, warmupEnd, seed * 100 + worker, warm);
      await chatLoop(client, end, seed * 100 + worker + 50, report);
      return;
    }
    const op = operation(scenario, setup);
    while (Date.now() < end) {
      const measuring = Date.now() >= warmupEnd;
      const started = performance.now();
      try {
        const msgs = await op();
        if (measuring) {
          report.latencies.push(performance.now() - started);
          report.ops++;
          report.msgs += msgs;
        }
      } catch (error) {
        if (measuring) {
          report.errors++;
          report.firstError ??= String((error as Error).message ?? error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => run(i)));
  client.close();
  console.log(JSON.stringify(report));
}

if (import.meta.main) await main(Deno.args);
