/**
 * The command-line client: runs the command `lib/cli/args.ts` read, one
 * function per RPC and one per step of the tour, and turns failures into
 * messages and exit codes. What it prints is `lib/cli/output.ts`'s.
 *
 * @module
 */

import {
  CLIENT_USAGE,
  type ClientCommand,
  expectArgs,
  parseClientArgs,
  parseNoteArgs,
  parsePoint,
  parseRouteFile,
} from "./args.ts";
import {
  type ClientIo,
  FEATURE_TABLE_HEADER,
  noteJson,
  place,
  printFeature,
  printSummary,
  progressMeter,
} from "./output.ts";
import { loadFeatureDb } from "../data/feature_file.ts";
import { Code, codeName, RpcError } from "../core/rpc_error.ts";
import {
  createRouteGuideClient,
  type Point,
  type RouteGuideClient,
  type RouteNote,
  type RouteSummary,
  tlsChannelCredentials,
} from "../grpc/client.ts";
import { UsageError } from "../core/usage_error.ts";

/** Exit codes of the client. */
export const ExitCode = {
  OK: 0,
  RPC_ERROR: 1,
  USAGE: 2,
  UNREACHABLE: 3,
} as const;

/** What a command needs while it runs. */
interface Session {
  client: RouteGuideClient;
  io: ClientIo;
  cmd: ClientCommand;
  deadline(): number;
}

/** A command, its arguments read, waiting for a connected session. */
type Work = (s: Session) => Promise<void>;

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

async function runGet(s: Session, point: Point): Promise<void> {
  const feature = await s.client.getFeature(point, { deadline: s.deadline() });
  if (s.cmd.json) printFeature(s.io, true, feature);
  else if (feature.name === "") s.io.out(`No feature at ${place(point)}`);
  else s.io.out(`${feature.name} at ${place(feature.location)}`);
}

async function runList(s: Session, lo: Point, hi: Point): Promise<void> {
  if (!s.cmd.json) s.io.out(FEATURE_TABLE_HEADER);
  let n = 0;
  const meter = progressMeter(s.io, (count) => `received ${count} feature(s)`);
  try {
    for await (const feature of s.client.listFeatures({ lo, hi }, { deadline: s.deadline() })) {
      n++;
      meter.tick();
      printFeature(s.io, s.cmd.json, feature);
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
  printSummary(s.io, s.cmd.json, summary);
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

/** Reads the route file of `record --file`. */
async function readRouteFile(path: string): Promise<Point[]> {
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(`cannot read --file ${path}: ${(error as Error).message}`);
  }
  return parseRouteFile(text, path);
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

async function tourGetFeature(s: Session): Promise<void> {
  await runGet(s, { latitude: 407484000, longitude: -739857000 });
  await runGet(s, { latitude: 0, longitude: 0 });
}

async function tourListFeatures(s: Session): Promise<void> {
  let shown = 0;
  let total = 0;
  for await (
    const feature of s.client.listFeatures({
      lo: { latitude: 400000000, longitude: -750000000 },
      hi: { latitude: 420000000, longitude: -730000000 },
    }, { deadline: s.deadline() })
  ) {
    total++;
    if (shown++ < 10) printFeature(s.io, s.cmd.json, feature);
  }
  if (!s.cmd.json) s.io.out(`... ${total} feature(s) in all`);
}

async function tourRecordRoute(s: Session): Promise<void> {
  await runRecord(s, await randomFeatures(s.cmd.db, 10));
}

async function tourRouteChat(s: Session): Promise<void> {
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

/** The tour's steps, one per RPC, each announced by its heading. */
const TOUR: readonly { heading: string; run: Work }[] = [
  { heading: "-- GetFeature: a known place and an empty spot", run: tourGetFeature },
  {
    heading: "-- ListFeatures: 40.00,-75.00 to 42.00,-73.00 (the first 10 shown)",
    run: tourListFeatures,
  },
  { heading: "-- RecordRoute: 10 random features", run: tourRecordRoute },
  { heading: "-- RouteChat: four notes, two places", run: tourRouteChat },
];

async function runTour(s: Session): Promise<void> {
  // Headings go to stderr with --json, so that stdout holds only JSON lines.
  const say = (line: string) => s.cmd.json ? s.io.err(line) : s.io.out(line);
  say(`Tour of the RouteGuide service at ${s.cmd.target}`);
  for (const step of TOUR) {
    say(step.heading);
    await step.run(s);
  }
}

/**
 * Reads the command's arguments (and, for `record`, its points) before
 * anything connects; `undefined` for `help`, which needs no server.
 */
async function prepare(cmd: ClientCommand, io: ClientIo): Promise<Work | undefined> {
  const p = cmd.positionals;
  switch (cmd.command) {
    case "help":
      return undefined;
    case "tour":
      return runTour;
    case "get": {
      expectArgs(cmd, 2, "LAT LON");
      const point = parsePoint(p[0], p[1], "get");
      return (s) => runGet(s, point);
    }
    case "list": {
      expectArgs(cmd, 4, "LAT1 LON1 LAT2 LON2");
      const lo = parsePoint(p[0], p[1], "list: first corner");
      const hi = parsePoint(p[2], p[3], "list: second corner");
      return (s) => runList(s, lo, hi);
    }
    case "record": {
      expectArgs(cmd, 0, "no arguments (use --count N or --file PATH)");
      const points = cmd.file !== undefined
        ? await readRouteFile(cmd.file)
        : await randomFeatures(cmd.db, cmd.count);
      return (s) => runRecord(s, points);
    }
    case "chat": {
      if (p.length === 0) return (s) => runChat(s, noteLines(io.stdinLines(), io), true);
      const notes = parseNoteArgs(p);
      return (s) => runChat(s, notes, false);
    }
  }
}

/** Whether an error means the server could not be reached at all. */
function isUnreachable(error: RpcError): boolean {
  return error.code === Code.UNAVAILABLE &&
    /No connection established|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|Name resolution failed|connect/i
      .test(error.message) &&
    !/shutting down/.test(error.message);
}

/** Reports a usage error (rethrowing anything else); `hint` adds the pointer to --help. */
function usageFailed(error: unknown, io: ClientIo, hint: boolean): number {
  if (!(error instanceof UsageError)) throw error;
  io.err(`error: ${error.message}`);
  if (hint) io.err("Run with --help for usage.");
  return ExitCode.USAGE;
}

/** Reports why a command failed once connected, and returns its exit code. */
function commandFailed(error: unknown, cmd: ClientCommand, io: ClientIo): number {
  if (error instanceof UsageError) return usageFailed(error, io, false);
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
}

/**
 * Runs the client with command-line arguments; resolves to the exit code.
 */
export async function runClient(args: string[], io: ClientIo): Promise<number> {
  let cmd: ClientCommand;
  let work: Work | undefined;
  try {
    cmd = parseClientArgs(args);
    work = await prepare(cmd, io);
  } catch (error) {
    return usageFailed(error, io, true);
  }
  if (work === undefined) {
    io.out(CLIENT_USAGE);
    return ExitCode.OK;
  }
  let credentials;
  try {
    credentials = cmd.tls === undefined ? undefined : await tlsCredentials(cmd.tls);
  } catch (error) {
    return usageFailed(error, io, false);
  }
  const client = createRouteGuideClient(cmd.target, { credentials });
  const deadline = () => Date.now() + cmd.timeoutSeconds * 1000;
  try {
    await work({ client, io, cmd, deadline });
    return ExitCode.OK;
  } catch (error) {
    return commandFailed(error, cmd, io);
  } finally {
    client.close();
  }
}
