/**
 * What the server reports about each call, seen from outside the real server
 * process:
 *
 * - log lines: with `--log-level info`, one `call` line per call with its
 *   method, peer, status name and duration, as JSON (`--log-format json`) or
 *   as `key=value` text; none at the default level (`notice`);
 * - OpenTelemetry, through Deno's built-in exporter: a local OTLP/HTTP JSON
 *   receiver (`Deno.serve` on port 0) collects what the server sends to
 *   `/v1/traces` and `/v1/metrics`, and each call has a SERVER span with the
 *   `rpc.*` attributes and a point in the `rpc.server.duration` histogram.
 *
 * Findings on Deno 2.8.3, which these tests pin down:
 *
 * - `OTEL_DENO=true` alone turns the exporter on; `--unstable-otel` is not
 *   needed (the flag is still accepted).
 * - The runtime reads the `OTEL_*` variables itself, before permissions
 *   apply, and sends from the runtime, so the server task needs no extra
 *   flags: its `--allow-env` list (GRPC_*, ROUTEGUIDE_*, proxies) does not
 *   have to name OTEL_*, and no `--allow-net` is needed for the collector
 *   (the task has an unscoped one anyway).
 * - `OTEL_BSP_SCHEDULE_DELAY` and `OTEL_METRIC_EXPORT_INTERVAL` are honoured,
 *   and what is still buffered is flushed when the process exits after
 *   SIGTERM.
 * - Numbers set as attributes are exported as `doubleValue` (so
 *   `rpc.grpc.status_code` is `{"doubleValue": 3}`, not `{"intValue": "3"}`);
 *   the tests accept either.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Code, createRouteGuideClient, type RouteGuideClient, RpcError } from "../../lib/mod.ts";
import { type ServerProcess, startServer } from "../_server.ts";
import { deadline, STEP_MS, waitFor } from "../_async.ts";
import { BROOKLYN_BRIDGE, EMPIRE_STATE, freshPoint } from "../_places.ts";

const METHODS = ["GetFeature", "ListFeatures", "RecordRoute", "RouteChat"] as const;

/** The calls every test makes: one of each RPC kind, then a GetFeature that fails. */
const EXPECTED_CALLS = [
  { method: "GetFeature", status: "OK", code: Code.OK },
  { method: "ListFeatures", status: "OK", code: Code.OK },
  { method: "RecordRoute", status: "OK", code: Code.OK },
  { method: "RouteChat", status: "OK", code: Code.OK },
  { method: "GetFeature", status: "INVALID_ARGUMENT", code: Code.INVALID_ARGUMENT },
];

async function makeCalls(server: ServerProcess): Promise<void> {
  const client: RouteGuideClient = createRouteGuideClient(server.target);
  try {
    await client.getFeature(EMPIRE_STATE, { deadline: deadline() });
    let listed = 0;
    for await (
      const _ of client.listFeatures({ lo: BROOKLYN_BRIDGE, hi: EMPIRE_STATE }, {
        deadline: deadline(),
      })
    ) listed++;
    // Between the two, the database holds Brooklyn Bridge, Manhattan Bridge, Flatiron and Empire State.
    assert.equal(listed, 4, `listed ${listed}`);
    await client.recordRoute([EMPIRE_STATE, BROOKLYN_BRIDGE], { deadline: deadline() });
    const here = freshPoint();
    for await (
      const _ of client.routeChat([{ location: here, message: "hi" }], { deadline: deadline() })
    ) { /* no replies expected */ }
    await assert.rejects(
      client.getFeature({ latitude: 0, longitude: 1800000001 }, { deadline: deadline() }),
      (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT,
    );
  } finally {
    client.close();
  }
}

/** Waits until the server logged `count` call lines (JSON or text). */
async function callLinesLogged(server: ServerProcess, count: number): Promise<void> {
  const logged = () =>
    server.stderr().split("\n").filter((l) => /"msg":"call"| call method=/.test(l)).length;
  await waitFor(() => logged() >= count, `${count} call lines on stderr`, STEP_MS)
    .catch((error) => assert.fail(`${error.message}:\n${server.stderr()}`));
}

async function stop(server: ServerProcess): Promise<string> {
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0, server.stderr());
  return server.stderr();
}

/** Sorts records by method then status, for comparing without caring about order. */
function byMethodAndStatus<T extends { method: string; status: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) =>
    a.method.localeCompare(b.method) || a.status.localeCompare(b.status)
  );
}

const PEER = /^127\.0\.0\.1:\d+$/;

Deno.test("telemetry: --log-format json writes one call line per call with its fields", async () => {
  await using server = await startServer({ args: ["--log-level", "info", "--log-format", "json"] });
  await makeCalls(server);
  await callLinesLogged(server, EXPECTED_CALLS.length);
  const stderr = await stop(server);
  const lines = stderr.split("\n").filter((l) => l !== "");
  // Every line is JSON in this format, the start-up and shutdown lines too.
  const records = lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON line: ${line}`);
    }
  });
  for (const r of records) {
    assert.equal(typeof r.time, "string");
    assert.ok(!Number.isNaN(Date.parse(r.time as string)), `time ${r.time}`);
  }
  assert.ok(
    records.some((r) => r.level === "notice" && /^SIGTERM: shutting down/.test(String(r.msg))),
  );
  const calls = records.filter((r) => r.msg === "call");
  assert.equal(calls.length, EXPECTED_CALLS.length, JSON.stringify(calls, null, 1));
  for (const c of calls) {
    assert.equal(c.level, "info", JSON.stringify(c));
    assert.match(String(c.method), /^routeguide\.RouteGuide\/[A-Za-z]+$/);
    assert.match(String(c.peer), PEER, JSON.stringify(c));
    assert.equal(typeof c.duration_ms, "number", JSON.stringify(c));
    assert.ok((c.duration_ms as number) >= 0 && (c.duration_ms as number) < STEP_MS);
    if (c.status === "OK") assert.equal(c.details, undefined, JSON.stringify(c));
  }
  assert.deepEqual(
    byMethodAndStatus(calls.map((c) => ({ method: String(c.method), status: String(c.status) }))),
    byMethodAndStatus(
      EXPECTED_CALLS.map((e) => ({
        method: `routeguide.RouteGuide/${e.method}`,
        status: e.status,
      })),
    ),
  );
  const failed = calls.find((c) => c.status === "INVALID_ARGUMENT")!;
  assert.match(String(failed.details), /longitude is out of range.*1800000001/);
  // All five calls came over one connection, from one peer.
  assert.equal(new Set(calls.map((c) => c.peer)).size, 1);
});

Deno.test("telemetry: text call lines carry the same fields as key=value", async () => {
  await using server = await startServer({ args: ["--log-level", "info"] });
  await makeCalls(server);
  await callLinesLogged(server, EXPECTED_CALLS.length);
  const stderr = await stop(server);
  const calls = stderr.split("\n").filter((l) => / INFO +call /.test(l)).map((line) => {
    const match = line.match(/^(\S+) INFO +call (.*)$/);
    assert.ok(match, line);
    assert.ok(!Number.isNaN(Date.parse(match[1])), line);
    const fields: Record<string, string> = {};
    for (const [, key, value] of match[2].matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
      fields[key] = value.startsWith('"') ? JSON.parse(value) : value;
    }
    return fields;
  });
  assert.equal(calls.length, EXPECTED_CALLS.length, stderr);
  for (const c of calls) {
    assert.match(c.peer, PEER, JSON.stringify(c));
    assert.match(c.duration_ms, /^\d+(\.\d+)?$/, JSON.stringify(c));
  }
  assert.deepEqual(
    byMethodAndStatus(calls.map((c) => ({ method: c.method, status: c.status }))),
    byMethodAndStatus(
      EXPECTED_CALLS.map((e) => ({
        method: `routeguide.RouteGuide/${e.method}`,
        status: e.status,
      })),
    ),
  );
  assert.match(
    calls.find((c) => c.status === "INVALID_ARGUMENT")!.details,
    /^longitude is out of range \[-180°, 180°\]: 1800000001/,
  );
});

Deno.test("telemetry: no call lines at the default log level", async () => {
  await using server = await startServer();
  await makeCalls(server);
  // Everything the server ever wrote: a call line, had there been one, is in it.
  const stderr = await stop(server);
  assert.doesNotMatch(stderr, /\bcall\b|method=|"msg":"call"/, stderr);
  // The default level still shows the shutdown.
  assert.match(stderr, /NOTICE SIGTERM: shutting down; 0 calls in flight/);
});

// ---------------------------------------------------------------------------
// OpenTelemetry over OTLP/HTTP JSON

/** An OTLP `AnyValue`, as Deno's exporter writes it. */
interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface OtlpSpan {
  name: string;
  kind: number | string;
  parentSpanId?: string;
  attributes: KeyValue[];
  status?: { code?: number | string; message?: string };
}
interface OtlpDataPoint {
  attributes: KeyValue[];
  count: number | string;
  sum?: number;
}
interface OtlpMetric {
  name: string;
  unit?: string;
  histogram?: { dataPoints: OtlpDataPoint[]; aggregationTemporality?: number | string };
}
interface ExportTraces {
  resourceSpans: {
    resource: { attributes: KeyValue[] };
    scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[];
  }[];
}
interface ExportMetrics {
  resourceMetrics: {
    resource: { attributes: KeyValue[] };
    scopeMetrics: { scope: { name: string }; metrics: OtlpMetric[] }[];
  }[];
}

/** A plain value from an OTLP attribute value. */
function plain(value: AnyValue): string | number | boolean | undefined {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue;
}

function attributeMap(
  attributes: KeyValue[],
): Record<string, string | number | boolean | undefined> {
  return Object.fromEntries(attributes.map((a) => [a.key, plain(a.value)]));
}

/** A local OTLP/HTTP JSON collector: keeps every export, answers each with success. */
function startCollector() {
  const traces: ExportTraces[] = [];
  const metrics: ExportMetrics[] = [];
  const other: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      const type = request.headers.get("content-type") ?? "";
      if (request.method !== "POST" || !type.startsWith("application/json")) {
        other.push(`${request.method} ${path} ${type}`);
        await request.body?.cancel();
        return new Response("only OTLP/HTTP JSON here", { status: 415 });
      }
      const body = await request.json();
      if (path === "/v1/traces") traces.push(body);
      else if (path === "/v1/metrics") metrics.push(body);
      // /v1/logs (console output, exported too) is accepted and dropped.
      return Response.json({});
    },
  );
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    traces,
    metrics,
    other,
    /** Our spans (scope `routeguide`), with the resource they came with. */
    spans() {
      return traces.flatMap((t) =>
        t.resourceSpans.flatMap((rs) =>
          rs.scopeSpans.filter((ss) => ss.scope.name === "routeguide").flatMap((ss) =>
            ss.spans.map((span) => ({ span, resource: attributeMap(rs.resource.attributes) }))
          )
        )
      );
    },
    /** The data points of `rpc.server.duration` in the latest export that has it. */
    durationPoints(): OtlpDataPoint[] | undefined {
      for (let i = metrics.length - 1; i >= 0; i--) {
        const found = metrics[i].resourceMetrics.flatMap((rm) =>
          rm.scopeMetrics.flatMap((sm) => sm.metrics)
        ).find((m) => m.name === "rpc.server.duration");
        if (found) return found.histogram?.dataPoints;
      }
      return undefined;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/**
 * The environment that turns on Deno's built-in OpenTelemetry for the server
 * process. No extra permission flags are needed (see the module doc):
 * `deno task server`'s flags, which `startServer` uses, work as they are.
 */
function otelEnv(endpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_SERVICE_NAME: "routeguide-test",
    ...extra,
  };
}

/** SPAN_KIND_SERVER is 2 in OTLP. */
const isServerKind = (kind: number | string) => kind === 2 || kind === "SPAN_KIND_SERVER";
/** STATUS_CODE_ERROR is 2 in OTLP. */
const isErrorStatus = (code: number | string | undefined) =>
  code === 2 || code === "STATUS_CODE_ERROR";

function assertSpansForCalls(
  collector: ReturnType<typeof startCollector>,
  expected: typeof EXPECTED_CALLS,
): void {
  const spans = collector.spans();
  for (const { span, resource } of spans) {
    assert.equal(resource["service.name"], "routeguide-test");
    assert.ok(isServerKind(span.kind), `kind ${span.kind}: ${JSON.stringify(span)}`);
    const a = attributeMap(span.attributes);
    assert.equal(a["rpc.system"], "grpc", JSON.stringify(span));
    assert.equal(a["rpc.service"], "routeguide.RouteGuide", JSON.stringify(span));
    assert.equal(span.name, `routeguide.RouteGuide/${a["rpc.method"]}`);
    assert.match(String(a["network.peer.address"]), PEER);
  }
  const got = spans.map(({ span }) => {
    const a = attributeMap(span.attributes);
    return {
      method: String(a["rpc.method"]),
      status: String(a["rpc.grpc.status_code"]),
      error: isErrorStatus(span.status?.code),
    };
  });
  assert.deepEqual(
    byMethodAndStatus(got),
    byMethodAndStatus(expected.map((e) => ({
      method: e.method,
      status: String(e.code),
      // OpenTelemetry's gRPC conventions: INVALID_ARGUMENT is the client's
      // fault, so the server span is not marked as an error.
      error: false,
    }))),
    JSON.stringify(spans.map((s) => s.span), null, 1),
  );
}

function assertDurationPoints(
  collector: ReturnType<typeof startCollector>,
  expected: typeof EXPECTED_CALLS,
): void {
  const points = collector.durationPoints();
  assert.ok(points, "no rpc.server.duration metric was exported");
  const counts = new Map<string, number>();
  for (const p of points) {
    const a = attributeMap(p.attributes);
    assert.equal(a["rpc.system"], "grpc");
    assert.equal(a["rpc.service"], "routeguide.RouteGuide");
    assert.ok(typeof p.sum === "number" && p.sum >= 0, JSON.stringify(p));
    const key = `${a["rpc.method"]}/${a["rpc.grpc.status_code"]}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(p.count));
  }
  const want = new Map<string, number>();
  for (const e of expected) {
    const key = `${e.method}/${e.code}`;
    want.set(key, (want.get(key) ?? 0) + 1);
  }
  assert.deepEqual(
    [...counts].sort(),
    [...want].sort(),
    JSON.stringify(points, null, 1),
  );
}

Deno.test("telemetry: OTLP export of a SERVER span per call and the duration histogram", async () => {
  await using collector = startCollector();
  await using server = await startServer({
    env: otelEnv(collector.endpoint, {
      OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_METRIC_EXPORT_INTERVAL: "500",
    }),
  });
  await makeCalls(server);
  // With the short intervals, everything arrives while the server runs.
  await waitFor(
    () => collector.spans().length >= EXPECTED_CALLS.length,
    `${EXPECTED_CALLS.length} spans`,
    STEP_MS,
  );
  await waitFor(
    () => {
      const points = collector.durationPoints();
      const n = points?.reduce((sum, p) => sum + Number(p.count), 0) ?? 0;
      return n >= EXPECTED_CALLS.length;
    },
    `${EXPECTED_CALLS.length} calls in the duration histogram`,
    STEP_MS,
  );
  await stop(server);
  assert.deepEqual(collector.other, []);
  assertSpansForCalls(collector, EXPECTED_CALLS);
  assertDurationPoints(collector, EXPECTED_CALLS);
  // The span is named after the method, one per method kind.
  assert.deepEqual(
    [...new Set(collector.spans().map((s) => s.span.name))].sort(),
    METHODS.map((m) => `routeguide.RouteGuide/${m}`),
  );
});

Deno.test("telemetry: spans and metrics still buffered are flushed when SIGTERM ends the server", async () => {
  await using collector = startCollector();
  await using server = await startServer({
    // Intervals far longer than the test: only the flush at exit sends.
    env: otelEnv(collector.endpoint, {
      OTEL_BSP_SCHEDULE_DELAY: "600000",
      OTEL_METRIC_EXPORT_INTERVAL: "600000",
    }),
  });
  await makeCalls(server);
  // The calls are done and the batch delay is 10 minutes: nothing is sent before the exit.
  assert.equal(collector.spans().length, 0, "spans were sent before the exit");
  await stop(server);
  // The exporter sent before the process ended; give the last requests a moment.
  await waitFor(
    () => collector.spans().length >= EXPECTED_CALLS.length,
    "the spans flushed at exit",
    STEP_MS,
  );
  await waitFor(
    () => collector.durationPoints() !== undefined,
    "the metrics flushed at exit",
    STEP_MS,
  );
  assertSpansForCalls(collector, EXPECTED_CALLS);
  assertDurationPoints(collector, EXPECTED_CALLS);
});
