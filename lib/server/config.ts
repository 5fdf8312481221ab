/**
 * The server's settings: command-line flags, each also readable from an
 * environment variable (a flag overrides its variable).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_DB_PATH } from "../data/feature_file.ts";
import { DEFAULT_MAX_LOCATIONS, DEFAULT_MAX_NOTES_PER_LOCATION } from "../notes/limits.ts";
import { DEFAULT_MAX_NOTE_BYTES } from "../core/handlers.ts";
import { LOG_LEVELS, type LogFormat, type LogLevel } from "./telemetry.ts";
import { UsageError } from "../core/usage_error.ts";

/**
 * Where `--workers` above 1 keeps RouteChat notes unless told otherwise: a
 * file the workers share, next to the feature database.
 */
export const DEFAULT_SHARED_NOTES_PATH: string = fileURLToPath(
  new URL("../../data/route_notes.sqlite", import.meta.url),
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
  /** Concurrent calls (HTTP/2 streams) one connection may have open. */
  maxConcurrentStreams: number;
  /** Concurrent ListFeatures calls on the whole server. */
  maxConcurrentLists: number;
  /** Largest request message accepted, in bytes. */
  maxMessageBytes: number;
  /** Largest request metadata (headers) accepted, in bytes. */
  maxMetadataBytes: number;
  /** Most open connections; more are closed as they arrive. */
  maxConnections: number;
  /** Seconds between keepalive pings on a connection. */
  keepaliveSeconds: number;
  /** Seconds to wait for a ping's answer before closing the connection. */
  keepaliveTimeoutSeconds: number;
  /** Seconds a connection may stay without calls before it is closed; 0: no limit. */
  maxConnectionIdleSeconds: number;
  /** Seconds a connection may live before it is asked to go away; 0: no limit. */
  maxConnectionAgeSeconds: number;
  /** TLS certificate chain (PEM); with `tlsKey`, the server speaks TLS only. */
  tlsCert?: string;
  /** TLS private key (PEM). */
  tlsKey?: string;
  /** CA bundle (PEM) that client certificates must chain to; requires them. */
  tlsClientCa?: string;
  /** Plaintext port serving only the health service. */
  healthPort?: number;
  /** Origins whose pages may call the web protocols (CORS); `*` for any; none: same origin only. */
  corsOrigins: readonly string[] | "*";
  /**
   * Where RouteChat notes live: `memory`, `sqlite:PATH` (a file, shared by
   * the processes on one machine) or a `postgres://` URL (shared by
   * machines).
   */
  notes: string;
  /** Server processes sharing the port; 1 runs no supervisor. */
  workers: number;
  /** Least severe log level written. */
  logLevel: LogLevel;
  /** Log line format. */
  logFormat: LogFormat;
}

interface Setting {
  flag: string;
  env: string;
  key: keyof ServerConfig;
  kind:
    | "string"
    | "path"
    | "port"
    | "seconds"
    | "count"
    | "level"
    | "format"
    | "notes"
    | "workers"
    | "origins";
  default: string | number | undefined;
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
    flag: "max-concurrent-streams",
    env: "ROUTEGUIDE_MAX_CONCURRENT_STREAMS",
    key: "maxConcurrentStreams",
    kind: "count",
    default: 100,
    help: "concurrent calls per connection (HTTP/2 streams)",
  },
  {
    flag: "max-concurrent-lists",
    env: "ROUTEGUIDE_MAX_CONCURRENT_LISTS",
    key: "maxConcurrentLists",
    kind: "count",
    default: 64,
    help: "concurrent ListFeatures calls on the server; more get RESOURCE_EXHAUSTED",
  },
  {
    flag: "max-message-bytes",
    env: "ROUTEGUIDE_MAX_MESSAGE_BYTES",
    key: "maxMessageBytes",
    kind: "count",
    default: 4 * 1024 * 1024,
    help: "largest request message; larger ones get RESOURCE_EXHAUSTED",
  },
  {
    flag: "max-metadata-bytes",
    env: "ROUTEGUIDE_MAX_METADATA_BYTES",
    key: "maxMetadataBytes",
    kind: "count",
    default: 8192,
    help: "largest request metadata; larger gets RESOURCE_EXHAUSTED",
  },
  {
    flag: "max-connections",
    env: "ROUTEGUIDE_MAX_CONNECTIONS",
    key: "maxConnections",
    kind: "count",
    default: 1000,
    help: "open connections; more are closed on arrival",
  },
  {
    flag: "keepalive",
    env: "ROUTEGUIDE_KEEPALIVE",
    key: "keepaliveSeconds",
    kind: "seconds",
    default: 60,
    help: "seconds between keepalive pings to each client",
  },
  {
    flag: "keepalive-timeout",
    env: "ROUTEGUIDE_KEEPALIVE_TIMEOUT",
    key: "keepaliveTimeoutSeconds",
    kind: "seconds",
    default: 20,
    help: "seconds to wait for a ping answer before dropping the connection",
  },
  {
    flag: "max-connection-idle",
    env: "ROUTEGUIDE_MAX_CONNECTION_IDLE",
    key: "maxConnectionIdleSeconds",
    kind: "seconds",
    default: 0,
    help: "close connections idle this long; 0: never",
  },
  {
    flag: "max-connection-age",
    env: "ROUTEGUIDE_MAX_CONNECTION_AGE",
    key: "maxConnectionAgeSeconds",
    kind: "seconds",
    default: 0,
    help: "ask connections this old to reconnect; 0: never",
  },
  {
    flag: "tls-cert",
    env: "ROUTEGUIDE_TLS_CERT",
    key: "tlsCert",
    kind: "path",
    default: undefined,
    help: "TLS certificate chain (PEM); with --tls-key serves TLS only",
  },
  {
    flag: "tls-key",
    env: "ROUTEGUIDE_TLS_KEY",
    key: "tlsKey",
    kind: "path",
    default: undefined,
    help: "TLS private key (PEM)",
  },
  {
    flag: "tls-client-ca",
    env: "ROUTEGUIDE_TLS_CLIENT_CA",
    key: "tlsClientCa",
    kind: "path",
    default: undefined,
    help: "require client certificates signed by this CA (PEM)",
  },
  {
    flag: "notes",
    env: "ROUTEGUIDE_NOTES",
    key: "notes",
    kind: "notes",
    default: undefined,
    help: "RouteChat notes store: memory, sqlite:PATH or postgres://USER@HOST/DB " +
      "(memory; sqlite:data/route_notes.sqlite when --workers is above 1)",
  },
  {
    flag: "workers",
    env: "ROUTEGUIDE_WORKERS",
    key: "workers",
    kind: "workers",
    default: 1,
    help: "server processes sharing the port, restarted when they die; auto: one per core",
  },
  {
    flag: "health-port",
    env: "ROUTEGUIDE_HEALTH_PORT",
    key: "healthPort",
    kind: "port",
    default: undefined,
    help: "also serve health checks alone, in plaintext, on this port",
  },
  {
    flag: "cors-origins",
    env: "ROUTEGUIDE_CORS_ORIGINS",
    key: "corsOrigins",
    kind: "origins",
    default: undefined,
    help:
      "origins whose pages may call gRPC-Web and Connect: a comma list, or * (none: same origin only)",
  },
  {
    flag: "log-level",
    env: "ROUTEGUIDE_LOG_LEVEL",
    key: "logLevel",
    kind: "level",
    default: "notice",
    help: `least severe log line written: ${LOG_LEVELS.join(", ")} (info logs every call)`,
  },
  {
    flag: "log-format",
    env: "ROUTEGUIDE_LOG_FORMAT",
    key: "logFormat",
    kind: "format",
    default: "text",
    help: "log lines as text or json",
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

/** `*` or a comma-separated list of origins (`scheme://host[:port]`), each checked. */
function parseOrigins(raw: string, source: string): readonly string[] | "*" {
  if (raw.trim() === "*") return "*";
  const origins = raw.split(",").map((o) => o.trim()).filter((o) => o !== "");
  if (origins.length === 0) {
    throw new UsageError(`${source} must be * or a comma-separated list of origins: got none`);
  }
  for (const origin of origins) {
    const url = URL.canParse(origin) ? new URL(origin) : undefined;
    if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new UsageError(
        `${source} must be * or a comma-separated list of origins like https://example.com:8080 (scheme, host and port only, no path or trailing slash): ${
          JSON.stringify(origin)
        } is not one`,
      );
    }
  }
  return origins;
}

function convert(
  setting: Setting,
  raw: string,
  source: string,
): string | number | readonly string[] {
  const bad = (what: string) =>
    new UsageError(`${source} must be ${what}: got ${JSON.stringify(raw)}`);
  switch (setting.kind) {
    case "string":
    case "path":
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
    case "notes":
      if (raw === "memory" || /^sqlite:.+/.test(raw)) return raw;
      if (/^postgres(ql)?:\/\//.test(raw)) {
        if (URL.canParse(raw) && new URL(raw).hostname !== "") return raw;
        throw new UsageError(
          `${source} must be a URL like postgres://USER:PASSWORD@HOST:PORT/DATABASE: got one without a host or that does not parse`,
        );
      }
      throw bad("memory, sqlite:PATH or postgres://USER@HOST:PORT/DATABASE");
    case "workers": {
      if (raw === "auto") return navigator.hardwareConcurrency;
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < 1 || n > 256) throw bad("auto or a whole number from 1 to 256");
      return n;
    }
    case "level":
      if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
        throw bad(`one of ${LOG_LEVELS.join(", ")}`);
      }
      return raw;
    case "format":
      if (raw !== "text" && raw !== "json") throw bad("text or json");
      return raw;
    case "origins":
      return parseOrigins(raw, source);
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
    `  --${`${s.flag} VALUE`.padEnd(32)} ${s.help} (${
      s.default === undefined ? "" : `default ${s.default}; `
    }env ${s.env})`
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
  const config: Record<string, string | number | readonly string[] | undefined> = {};
  for (const s of SERVER_SETTINGS) {
    const flag = values[s.flag] as string | undefined;
    const fromEnv = env(s.env);
    if (flag !== undefined) config[s.key] = convert(s, flag, `--${s.flag}`);
    else if (fromEnv !== undefined && fromEnv !== "") config[s.key] = convert(s, fromEnv, s.env);
    else if (s.key === "db") config[s.key] = DEFAULT_DB_PATH;
    else if (s.default !== undefined) config[s.key] = s.default;
  }
  config.corsOrigins ??= [];
  // Workers share notes through a file unless told where else to keep them.
  config.notes ??= (config.workers as number) > 1
    ? `sqlite:${DEFAULT_SHARED_NOTES_PATH}`
    : "memory";
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together: give both or neither");
  }
  if (config.tlsClientCa !== undefined && config.tlsCert === undefined) {
    throw new UsageError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  return config as unknown as ServerConfig;
}
