/**
 * The command-line client: argument parsing, the tour, and one command per
 * RPC, in degrees for people and `--json` for scripts.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadFeatureDb } from "./feature_db.ts";
import { fromE7, pointProblem, toE7 } from "./geo.ts";
import { Code, codeName, RpcError } from "./rpc_error.ts";
import {
  createRouteGuideClient,
  type Feature,
  type Point,
  type RouteGuideClient,
  type RouteNote,
  type RouteSummary,
  tlsChannelCredentials,
} from "./route_guide_client.ts";
import { DEFAULT_DB_PATH } from "./server_config.ts";
import { isTargetList, targetListProblem } from "./target_list.ts";

/** Exit codes of the client. */
export const ExitCode = {
  OK: 0,
  RPC_ERROR: 1,
  USAGE: 2,
  UNREACHABLE: 3,
} as const;

/** Where the client reads and writes; tests pass their own. */
export interface ClientIo {
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
  /** Lines of standard input, for `chat` without arguments. */
  stdinLines(): AsyncIterable<string>;
  /**
   * Shows a progress line in place (a terminal on stderr); `""` clears it.
   * Absent when stderr is not a terminal: then no progress is shown.
   */
  progress?(text: string): void;
}

/** Counts progress and shows it at most every 100 ms, for long `list` and `record` runs. */
function progressMeter(io: ClientIo, describe: (n: number) => string) {
  let shown = 0;
  let count = 0;
  return {
    tick() {
      count++;
      const now = Date.now();
      if (io.progress !== undefined && now - shown >= 100) {
        shown = now;
        io.progress(describe(count));
      }
    },
    done() {
      if (shown !== 0) io.progress?.("");
    },
  };
}

const USAGE = `Usage: deno task client [options] [command] [arguments]

Commands (coordinates in degrees; negative values are fine as they are):
  (none)                          a tour of all four RPCs
  get LAT LON                     the feature at a point
  list LAT1 LON1 LAT2 LON2        every feature in the rectangle with these corners
  record [--count N] [--file F]   record a route: N random features of --db (default 10),
                                  or the "LAT LON" lines of file F
  chat [LAT LON MESSAGE]...       send notes and print the earlier notes at each place;
                                  without arguments, reads "LAT LON MESSAGE" lines from stdin

Options:
  --target HOST:PORT   server address (default localhost:50051; IPv6 as [::1]:50051);
                       several servers as HOST:PORT,HOST:PORT (each name resolved, every
                       address used) or dns:///NAME:PORT, balanced round robin
  --timeout SECONDS    deadline for each call (default 10; not applied to a chat read from stdin)
  --json               one JSON object per line on stdout, E7 coordinates, proto field names
  --db PATH            features to pick from for 'record' and the tour (default: the project's)
  --pause SECONDS      wait between the points and notes sent (default 0)
  --tls                connect with TLS, trusting the system's CAs
  --tls-ca FILE        connect with TLS, trusting this CA bundle (PEM)
  --tls-cert FILE      client certificate (PEM) for servers that require one (with --tls-key)
  --tls-key FILE       the client certificate's private key (PEM)
  --help               show this help

Exit codes: 0 success, 1 the call failed, 2 usage error, 3 server unreachable.`;

const OPTIONS = {
  target: { type: "string" },
  timeout: { type: "string" },
  json: { type: "boolean" },
  db: { type: "string" },
  pause: { type: "string" },
  count: { type: "string" },
  file: { type: "string" },
  tls: { type: "boolean" },
  "tls-ca": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  help: { type: "boolean" },
} as const;

class UsageError extends Error {}

const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Splits arguments into flags (for `parseArgs`) and positionals, keeping negative numbers positional. */
function splitArgs(args: string[]): { flags: string[]; positionals: string[] } {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (NEGATIVE_NUMBER.test(arg) || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    flags.push(arg);
    const name = arg.replace(/^--?/, "");
    const option = OPTIONS[name as keyof typeof OPTIONS];
    if (option?.type === "string" && i + 1 < args.length) flags.push(args[++i]);
  }
  return { flags, positionals };
}

/** Parsed command line. */
export interface ClientCommand {
  command: "tour" | "get" | "list" | "record" | "chat" | "help";
  positionals: string[];
  target: string;
  timeoutSeconds: number;
  json: boolean;
  db: string;
  pauseSeconds: number;
  count: number;
  file?: string;
  /** TLS settings; `undefined` for plaintext. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

function nonNegative(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${flag} must be a number, 0 or more: got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Parses the client's command line; throws on a usage error. */
export function parseClientArgs(args: string[]): ClientCommand {
  const { flags, positionals } = splitArgs(args);
  let values;
  try {
    ({ values } = parseArgs({ args: flags, options: OPTIONS, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
  const [first, ...rest] = positionals;
  const commands = ["get", "list", "record", "chat"] as const;
  let command: ClientCommand["command"] = "tour";
  if (values.help) command = "help";
  else if (first !== undefined) {
    if (!commands.includes(first as typeof commands[number])) {
      throw new UsageError(
        `unknown command ${JSON.stringify(first)}: expected get, list, record or chat`,
      );
    }
    command = first as ClientCommand["command"];
  }
  const count = nonNegative(values.count, "count", 10);
  if (!Number.isInteger(count) || count < 1) {
    throw new UsageError(
      `--count must be a whole number, 1 or more: got ${JSON.stringify(values.count)}`,
    );
  }
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together: give both or neither");
  }
  const useTls = values.tls || values["tls-ca"] !== undefined || values["tls-cert"] !== undefined;
  const timeoutSeconds = nonNegative(values.timeout, "timeout", 10);
  if (timeoutSeconds === 0) throw new UsageError("--timeout must be more than 0");
  const target = values.target ?? "localhost:50051";
  const problem = isTargetList(target) ? targetListProblem(target) : undefined;
  if (problem !== undefined) {
    throw new UsageError(
      `--target ${JSON.stringify(target)}: ${problem}; list servers as HOST:PORT,HOST:PORT`,
    );
  }
  return {
    command,
    positionals: first === undefined ? [] : rest,
    target,
    timeoutSeconds,
    json: values.json ?? false,
    db: values.db ?? DEFAULT_DB_PATH,
    pauseSeconds: nonNegative(values.pause, "pause", 0),
    count,
    file: values.file,
    ...(useTls
      ? {
        tls: { caFile: values["tls-ca"], certFile: values["tls-cert"], keyFile: values["tls-key"] },
      }
      : {}),
  };
}

/** Reads the client's TLS files into channel credentials. */
async function tlsCredentials(tls: NonNullable<ClientCommand["tls"]>) {
  const read = async (path: string | undefined, flag: string) => {
    if (path === undefined) return undefined;
    try {
      return await Deno.readFile(path);
    } catch (error) {
      throw new UsageError(`cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  return tlsChannelCredentials({
    ca: await read(tls.caFile, "--tls-ca"),
    cert: await read(tls.certFile, "--tls-cert"),
    key: await read(tls.keyFile, "--tls-key"),
  });
}

/** Reads a "LAT LON" pair in degrees into an E7 point, naming what is wrong. */
export function parsePoint(lat: string | undefined, lon: string | undefined, what: string): Point {
  if (lat === undefined || lon === undefined) {
    throw new UsageError(`${what}: expected a latitude and a longitude in degrees`);
  }
  const latitude = Number(lat);
  const longitude = Number(lon);
  for (
    const [name, raw, value] of [["latitude", lat, latitude], [
      "longitude",
      lon,
      longitude,
    ]] as const
  ) {
    if (raw.trim() === "" || !Number.isFinite(value)) {
      throw new UsageError(
        `${what}: ${name} must be a number of degrees: got ${JSON.stringify(raw)}`,
      );
    }
  }
  const point = { latitude: toE7(latitude), longitude: toE7(longitude) };
  const problem = pointProblem(point);
  if (problem !== undefined) throw new UsageError(`${what}: ${problem}`);
  return point;
}

function expectArgs(cmd: ClientCommand, n: number, shape: string): void {
  if (cmd.positionals.length !== n) {
    throw new UsageError(
      `'${cmd.command}' takes ${shape}: got ${cmd.positionals.length} argument(s) (see --help)`,
    );
  }
}

/** Formats E7 as degrees with seven decimals. */
function degrees(e7: number): string {
  return fromE7(e7).toFixed(7);
}

function place(point: Point | null | undefined): string {
  return `${degrees(point?.latitude ?? 0)}, ${degrees(point?.longitude ?? 0)}`;
}

/** A feature shaped like the protobuf message, for `--json`. */
function featureJson(f: Feature): string {
  return JSON.stringify({
    name: f.name,
    location: { latitude: f.location?.latitude ?? 0, longitude: f.location?.longitude ?? 0 },
  });
}

function noteJson(n: RouteNote): string {
  return JSON.stringify({
    location: { latitude: n.location?.latitude ?? 0, longitude: n.location?.longitude ?? 0 },
    message: n.message ?? "",
  });
}

/** Prints features as an aligned table, one row each, as they arrive. */
function printFeatureRow(io: ClientIo, f: Feature): void {
  const name = f.name === "" ? "(unnamed)" : f.name;
  io.out(
    `${degrees(f.location?.latitude ?? 0).padStart(12)}  ${
      degrees(f.location?.longitude ?? 0).padStart(13)
    }  ${name}`,
  );
}

const sleep = (seconds: number) =>
  seconds > 0 ? new Promise((resolve) => setTimeout(resolve, seconds * 1000)) : Promise.resolve();

async function* paced<T>(items: Iterable<T> | AsyncIterable<T>, pause: number): AsyncGenerator<T> {
  let first = true;
  for await (const item of items) {
    if (!first) await sleep(pause);
    first = false;
    yield item;
  }
}

interface Session {
  client: RouteGuideClient;
  io: ClientIo;
  cmd: ClientCommand;
  deadline(): number;
}

async function runGet(s: Session, point: Point): Promise<void> {
  const feature = await s.client.getFeature(point, { deadline: s.deadline() });
  if (s.cmd.json) s.io.out(featureJson(feature));
  else if (feature.name === "") s.io.out(`No feature at ${place(point)}`);
  else s.io.out(`${feature.name} at ${place(feature.location)}`);
}

async function runList(s: Session, lo: Point, hi: Point): Promise<void> {
  if (!s.cmd.json) s.io.out(`${"latitude".padStart(12)}  ${"longitude".padStart(13)}  name`);
  let n = 0;
  const meter = progressMeter(s.io, (count) => `received ${count} feature(s)`);
  try {
    for await (const feature of s.client.listFeatures({ lo, hi }, { deadline: s.deadline() })) {
      n++;
      meter.tick();
      if (s.cmd.json) s.io.out(featureJson(feature));
      else printFeatureRow(s.io, feature);
    }
  } finally {
    meter.done();
  }
  if (!s.cmd.json) s.io.out(`${n} feature(s) between ${place(lo)} and ${place(hi)}`);
}

async function runRecord(s: Session, points: Point[]): Promise<void> {
  if (!s.cmd.json) s.io.out(`Recording a route of ${points.length} point(s)`);
  const meter = progressMeter(s.io, (count) => `sent ${count} of ${points.length} point(s)`);
  async function* counted() {
    for await (const point of paced(points, s.cmd.pauseSeconds)) {
      meter.tick();
      yield point;
    }
  }
  let summary: RouteSummary;
  try {
    summary = await s.client.recordRoute(counted(), { deadline: s.deadline() });
  } finally {
    meter.done();
  }
  if (s.cmd.json) {
    s.io.out(JSON.stringify({
      point_count: summary.point_count,
      feature_count: summary.feature_count,
      distance: summary.distance,
      elapsed_time: summary.elapsed_time,
    }));
  } else {
    s.io.out(`Finished trip with ${summary.point_count} points`);
    s.io.out(`Passed ${summary.feature_count} features`);
    s.io.out(`Travelled ${summary.distance} meters`);
    s.io.out(`It took ${summary.elapsed_time} seconds`);
  }
}

async function runChat(
  s: Session,
  notes: Iterable<RouteNote> | AsyncIterable<RouteNote>,
  openEnded: boolean,
): Promise<void> {
  const options = openEnded ? {} : { deadline: s.deadline() };
  for await (const note of s.client.routeChat(paced(notes, s.cmd.pauseSeconds), options)) {
    if (s.cmd.json) s.io.out(noteJson(note));
    else s.io.out(`Got message "${note.message}" at ${place(note.location)}`);
  }
}

/** Reads the "LAT LON" lines of a route file; blank lines and `#` comments are skipped. */
async function readRouteFile(path: string): Promise<Point[]> {
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(`cannot read --file ${path}: ${(error as Error).message}`);
  }
  const points: Point[] = [];
  text.split("\n").forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const parts = trimmed.split(/[\s,]+/);
    if (parts.length !== 2) {
      throw new UsageError(
        `${path}:${i + 1}: expected "LAT LON" in degrees: got ${JSON.stringify(trimmed)}`,
      );
    }
    points.push(parsePoint(parts[0], parts[1], `${path}:${i + 1}`));
  });
  if (points.length === 0) throw new UsageError(`${path}: no points in the file`);
  return points;
}

async function randomFeatures(dbPath: string, count: number): Promise<Point[]> {
  let loaded;
  try {
    loaded = await loadFeatureDb(dbPath);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { db } = loaded;
  if (db.size === 0) throw new UsageError(`${dbPath}: the database has no features to pick from`);
  return Array.from({ length: count }, () => db.at(Math.floor(Math.random() * db.size)).location);
}

function parseNoteArgs(args: string[]): RouteNote[] {
  if (args.length % 3 !== 0) {
    throw new UsageError(
      `'chat' takes notes as LAT LON MESSAGE triples: got ${args.length} argument(s)`,
    );
  }
  const notes: RouteNote[] = [];
  for (let i = 0; i < args.length; i += 3) {
    notes.push({
      location: parsePoint(args[i], args[i + 1], `note ${i / 3 + 1}`),
      message: args[i + 2],
    });
  }
  return notes;
}

async function* noteLines(lines: AsyncIterable<string>, io: ClientIo): AsyncGenerator<RouteNote> {
  let n = 0;
  for await (const line of lines) {
    n++;
    const match = line.trim().match(/^(\S+)\s+(\S+)\s*(.*)$/);
    if (line.trim() === "") continue;
    try {
      if (match === null) throw new UsageError(`expected "LAT LON MESSAGE"`);
      yield { location: parsePoint(match[1], match[2], `stdin line ${n}`), message: match[3] };
    } catch (error) {
      io.err(`skipped stdin line ${n}: ${(error as Error).message}`);
    }
  }
}

async function runTour(s: Session): Promise<void> {
  const { io } = s;
  const say = (line: string) => s.cmd.json ? io.err(line) : io.out(line);
  say(`Tour of the RouteGuide service at ${s.cmd.target}`);
  say("-- GetFeature: a known place and an empty spot");
  await runGet(s, { latitude: 407484000, longitude: -739857000 });
  await runGet(s, { latitude: 0, longitude: 0 });
  say("-- ListFeatures: 40.00,-75.00 to 42.00,-73.00 (the first 10 shown)");
  let shown = 0;
  let total = 0;
  for await (
    const feature of s.client.listFeatures({
      lo: { latitude: 400000000, longitude: -750000000 },
      hi: { latitude: 420000000, longitude: -730000000 },
    }, { deadline: s.deadline() })
  ) {
    total++;
    if (shown++ < 10) s.cmd.json ? io.out(featureJson(feature)) : printFeatureRow(io, feature);
  }
  if (!s.cmd.json) io.out(`... ${total} feature(s) in all`);
  say("-- RecordRoute: 10 random features");
  await runRecord(s, await randomFeatures(s.cmd.db, 10));
  say("-- RouteChat: four notes, two places");
  const a = { latitude: 0, longitude: 0 };
  const b = { latitude: 0, longitude: 10000000 };
  const stamp = new Date().toISOString();
  await runChat(s, [
    { location: a, message: `First message (${stamp})` },
    { location: b, message: `Second message (${stamp})` },
    { location: a, message: `Third message (${stamp})` },
    { location: b, message: `Fourth message (${stamp})` },
  ], false);
}

/** Whether an error means the server could not be reached at all. */
function isUnreachable(error: RpcError): boolean {
  return error.code === Code.UNAVAILABLE &&
    /No connection established|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|Name resolution failed|connect/i
      .test(error.message) &&
    !/shutting down/.test(error.message);
}

/**
 * Runs the client with command-line arguments; resolves to the exit code.
 */
export async function runClient(args: string[], io: ClientIo): Promise<number> {
  let cmd: ClientCommand;
  let work: (s: Session) => Promise<void>;
  try {
    cmd = parseClientArgs(args);
    const p = cmd.positionals;
    switch (cmd.command) {
      case "help":
        io.out(USAGE);
        return ExitCode.OK;
      case "tour":
        work = runTour;
        break;
      case "get": {
        expectArgs(cmd, 2, "LAT LON");
        const point = parsePoint(p[0], p[1], "get");
        work = (s) => runGet(s, point);
        break;
      }
      case "list": {
        expectArgs(cmd, 4, "LAT1 LON1 LAT2 LON2");
        const lo = parsePoint(p[0], p[1], "list: first corner");
        const hi = parsePoint(p[2], p[3], "list: second corner");
        work = (s) => runList(s, lo, hi);
        break;
      }
      case "record": {
        expectArgs(cmd, 0, "no arguments (use --count N or --file PATH)");
        const points = cmd.file !== undefined
          ? await readRouteFile(cmd.file)
          : await randomFeatures(cmd.db, cmd.count);
        work = (s) => runRecord(s, points);
        break;
      }
      case "chat": {
        if (p.length > 0) {
          const notes = parseNoteArgs(p);
          work = (s) => runChat(s, notes, false);
        } else {
          work = (s) => runChat(s, noteLines(io.stdinLines(), io), true);
        }
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}`);
    io.err("Run with --help for usage.");
    return ExitCode.USAGE;
  }

  let credentials;
  try {
    credentials = cmd.tls === undefined ? undefined : await tlsCredentials(cmd.tls);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}`);
    return ExitCode.USAGE;
  }
  const client = createRouteGuideClient(cmd.target, { credentials });
  const session: Session = {
    client,
    io,
    cmd,
    deadline: () => Date.now() + cmd.timeoutSeconds * 1000,
  };
  try {
    await work(session);
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}`);
      return ExitCode.USAGE;
    }
    if (!(error instanceof RpcError)) throw error;
    if (isUnreachable(error)) {
      const reason = error.message.match(/(connect|getaddrinfo) [A-Z]+[^.]*/)?.[0] ??
        error.message;
      io.err(
        `error: cannot reach a RouteGuide server at ${cmd.target} (${reason}). ` +
          "Start one with `deno task server`, or point --target at a running server.",
      );
      return ExitCode.UNREACHABLE;
    }
    io.err(
      `error: ${cmd.command === "tour" ? "the tour" : cmd.command} failed: ${
        codeName(error.code)
      }: ${error.message}`,
    );
    return ExitCode.RPC_ERROR;
  } finally {
    client.close();
  }
}
