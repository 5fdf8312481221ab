/**
 * The command-line client's arguments: flags and their checks, the command
 * and its positional arguments, points in degrees, route files and notes, all
 * read into E7 values with a {@linkcode UsageError} naming what is wrong.
 * Pure: the files it parses are read by the caller.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DEFAULT_DB_PATH } from "../data/feature_file.ts";
import { pointProblem, toE7 } from "../core/geo.ts";
import type { Point, RouteNote } from "../grpc/client.ts";
import { isTargetList, targetListProblem } from "../grpc/target_list.ts";
import { UsageError } from "../core/usage_error.ts";

/** The client's `--help`. */
export const CLIENT_USAGE = `Usage: deno task client [options] [command] [arguments]

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
  /** What to do; `tour` when no command is given. */
  command: "tour" | "get" | "list" | "record" | "chat" | "help";
  /** The command's own arguments. */
  positionals: string[];
  /** `--target`. */
  target: string;
  /** `--timeout`, the deadline of each call. */
  timeoutSeconds: number;
  /** `--json`. */
  json: boolean;
  /** `--db`, the features `record` and the tour pick from. */
  db: string;
  /** `--pause` between the points and notes sent. */
  pauseSeconds: number;
  /** `--count`, the points `record` picks. */
  count: number;
  /** `--file`, the route `record` sends. */
  file?: string;
  /** TLS settings; `undefined` for plaintext. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** The flags as `parseArgs` reads them. */
type Flags = ReturnType<typeof parseFlags>;

function parseFlags(flags: string[]) {
  try {
    return parseArgs({ args: flags, options: OPTIONS, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
}

function nonNegative(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${flag} must be a number, 0 or more: got ${JSON.stringify(raw)}`);
  }
  return n;
}

const COMMANDS = ["get", "list", "record", "chat"] as const;

/** The command named by the first positional argument, `help` or `tour`. */
function commandOf(values: Flags, first: string | undefined): ClientCommand["command"] {
  if (values.help) return "help";
  if (first === undefined) return "tour";
  if (!COMMANDS.includes(first as typeof COMMANDS[number])) {
    throw new UsageError(
      `unknown command ${JSON.stringify(first)}: expected get, list, record or chat`,
    );
  }
  return first as ClientCommand["command"];
}

function countOf(values: Flags): number {
  const count = nonNegative(values.count, "count", 10);
  if (!Number.isInteger(count) || count < 1) {
    throw new UsageError(
      `--count must be a whole number, 1 or more: got ${JSON.stringify(values.count)}`,
    );
  }
  return count;
}

function tlsOf(values: Flags): Pick<ClientCommand, "tls"> {
  if ((values["tls-cert"] === undefined) !== (values["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together: give both or neither");
  }
  const useTls = values.tls || values["tls-ca"] !== undefined || values["tls-cert"] !== undefined;
  if (!useTls) return {};
  return {
    tls: { caFile: values["tls-ca"], certFile: values["tls-cert"], keyFile: values["tls-key"] },
  };
}

function timeoutOf(values: Flags): number {
  const timeoutSeconds = nonNegative(values.timeout, "timeout", 10);
  if (timeoutSeconds === 0) throw new UsageError("--timeout must be more than 0");
  return timeoutSeconds;
}

function targetOf(values: Flags): string {
  const target = values.target ?? "localhost:50051";
  const problem = isTargetList(target) ? targetListProblem(target) : undefined;
  if (problem !== undefined) {
    throw new UsageError(
      `--target ${JSON.stringify(target)}: ${problem}; list servers as HOST:PORT,HOST:PORT`,
    );
  }
  return target;
}

/** Parses the client's command line; throws a {@linkcode UsageError} on a mistake. */
export function parseClientArgs(args: string[]): ClientCommand {
  const { flags, positionals } = splitArgs(args);
  const values = parseFlags(flags);
  const [first, ...rest] = positionals;
  // Checked in this order, so that the first mistake is the one reported.
  const command = commandOf(values, first);
  const count = countOf(values);
  const tls = tlsOf(values);
  const timeoutSeconds = timeoutOf(values);
  const target = targetOf(values);
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
    ...tls,
  };
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

/** Fails unless the command has `n` positional arguments; `shape` says which. */
export function expectArgs(cmd: ClientCommand, n: number, shape: string): void {
  if (cmd.positionals.length !== n) {
    throw new UsageError(
      `'${cmd.command}' takes ${shape}: got ${cmd.positionals.length} argument(s) (see --help)`,
    );
  }
}

/** Reads the "LAT LON" lines of the route file at `path`; blank lines and `#` comments are skipped. */
export function parseRouteFile(text: string, path: string): Point[] {
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

/** Reads `chat`'s LAT LON MESSAGE triples into notes. */
export function parseNoteArgs(args: string[]): RouteNote[] {
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
