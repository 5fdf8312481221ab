/**
 * Interop: an independent Go client (grpc-go, from Debian's packages) drives
 * the real server, in plaintext and over TLS, through every check of
 * `tests/interop/go`: the four RPC kinds against the feature database, bad
 * input, deadlines, cancellation, messages at the size limits, many streams
 * on one connection and keepalive pings. It prints a JSON report.
 *
 * The client is built at test time (see `tests/_go.ts`). Without Go or the
 * packages the tests are skipped, except under `CI=true`, where they fail.
 *
 * @module
 */

import assert from "node:assert/strict";
import { makeTestCerts, opensslProblem } from "../_certs.ts";
import { buildGoClient, GO_PACKAGES, goProblem } from "../_go.ts";
import { runProcess } from "../_process.ts";
import { isCi } from "../_env.ts";
import { ROOT, type ServerProcess, startServer } from "../_server.ts";
import { writeGridDb } from "../_db.ts";

const DB = `${ROOT}data/route_guide_db.json`;
const INSTALL_HINT = `apt-get install ${GO_PACKAGES.join(" ")}`;
/** How long one run of the Go client may take (its keepalive check alone waits about 20 s). */
const CLIENT_TIMEOUT_MS = 180_000;

/** The check groups a plaintext run must report; a TLS run has all but keepalive. */
const GROUPS = [
  "cancellation",
  "concurrent_streams",
  "connect",
  "deadline",
  "get_feature",
  "invalid_argument",
  "keepalive",
  "large_messages",
  "list_features",
  "record_route",
  "route_chat",
];

/** One line of the client's report. */
interface Check {
  group: string;
  name: string;
  ok: boolean;
  detail?: string;
}

/** The client's JSON report. */
interface Report {
  client: string;
  grpc_version: string;
  groups: string[];
  passed: number;
  failed: number;
  checks: Check[];
}

/** Runs the client against a server and asserts every check passed and every expected group ran. */
async function expectAllPass(
  client: string,
  server: ServerProcess,
  options: { args: string[]; groups: string[]; minChecks?: number; db?: string },
): Promise<Report> {
  const args = ["--target", server.target, "--db", options.db ?? DB, ...options.args];
  const run = await runProcess(client, args, { timeoutMs: CLIENT_TIMEOUT_MS });
  const details = `${client} ${args.join(" ")}\n--- stdout ---\n${run.stdout}\n` +
    `--- stderr ---\n${run.stderr}\n--- server stderr ---\n${server.stderr()}`;
  assert.ok(!run.timedOut, `the Go client was killed after ${CLIENT_TIMEOUT_MS} ms\n${details}`);
  let report: Report;
  try {
    report = JSON.parse(run.stdout);
  } catch (error) {
    assert.fail(`the Go client printed no JSON report (${error})\n${details}`);
  }
  const failed = report.checks.filter((c) => !c.ok);
  assert.deepEqual(
    failed.map((c) => `${c.group}: ${c.name}: ${c.detail}`),
    [],
    `failed checks\n${details}`,
  );
  assert.equal(run.code, 0, `the Go client exited with ${run.code}\n${details}`);
  assert.deepEqual(report.groups, options.groups, `check groups that ran\n${details}`);
  const minChecks = options.minChecks ?? 50;
  assert.ok(report.passed >= minChecks, `only ${report.passed} checks ran\n${details}`);
  return report;
}

/** Registers a test that needs the Go client: skipped without Go here, failing without it in CI. */
function goTest(name: string, fn: (client: string) => Promise<void>): void {
  const problem = goProblem();
  if (problem === undefined) {
    Deno.test(name, async () => {
      await using client = await buildGoClient();
      await fn(client.path);
    });
  } else if (isCi()) {
    Deno.test(name, () => {
      assert.fail(`CI=true but the Go client cannot be built: ${problem}; ${INSTALL_HINT}`);
    });
  } else {
    console.log(
      `skipping the Go interop tests: ${problem}; install them with \`${INSTALL_HINT}\``,
    );
    Deno.test({ name, ignore: true, fn() {} });
  }
}

goTest("interop: grpc-go client passes every check, in plaintext and over TLS", async (client) => {
  // Over TLS only where openssl can make the certificates; CI must have it.
  const openssl = opensslProblem();
  if (openssl !== undefined) {
    assert.ok(!isCi(), `CI=true but openssl is not usable (${openssl})`);
    console.log(`the grpc-go TLS run is skipped: openssl is not usable (${openssl})`);
  }
  // The project's features and 20,000 more in the same box: a listing of the
  // whole box then outgrows the flow-control windows, so a client's cancel
  // arrives while the server is still sending (the project's 201 features
  // alone can all be sent, with the status, before the cancel).
  await using db = await writeGridDb({
    count: 20_000,
    first: JSON.parse(await Deno.readTextFile(DB)),
    prefix: "routeguide_go_interop_",
  });
  const plaintext = async () => {
    await using server = await startServer({ args: ["--db", db.path] });
    await expectAllPass(client, server, {
      args: ["--skip", "reuse_after_limit"],
      groups: GROUPS,
      db: db.path,
    });
  };
  const tls = async () => {
    if (openssl !== undefined) return;
    await using certs = await makeTestCerts();
    await using server = await startServer({
      args: ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey, "--db", db.path],
    });
    // The keepalive check watches plaintext frames, so a TLS run has none.
    await expectAllPass(client, server, {
      args: ["--skip", "reuse_after_limit", "--ca", certs.caCert, "--server-name", "localhost"],
      groups: GROUPS.filter((g) => g !== "keepalive"),
      db: db.path,
    });
  };
  // Side by side: the plaintext run spends most of its time waiting for pings.
  await Promise.all([plaintext(), tls()]);
});

// grpc-js on the runtime's node:http2 failed this: after a request message
// over --max-message-bytes was answered with RESOURCE_EXHAUSTED, the server
// reset the next ~100 streams on that connection and sent GOAWAY
// INTERNAL_ERROR, so grpc-go had to reconnect. The limit must fail only its
// own call.
goTest(
  "interop: grpc-go: a message over the limit fails only its own call; the connection goes on serving",
  async (client) => {
    await using server = await startServer();
    const only = ["connect", "reuse_after_limit"];
    const skip = [...GROUPS, "reuse_after_limit"].filter((g) => !only.includes(g));
    await expectAllPass(client, server, {
      args: ["--skip", skip.join(",")],
      groups: only,
      minChecks: 4,
    });
  },
);
