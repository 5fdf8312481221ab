/**
 * Interop: `buf curl` (npm `@bufbuild/buf`, a Go client built on
 * connect-go) calls the server with the schema read from
 * `protos/route_guide.proto`, in the Connect and gRPC-Web protocols: all
 * four RPC kinds over h2c (`--http2-prior-knowledge`; the streaming
 * requests are several JSON messages on stdin) and unary and server
 * streaming over HTTP/1.1. Its JSON output is compared with the answers
 * worked out from `data/route_guide_db.json` (see `_routeguide_expect.ts`);
 * then the errors `invalid_argument`, `unimplemented` and
 * `deadline_exceeded`. buf reads and prints JSON but sends proto (binary)
 * on the wire, so the cases are named "proto".
 *
 * `buf` runs as `deno run npm:@bufbuild/buf@1.75.0` with a config and a
 * lock of its own (`buf.deno.json`, `buf.deno.lock`: pinned, frozen, its
 * install script denied), so its 96 MB binary is fetched by this test only,
 * never by a first `deno task server`. Against our server by default; set
 * `ROUTEGUIDE_WEB_REFERENCE` to run them against a reference (see
 * `tests/_web.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { sleep, waitFor } from "../_async.ts";
import { collectText } from "../_lines.ts";
import { ROOT } from "../_server.ts";
import { DB_PATH, startSharedWebTarget, type WebTarget, webTest } from "../_web.ts";
import {
  chatNotes,
  expectedEchoes,
  expectedFeature,
  expectedList,
  expectedSummary,
  type Feature,
  LIST_RECT,
  readFeatures,
  routePoints,
} from "./_routeguide_expect.ts";

const FEATURES = readFeatures(DB_PATH);

/** One server for every case here but those that need their own (see `tests/_web.ts`). */
const TARGET = await startSharedWebTarget();
const SCHEMA = `${ROOT}protos/route_guide.proto`;
const BUF = "npm:@bufbuild/buf@1.75.0";
/** buf's own config and lock, beside this file. */
const BUF_CONFIG = new URL("./buf.deno.json", import.meta.url).pathname;
/** Every buf run is bounded. */
const RUN_TIMEOUT_MS = 15_000;

type Protocol = "connect" | "grpcweb";
type HttpVersion = "h2c" | "HTTP/1.1";

/** What one `buf curl` run did. */
interface BufRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode bufCurl}. */
interface BufCurlOptions {
  protocol: Protocol;
  http: HttpVersion;
  method: string;
  /** The request message(s) as JSON text; sent on stdin. */
  data: string;
  /** Extra flags, e.g. `-H`. */
  flags?: string[];
  /** The schema file. */
  schema?: string;
  /**
   * Keep stdin open this long after buf (run with `-v`) says it sent the
   * first message (a request stream held open).
   */
  holdMs?: number;
}

/** Runs `buf curl` against `target`, killed after {@linkcode RUN_TIMEOUT_MS}. */
async function bufCurl(target: WebTarget, options: BufCurlOptions): Promise<BufRun> {
  const args = [
    "run",
    "-q",
    "--allow-read",
    "--allow-env",
    "--allow-run",
    "--allow-sys",
    "--config",
    BUF_CONFIG,
    BUF,
    "curl",
    "--schema",
    options.schema ?? SCHEMA,
    "--protocol",
    options.protocol,
    ...(options.http === "h2c" ? ["--http2-prior-knowledge"] : []),
    ...(options.flags ?? []),
    "-d",
    "@-",
    `${target.baseUrl}/routeguide.RouteGuide/${options.method}`,
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = collectText(child.stdout);
  const stderr = collectText(child.stderr);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, RUN_TIMEOUT_MS);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.data));
    if (options.holdMs !== undefined) {
      // Counted from the call's first message, not from buf's start, which
      // a busy machine can delay by seconds.
      await waitFor(
        () => /\[\d+ bytes data\]/.test(stderr.text()),
        "buf's first message",
        RUN_TIMEOUT_MS,
      )
        .catch(() => {});
      await sleep(options.holdMs);
    }
    await writer.close().catch(() => {});
    const { code } = await child.status;
    await Promise.all([stdout.done, stderr.done]);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    clearTimeout(timer);
  }
}

/** Splits text holding several JSON values one after another (buf curl's output) into values. */
function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && depth > 0 && --depth === 0) {
      values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return values;
}

/** A feature as canonical JSON gives it (an empty name is left out) with the name filled in. */
function featureOf(value: unknown): Feature {
  const f = value as { name?: string; location?: { latitude?: number; longitude?: number } };
  return {
    name: f.name ?? "",
    location: { latitude: f.location?.latitude ?? 0, longitude: f.location?.longitude ?? 0 },
  };
}

/** Sorts features by position, then name, for comparing sets. */
function sorted(features: Feature[]): Feature[] {
  const key = (f: Feature) => `${f.location.latitude},${f.location.longitude},${f.name}`;
  return [...features].sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** Asserts a successful run and gives its output's JSON values. */
function okValues(run: BufRun): unknown[] {
  assert.equal(run.code, 0, `buf curl exited with ${run.code}\n${run.stderr}`);
  return jsonValues(run.stdout);
}

/** The error buf curl printed: its code and message. */
function errorOf(run: BufRun): { code: string; message: string } {
  assert.notEqual(run.code, 0, `buf curl succeeded:\n${run.stdout}`);
  const [error] = jsonValues(run.stderr) as { code: string; message?: string }[];
  assert.ok(error !== undefined, `no error JSON on buf curl's stderr:\n${run.stderr}`);
  return { code: error.code, message: error.message ?? "" };
}

const name = (protocol: Protocol, http: HttpVersion, kind: string) =>
  `buf curl × ${protocol} × proto × ${http} × ${kind}`;

/** Registers a case with a fresh target, showing our server's stderr on failure. */
function bufTest(
  protocol: Protocol,
  http: HttpVersion,
  kind: string,
  fn: (target: WebTarget) => Promise<void>,
): void {
  webTest(name(protocol, http, kind), async () => {
    const target = TARGET;
    try {
      await fn(target);
    } catch (error) {
      const stderr = target.stderr();
      if (stderr !== "") console.error(`--- server stderr ---\n${stderr}`);
      throw error;
    }
  });
}

/** The four kinds' cases for one protocol and transport. */
function kindCases(protocol: Protocol, http: HttpVersion): void {
  bufTest(protocol, http, "unary GetFeature", async (target) => {
    const point = FEATURES[0].location;
    const run = await bufCurl(target, {
      protocol,
      http,
      method: "GetFeature",
      data: JSON.stringify(point),
    });
    assert.deepEqual(okValues(run).map(featureOf), [expectedFeature(FEATURES, point)]);
  });
  bufTest(protocol, http, "server streaming ListFeatures", async (target) => {
    const run = await bufCurl(target, {
      protocol,
      http,
      method: "ListFeatures",
      data: JSON.stringify(LIST_RECT),
    });
    const got = okValues(run).map(featureOf);
    const want = expectedList(FEATURES, LIST_RECT.lo, LIST_RECT.hi);
    assert.equal(got.length, want.length);
    assert.deepEqual(sorted(got), sorted(want));
  });
  if (http !== "h2c") return;
  bufTest(protocol, http, "client streaming RecordRoute", async (target) => {
    const points = routePoints(FEATURES);
    const started = performance.now();
    const run = await bufCurl(target, {
      protocol,
      http,
      method: "RecordRoute",
      data: points.map((p) => JSON.stringify(p)).join("\n"),
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const [summary] = okValues(run) as Record<string, number | undefined>[];
    // Canonical JSON leaves zero fields out.
    const { pointCount = 0, featureCount = 0, distance = 0, elapsedTime = 0 } = summary;
    assert.deepEqual({ pointCount, featureCount, distance }, expectedSummary(FEATURES, points));
    assert.ok(elapsedTime >= 0 && elapsedTime <= Math.ceil(wallSeconds), `${elapsedTime} s`);
  });
  bufTest(protocol, http, "bidi streaming RouteChat", async (target) => {
    const notes = chatNotes(`buf curl ${protocol}`);
    const run = await bufCurl(target, {
      protocol,
      http,
      method: "RouteChat",
      data: notes.map((n) => JSON.stringify(n)).join("\n"),
    });
    const got = okValues(run).map((v) => {
      const n = v as { message: string; location: unknown };
      return { location: featureOf(n).location, message: n.message };
    });
    assert.deepEqual(got, expectedEchoes(notes));
  });
}

/** The error cases for one protocol and transport. */
function errorCases(protocol: Protocol, http: HttpVersion): void {
  bufTest(protocol, http, "error invalid_argument (|latitude| > 900000000)", async (target) => {
    const run = await bufCurl(target, {
      protocol,
      http,
      method: "GetFeature",
      data: '{"latitude":-900000001,"longitude":0}',
    });
    const error = errorOf(run);
    assert.equal(error.code, "invalid_argument", run.stderr);
    assert.match(error.message, /900000001|latitude/, "the message names the bad value");
  });
  bufTest(protocol, http, "error unimplemented (unknown method)", async (target) => {
    // The schema with one more method, which the server does not have.
    const proto = (await Deno.readTextFile(SCHEMA)).replace(
      /service RouteGuide \{/,
      "service RouteGuide {\n  rpc Teleport(Point) returns (Feature) {}",
    );
    const dir = await Deno.makeTempDir({ prefix: "routeguide_buf_" });
    try {
      await Deno.writeTextFile(`${dir}/route_guide.proto`, proto);
      const run = await bufCurl(target, {
        protocol,
        http,
        method: "Teleport",
        data: '{"latitude":1,"longitude":1}',
        schema: `${dir}/route_guide.proto`,
      });
      assert.equal(errorOf(run).code, "unimplemented", run.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  if (http !== "h2c") return;
  bufTest(
    protocol,
    http,
    "error deadline_exceeded (RecordRoute held open, --timeout 2s)",
    async (target) => {
      // buf's --timeout is the call's deadline, counted from buf's start:
      // connect-go sends what is left of it as connect-timeout-ms or
      // grpc-timeout. buf reports nothing before stdin ends, so stdin stays
      // open for 2.5 s after the first message went out: a call that outlives
      // its deadline, not a wait for something to happen.
      const run = await bufCurl(target, {
        protocol,
        http,
        method: "RecordRoute",
        data: JSON.stringify(FEATURES[0].location) + "\n",
        flags: ["-v", "--timeout", "2s"],
        holdMs: 2500,
      });
      assert.equal(errorOf(run).code, "deadline_exceeded", run.stderr);
    },
  );
}

for (const protocol of ["connect", "grpcweb"] as Protocol[]) {
  for (const http of ["h2c", "HTTP/1.1"] as HttpVersion[]) {
    kindCases(protocol, http);
    errorCases(protocol, http);
  }
}
