/**
 * The server's settings: command-line flags, each also readable from an
 * environment variable (a flag overrides its variable).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DEFAULT_MAX_LOCATIONS, DEFAULT_MAX_NOTES_PER_LOCATION } from "./route_notes.ts";
import { DEFAULT_MAX_NOTE_BYTES } from "./route_guide_service.ts";

/** The project's own feature database, found from this module's location. */
export const DEFAULT_DB_PATH: string = decodeURIComponent(
  new URL("../data/route_guide_db.json", import.meta.url).pathname,
);

/** Everything the server can be told. */
export interface ServerConfig {
  /** Address to listen on. */
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Path of the feature database. */
  db: string;
  /** Seconds calls in flight may take to finish after SIGINT/SIGTERM. */
  graceSeconds: number;
  /** Most notes kept at one location. */
  maxNotesPerLocation: number;
  /** Most locations with notes. */
  maxNoteLocations: number;
  /** Longest RouteNote message, in UTF-8 bytes. */
  maxNoteBytes: number;
}

/** A mistake in the flags or variables, worth one line and exit code 2. */
export class UsageError extends Error {
  /** Creates the error with a message saying what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

interface Setting {
  flag: string;
  env: string;
  key: keyof ServerConfig;
  kind: "string" | "port" | "seconds" | "count";
  default: string | number;
  help: string;
}

/** Every server setting, in the order `--help` and the README list them. */
export const SERVER_SETTINGS: readonly Setting[] = [
  {
    flag: "host",
    env: "ROUTEGUIDE_HOST",
    key: "host",
    kind: "string",
    default: "0.0.0.0",
    help: "address to listen on",
  },
  {
    flag: "port",
    env: "ROUTEGUIDE_PORT",
    key: "port",
    kind: "port",
    default: 50051,
    help: "port to listen on; 0 picks a free port",
  },
  {
    flag: "db",
    env: "ROUTEGUIDE_DB",
    key: "db",
    kind: "string",
    default: "data/route_guide_db.json",
    help: "feature database (JSON)",
  },
  {
    flag: "grace",
    env: "ROUTEGUIDE_GRACE",
    key: "graceSeconds",
    kind: "seconds",
    default: 10,
    help: "seconds to let calls finish on SIGINT/SIGTERM",
  },
  {
    flag: "max-notes-per-location",
    env: "ROUTEGUIDE_MAX_NOTES_PER_LOCATION",
    key: "maxNotesPerLocation",
    kind: "count",
    default: DEFAULT_MAX_NOTES_PER_LOCATION,
    help: "RouteChat notes kept per location (oldest dropped)",
  },
  {
    flag: "max-note-locations",
    env: "ROUTEGUIDE_MAX_NOTE_LOCATIONS",
    key: "maxNoteLocations",
    kind: "count",
    default: DEFAULT_MAX_LOCATIONS,
    help: "locations with notes (least recently written dropped)",
  },
  {
    flag: "max-note-bytes",
    env: "ROUTEGUIDE_MAX_NOTE_BYTES",
    key: "maxNoteBytes",
    kind: "count",
    default: DEFAULT_MAX_NOTE_BYTES,
    help: "longest RouteNote message in bytes",
  },
];

function convert(setting: Setting, raw: string, source: string): string | number {
  const bad = (what: string) =>
    new UsageError(`${source} must be ${what}: got ${JSON.stringify(raw)}`);
  switch (setting.kind) {
    case "string":
      if (raw === "") throw bad("a non-empty value");
      return raw;
    case "port": {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n > 65535) throw bad("a port number from 0 to 65535");
      return n;
    }
    case "seconds": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n) || n < 0) {
        throw bad("a number of seconds, 0 or more");
      }
      return n;
    }
    case "count": {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < 1 || !Number.isSafeInteger(n)) {
        throw bad("a whole number, 1 or more");
      }
      return n;
    }
  }
}

/** The `--help` text. */
export function serverUsage(): string {
  const rows = SERVER_SETTINGS.map((s) =>
    `  --${`${s.flag} VALUE`.padEnd(32)} ${s.help} (default ${s.default}; env ${s.env})`
  );
  return [
    "Usage: deno task server [options]",
    "",
    "Serves the RouteGuide gRPC service and prints `listening on HOST:PORT (N features)`",
    "once it accepts calls.",
    "",
    "Options:",
    ...rows,
    `  ${"--help".padEnd(34)} show this help`,
  ].join("\n");
}

/**
 * Reads the server's settings from its arguments and environment.
 *
 * Returns `"help"` when `--help` was given; throws a {@linkcode UsageError}
 * on a bad flag or value.
 */
export function parseServerConfig(
  args: string[],
  env: (name: string) => string | undefined = () => undefined,
): ServerConfig | "help" {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const s of SERVER_SETTINGS) options[s.flag] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]} (see --help)`);
  }
  if (values.help) return "help";
  const config: Record<string, string | number> = {};
  for (const s of SERVER_SETTINGS) {
    const flag = values[s.flag] as string | undefined;
    const fromEnv = env(s.env);
    if (flag !== undefined) config[s.key] = convert(s, flag, `--${s.flag}`);
    else if (fromEnv !== undefined && fromEnv !== "") config[s.key] = convert(s, fromEnv, s.env);
    else config[s.key] = s.key === "db" ? DEFAULT_DB_PATH : s.default;
  }
  return config as unknown as ServerConfig;
}
