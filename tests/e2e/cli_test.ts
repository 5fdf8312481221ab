/**
 * The command-line client and the server's command line, as users run them.
 */

import assert from "node:assert/strict";
import { runClient } from "../../lib/cli/client.ts";
import { BROOKLYN_BRIDGE, EMPIRE_STATE } from "../_places.ts";
import { ROOT, runClientProcess, SERVER_FLAGS, startServer } from "../_server.ts";

async function runServerProcess(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...SERVER_FLAGS, `${ROOT}server.ts`, ...args],
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

function jsonLines(stdout: string): unknown[] {
  return stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

Deno.test("the client's tour runs all four RPCs against a live server in a few seconds", async () => {
  await using server = await startServer();
  const started = Date.now();
  const r = await runClientProcess(["--target", server.target]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 10_000);
  assert.match(r.stdout, /Empire State Building, New York, NY at 40\.7484000, -73\.9857000/);
  assert.match(r.stdout, /No feature at 0\.0000000, 0\.0000000/);
  assert.match(r.stdout, /\.\.\. 201 feature\(s\) in all/);
  assert.match(r.stdout, /Finished trip with 10 points/);
  assert.match(r.stdout, /Got message "First message/);
  assert.match(r.stdout, /Got message "Second message/);
});

Deno.test("client get takes negative degrees as plain arguments, before or after flags", async () => {
  await using server = await startServer();
  const a = await runClientProcess(["get", "40.7061", "-73.9969", "--target", server.target]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout.trim(), "Brooklyn Bridge, New York, NY at 40.7061000, -73.9969000");
  const b = await runClientProcess(["--target", server.target, "--json", "get", "-40", "-74"]);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(jsonLines(b.stdout), [{
    name: "",
    location: { latitude: -400000000, longitude: -740000000 },
  }]);
});

Deno.test("client list prints an aligned table, or one JSON feature per line", async () => {
  await using server = await startServer();
  const human = await runClientProcess([
    "--target",
    server.target,
    "list",
    "40.71",
    "-73.99",
    "40.70",
    "-74.00",
  ]);
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^\s+latitude\s+longitude\s+name$/);
  assert.ok(lines.some((l) => /^\s+40\.7061000\s+-73\.9969000\s+Brooklyn Bridge/.test(l)));
  assert.match(lines.at(-1)!, /^\d+ feature\(s\) between 40\.7100000, -73\.9900000 and/);
  const json = await runClientProcess([
    "list",
    "40.71",
    "-73.99",
    "40.70",
    "-74.00",
    "--json",
    "--target",
    server.target,
  ]);
  assert.equal(json.code, 0, json.stderr);
  const features = jsonLines(json.stdout) as { name: string; location: { latitude: number } }[];
  assert.equal(features.length, lines.length - 2);
  assert.ok(features.some((f) => f.name === "Brooklyn Bridge, New York, NY"));
});

Deno.test("client record sends random features, or the points of a file", async () => {
  await using server = await startServer();
  // Random picks from two named features the server also has: every point passes a feature.
  const db = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    db,
    JSON.stringify([
      { name: "Empire State Building, New York, NY", location: EMPIRE_STATE },
      { name: "Brooklyn Bridge, New York, NY", location: BROOKLYN_BRIDGE },
    ]),
  );
  const random = await runClientProcess([
    "--target",
    server.target,
    "--db",
    db,
    "record",
    "--count",
    "7",
    "--json",
  ]).finally(() => Deno.remove(db));
  assert.equal(random.code, 0, random.stderr);
  const [summary] = jsonLines(random.stdout) as { point_count: number; feature_count: number }[];
  assert.equal(summary.point_count, 7);
  assert.equal(summary.feature_count, 7);

  const file = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    await Deno.writeTextFile(file, "# a short walk\n40.7484 -73.9857\n\n40.7061, -73.9969\n");
    const walk = await runClientProcess(["--target", server.target, "record", "--file", file]);
    assert.equal(walk.code, 0, walk.stderr);
    assert.match(walk.stdout, /Finished trip with 2 points/);
    assert.match(walk.stdout, /Passed 2 features/);
    assert.match(walk.stdout, /Travelled 4797 meters/);

    await Deno.writeTextFile(file, "40.7484 -73.9857\nnot a point\n");
    const bad = await runClientProcess(["--target", server.target, "record", "--file", file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /:2: expected "LAT LON" in degrees/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("client chat takes notes as arguments or from stdin", async () => {
  await using server = await startServer();
  const lat = (Math.random() * 80).toFixed(5);
  const first = await runClientProcess([
    "--target",
    server.target,
    "chat",
    lat,
    "-10",
    "hello there",
    lat,
    "-10",
    "second",
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /Got message "hello there" at/);
  const second = await runClientProcess(
    ["--target", server.target, "--json", "chat"],
    `${lat} -10 from stdin\n\nnonsense\n`,
  );
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual((jsonLines(second.stdout) as { message: string }[]).map((n) => n.message), [
    "hello there",
    "second",
  ]);
  assert.match(second.stderr, /skipped stdin line 3/);
});

Deno.test("client usage errors exit 2 with a message saying what to do", async () => {
  for (
    const [args, pattern] of [
      [["get", "40"], /'get' takes LAT LON/],
      [["get", "91", "0"], /latitude is out of range/],
      [["get", "north", "0"], /latitude must be a number of degrees/],
      [["fly"], /unknown command "fly"/],
      [["--bogus"], /Unknown option '--bogus'/],
      [["--timeout", "0", "get", "1", "2"], /--timeout must be more than 0/],
      [["chat", "1", "2"], /LAT LON MESSAGE triples/],
      [["record", "--count", "0"], /--count must be a whole number/],
    ] as const
  ) {
    const r = await runClientProcess([...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stdout, "");
  }
  const help = await runClientProcess(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: deno task client/);
});

Deno.test("client exits 3 naming the target and how to start a server when none runs", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const started = Date.now();
  const r = await runClientProcess(["--target", `127.0.0.1:${port}`, "get", "1", "2"]);
  assert.equal(r.code, 3, r.stderr);
  assert.ok(Date.now() - started < 8000, "reported within a few seconds");
  assert.match(r.stderr, new RegExp(`cannot reach a RouteGuide server at 127\\.0\\.0\\.1:${port}`));
  assert.match(r.stderr, /deno task server/);
});

Deno.test("client exits 1 with the status when the call fails", async () => {
  await using server = await startServer({ args: ["--max-note-bytes", "4"] });
  const r = await runClientProcess(["--target", server.target, "chat", "1", "2", "too long"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /chat failed: INVALID_ARGUMENT: note\[0\]\.message is too long/);
});

Deno.test("server refuses a bad database with one line, before opening a port", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(
      bad,
      JSON.stringify([{ name: "x", location: { latitude: 950000000, longitude: 0 } }]),
    );
    for (
      const [path, pattern] of [
        [bad, /feature 0: location\.latitude is out of range.*950000000/],
        [`${dir}/missing.json`, /no such file/],
      ] as const
    ) {
      const r = await runServerProcess(["--port", "0", "--db", path]);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").filter((l) => l.startsWith("error")).length, 1);
    }
    await Deno.writeTextFile(bad, "{not json");
    const r = await runServerProcess(["--port", "0", "--db", bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server warns about repeated locations and keeps the first", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const here = { latitude: 10, longitude: 20 };
    await Deno.writeTextFile(
      path,
      JSON.stringify([{ name: "first", location: here }, { name: "second", location: here }]),
    );
    await using server = await startServer({ args: ["--db", path] });
    assert.match(server.readyLine, /\(1 features\)$/);
    const r = await runClientProcess(["--target", server.target, "get", "0.000001", "0.000002"]);
    assert.match(r.stdout, /^first at/);
    await server.stop();
    assert.match(server.stderr(), /feature 1 repeats the location of feature 0.*first one is kept/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("server reports a busy port in one line and exits non-zero", async () => {
  await using first = await startServer();
  const r = await runServerProcess(["--host", "127.0.0.1", "--port", String(first.port)]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: the port is already in use/);
});

Deno.test("server flags: --help, bad values, and environment variables", async () => {
  const help = await runServerProcess(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--grace VALUE/);
  assert.match(help.stdout, /ROUTEGUIDE_PORT/);
  const bad = await runServerProcess(["--port", "99999"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port must be a port number/);
  await using server = await startServer({ env: { ROUTEGUIDE_MAX_NOTE_BYTES: "3" } });
  const r = await runClientProcess(["--target", server.target, "chat", "1", "2", "four"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the limit is 3/);
});

Deno.test("the client shows progress for list and record only where io has a progress line", async () => {
  await using server = await startServer();
  const shown: string[] = [];
  const out: string[] = [];
  const io = {
    out: (line: string) => out.push(line),
    err: () => {},
    stdinLines: () => (async function* () {})(),
    progress: (text: string) => shown.push(text),
  };
  assert.equal(
    await runClient(["--target", server.target, "list", "40", "-75", "42", "-73"], io),
    0,
  );
  assert.match(shown[0], /^received 1 feature\(s\)$/);
  assert.equal(shown.at(-1), "", "the progress line is cleared at the end");
  shown.length = 0;
  assert.equal(await runClient(["--target", server.target, "record", "--count", "3"], io), 0);
  assert.match(shown[0], /^sent 1 of 3 point\(s\)$/);
  assert.equal(shown.at(-1), "");
  // Without a progress line (stderr not a terminal), nothing is shown and the output is the same.
  const plain: string[] = [];
  const { progress: _, ...noProgress } = { ...io, out: (line: string) => plain.push(line) };
  assert.equal(
    await runClient(
      ["--target", server.target, "--json", "list", "40", "-75", "42", "-73"],
      noProgress,
    ),
    0,
  );
  assert.equal(plain.length, 201);
});

Deno.test("the tour with --json writes only JSON lines on stdout", async () => {
  await using server = await startServer();
  const r = await runClientProcess(["--target", server.target, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout) as Record<string, unknown>[];
  // On a fresh server: its fixed calls, list, summary and chat replies make 15 lines.
  assert.equal(lines.length, 15, r.stdout);
  assert.ok(lines.some((l) => l.name === "Empire State Building, New York, NY"));
  assert.ok(lines.some((l) => l.point_count === 10));
  assert.ok(lines.some((l) => typeof l.message === "string"));
  assert.match(r.stderr, /Tour of the RouteGuide service/);
});

Deno.test("client --target localhost:P1,localhost:P2 reaches both servers; a bad entry is a usage error", async () => {
  const logged = { args: ["--log-level", "info"] };
  await using first = await startServer(logged);
  await using second = await startServer(logged);
  const target = `localhost:${first.port},localhost:${second.port}`;
  const answered = (server: typeof first) =>
    / call method=routeguide\.RouteGuide\//.test(server.stderr());
  // One process makes one call: run the CLI until each server answered one.
  for (let i = 0; i < 20 && !(answered(first) && answered(second)); i++) {
    const r = await runClientProcess(["--target", target, "get", "40.7484", "-73.9857"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "Empire State Building, New York, NY at 40.7484000, -73.9857000");
  }
  assert.ok(answered(first) && answered(second), "20 runs did not reach both servers");
  const bad = await runClientProcess(["--target", `${target},app3`, "get", "1", "2"]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--target ".*,app3": entry "app3" has no port: write it as app3:PORT/);
});
