/**
 * One client process of `deno task soak`: a mixed, churning load of all four
 * RPC kinds with slow readers, until a deadline; prints its counts as JSON.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createRouteGuideClient, type RouteGuideClient } from "../lib/grpc/client.ts";
import { RpcError } from "../lib/core/rpc_error.ts";
import type { E7Point } from "../lib/core/geo.ts";

/** Counts one soak client reports. */
export interface SoakReport {
  calls: Record<string, number>;
  errors: Record<string, number>;
  firstErrors: string[];
  reconnects: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function drain<T>(items: AsyncIterable<T>): Promise<number> {
  let n = 0;
  for await (const _ of items) n++;
  return n;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      target: { type: "string" },
      db: { type: "string" },
      until: { type: "string" },
      seed: { type: "string", default: "1" },
      concurrency: { type: "string", default: "4" },
    },
  });
  const points = (JSON.parse(await Deno.readTextFile(values.db!)) as { location: E7Point }[])
    .map((f) => f.location);
  const until = Number(values.until);
  const seed = Number(values.seed);
  const report: SoakReport = { calls: {}, errors: {}, firstErrors: [], reconnects: 0 };
  const count = (kind: string) => report.calls[kind] = (report.calls[kind] ?? 0) + 1;
  const fail = (kind: string, error: unknown) => {
    report.errors[kind] = (report.errors[kind] ?? 0) + 1;
    if (report.firstErrors.length < 5) {
      const code = error instanceof RpcError ? ` (code ${error.code})` : "";
      report.firstErrors.push(`${kind}: ${(error as Error).message}${code}`);
    }
  };
  const pick = () => points[Math.floor(Math.random() * points.length)];
  const box = {
    lo: { latitude: 400000000, longitude: -750000000 },
    hi: { latitude: 420000000, longitude: -730000000 },
  };

  const worker = async (id: number) => {
    let client: RouteGuideClient = createRouteGuideClient(values.target!);
    for (let op = 0; Date.now() < until; op++) {
      // Churn: a fresh connection every 50 operations.
      if (op % 50 === 49) {
        client.close();
        client = createRouteGuideClient(values.target!);
        report.reconnects++;
      }
      const kind = ["get", "get", "list", "record", "chat", "slow"][(op + id) % 6];
      const deadline = Date.now() + 15_000;
      try {
        switch (kind) {
          case "get":
            await client.getFeature(pick(), { deadline });
            break;
          case "list": {
            const p = pick();
            await drain(client.listFeatures({
              lo: p,
              hi: { latitude: p.latitude + 1_000_000, longitude: p.longitude + 1_000_000 },
            }, { deadline }));
            break;
          }
          case "record":
            await client.recordRoute(Array.from({ length: 20 }, pick), { deadline });
            break;
          case "chat": {
            const location = { latitude: seed * 1000 + id, longitude: op % 100 };
            await drain(client.routeChat([
              { location, message: `soak ${seed}/${id}/${op}` },
              { location, message: "again" },
            ], { deadline }));
            break;
          }
          case "slow": {
            // A slow reader: one feature, a pause, then the rest (a whole
            // listing, so a longer deadline) or a cancel.
            const slowDeadline = Date.now() + 120_000;
            const controller = new AbortController();
            let n = 0;
            try {
              for await (
                const _ of client.listFeatures(box, {
                  signal: controller.signal,
                  deadline: slowDeadline,
                })
              ) {
                if (++n === 1) await sleep(500 + Math.random() * 1500);
                if (n === 1 && op % 12 === 5) controller.abort();
              }
            } catch (error) {
              if (!controller.signal.aborted) throw error;
            }
            break;
          }
        }
        count(kind);
      } catch (error) {
        fail(kind, error);
      }
    }
    client.close();
  };
  await Promise.all(Array.from({ length: Number(values.concurrency) }, (_, i) => worker(i)));
  console.log(JSON.stringify(report));
}
