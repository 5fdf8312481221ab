import assert from "node:assert/strict";
import { type ClientCommand, parseClientArgs, parsePoint } from "../../lib/cli/args.ts";
import { DEFAULT_DB_PATH } from "../../lib/data/feature_file.ts";

const DEFAULTS: ClientCommand = {
  command: "tour",
  positionals: [],
  target: "localhost:50051",
  timeoutSeconds: 10,
  json: false,
  db: DEFAULT_DB_PATH,
  pauseSeconds: 0,
  count: 10,
  file: undefined,
};

/** Asserts that parsing throws an error whose message matches. */
function assertRejected(args: string[], message: RegExp): void {
  assert.throws(() => parseClientArgs(args), (error) => {
    assert.ok(error instanceof Error, `${error}`);
    assert.match(error.message, message);
    return true;
  }, args.join(" "));
}

// --- parseClientArgs -------------------------------------------------------------

Deno.test("parseClientArgs() without arguments runs the tour with the defaults", () => {
  assert.deepEqual(parseClientArgs([]), DEFAULTS);
});

Deno.test("parseClientArgs() takes negative coordinates as plain arguments", () => {
  assert.deepEqual(parseClientArgs(["get", "40.73", "-74.17"]), {
    ...DEFAULTS,
    command: "get",
    positionals: ["40.73", "-74.17"],
  });
  assert.deepEqual(parseClientArgs(["list", "-1", "-2", "3", "4"]).positionals, [
    "-1",
    "-2",
    "3",
    "4",
  ]);
  assert.deepEqual(parseClientArgs(["get", "-.5", "-1e-3"]).positionals, ["-.5", "-1e-3"]);
  assert.deepEqual(parseClientArgs(["get", "-90", "-180."]).positionals, ["-90", "-180."]);
  assert.deepEqual(parseClientArgs(["chat", "-1", "-2", "hello", "3", "-4", "-5"]).positionals, [
    "-1",
    "-2",
    "hello",
    "3",
    "-4",
    "-5",
  ]);
});

Deno.test("parseClientArgs() accepts flags before and after the command", () => {
  const expected: ClientCommand = {
    ...DEFAULTS,
    command: "get",
    positionals: ["40.73", "-74.17"],
    target: "example.com:443",
    json: true,
  };
  assert.deepEqual(
    parseClientArgs(["--target", "example.com:443", "--json", "get", "40.73", "-74.17"]),
    expected,
  );
  assert.deepEqual(
    parseClientArgs(["get", "40.73", "-74.17", "--json", "--target", "example.com:443"]),
    expected,
  );
  assert.deepEqual(
    parseClientArgs(["get", "--json", "40.73", "--target=example.com:443", "-74.17"]),
    expected,
  );
});

Deno.test("parseClientArgs() reads --timeout in seconds, fractions included", () => {
  assert.equal(parseClientArgs(["--timeout", "2.5"]).timeoutSeconds, 2.5);
  assert.equal(parseClientArgs(["get", "1", "2", "--timeout=0.25"]).timeoutSeconds, 0.25);
});

Deno.test("parseClientArgs() reads --count, --file, --db and --pause for record", () => {
  assert.deepEqual(parseClientArgs(["--count", "5", "record"]), {
    ...DEFAULTS,
    command: "record",
    count: 5,
  });
  const cmd = parseClientArgs([
    "record",
    "--file",
    "route.txt",
    "--db",
    "x.json",
    "--pause",
    "0.1",
  ]);
  assert.equal(cmd.file, "route.txt");
  assert.equal(cmd.db, "x.json");
  assert.equal(cmd.pauseSeconds, 0.1);
  assert.equal(cmd.count, 10);
});

Deno.test("parseClientArgs() reads --json as a switch that takes no value", () => {
  const cmd = parseClientArgs(["--json", "list", "-1", "-2", "3", "4"]);
  assert.equal(cmd.json, true);
  assert.equal(cmd.command, "list");
  assert.deepEqual(cmd.positionals, ["-1", "-2", "3", "4"]);
});

Deno.test("parseClientArgs() reads --help as the help command", () => {
  assert.equal(parseClientArgs(["--help"]).command, "help");
  assert.equal(parseClientArgs(["get", "--help"]).command, "help");
});

Deno.test("parseClientArgs() takes everything after -- as arguments", () => {
  assert.deepEqual(parseClientArgs(["chat", "1", "2", "--", "--not-a-flag"]).positionals, [
    "1",
    "2",
    "--not-a-flag",
  ]);
});

Deno.test("parseClientArgs() rejects an unknown command", () => {
  assertRejected(["frob"], /^unknown command "frob": expected get, list, record or chat$/);
  assertRejected(["GET", "1", "2"], /unknown command "GET"/);
});

Deno.test("parseClientArgs() rejects an unknown flag or a missing value", () => {
  assertRejected(["--frob"], /'--frob'/);
  assertRejected(["get", "1", "2", "-x"], /'-x'/);
  assertRejected(["--target"], /'--target <value>' argument missing/);
});

Deno.test("parseClientArgs() rejects bad --timeout, --count and --pause values", () => {
  assertRejected(["--timeout", "0"], /^--timeout must be more than 0$/);
  assertRejected(["--timeout", "soon"], /^--timeout must be a number, 0 or more: got "soon"$/);
  assertRejected(["--timeout=-1"], /^--timeout must be a number, 0 or more/);
  assertRejected(
    ["--count", "0", "record"],
    /^--count must be a whole number, 1 or more: got "0"$/,
  );
  assertRejected(["--count", "2.5", "record"], /^--count must be a whole number/);
  assertRejected(["--pause", "x"], /^--pause must be a number, 0 or more: got "x"$/);
});

// --- parsePoint --------------------------------------------------------------------

Deno.test("parsePoint() converts degrees to E7, rounding to the nearest unit", () => {
  assert.deepEqual(parsePoint("40.7484", "-73.9857", "get"), {
    latitude: 407484000,
    longitude: -739857000,
  });
  assert.deepEqual(parsePoint("0.00000004", "0.00000006", "get"), { latitude: 0, longitude: 1 });
  assert.deepEqual(parsePoint("1.23456789", "-1.23456781", "get"), {
    latitude: 12345679,
    longitude: -12345678,
  });
  assert.deepEqual(parsePoint("1.00000005", "12", "get"), {
    latitude: 10000001,
    longitude: 120000000,
  });
});

Deno.test("parsePoint() accepts the limits exactly", () => {
  assert.deepEqual(parsePoint("90", "180", "p"), { latitude: 900000000, longitude: 1800000000 });
  assert.deepEqual(parsePoint("-90", "-180", "p"), {
    latitude: -900000000,
    longitude: -1800000000,
  });
});

Deno.test("parsePoint() rejects coordinates out of range, naming what and which", () => {
  assert.throws(
    () => parsePoint("91", "0", "get"),
    { message: "get: latitude is out of range [-90°, 90°]: 910000000 (91°)" },
  );
  assert.throws(
    () => parsePoint("-90.0000001", "0", "get"),
    /^UsageError: get: latitude is out of range/,
  );
  assert.throws(
    () => parsePoint("0", "180.0000001", "list: first corner"),
    /^UsageError: list: first corner: longitude is out of range/,
  );
  assert.throws(
    () => parsePoint("0", "-181", "note 2"),
    /^UsageError: note 2: longitude is out of range/,
  );
});

Deno.test("parsePoint() rejects what is not a number of degrees", () => {
  const cases: [string | undefined, string | undefined, RegExp][] = [
    ["abc", "0", /^get: latitude must be a number of degrees: got "abc"$/],
    ["0", "east", /^get: longitude must be a number of degrees: got "east"$/],
    ["", "0", /^get: latitude must be a number of degrees: got ""$/],
    ["0", "  ", /^get: longitude must be a number of degrees/],
    ["Infinity", "0", /^get: latitude must be a number of degrees/],
    ["NaN", "0", /^get: latitude must be a number of degrees/],
    ["40.7,", "0", /^get: latitude must be a number of degrees/],
    [undefined, "0", /^get: expected a latitude and a longitude in degrees$/],
    ["0", undefined, /^get: expected a latitude and a longitude in degrees$/],
  ];
  for (const [lat, lon, message] of cases) {
    assert.throws(() => parsePoint(lat, lon, "get"), (error) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, message);
      return true;
    }, `${lat} ${lon}`);
  }
});

Deno.test("parseClientArgs() takes a --target list of host names, IPv4 and [IPv6] addresses", () => {
  const target = "app1.internal:50051, 10.0.0.2:50051,[::1]:50051";
  assert.equal(parseClientArgs(["--target", target]).target, target);
  assert.equal(parseClientArgs(["--target", "[::1]:50051"]).target, "[::1]:50051");
});

Deno.test("parseClientArgs() rejects a bad --target list entry, naming it and how to write it", () => {
  assertRejected(
    ["--target", "localhost:50051,app2", "get", "1", "2"],
    /^--target "localhost:50051,app2": entry "app2" has no port: write it as app2:PORT .*; list servers as HOST:PORT,HOST:PORT$/,
  );
  assertRejected(
    ["--target", "::1:50051,localhost:50051"],
    /entry "::1:50051" is an IPv6 address without brackets: write it as \[::1\]:50051/,
  );
  assertRejected(["--target", "localhost:50051,"], /entry "" is empty \(a stray comma\?\)/);
});
