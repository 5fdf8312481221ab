import assert from "node:assert/strict";
import { DEFAULT_MAX_NOTE_BYTES } from "../../lib/core/handlers.ts";
import { DEFAULT_MAX_LOCATIONS, DEFAULT_MAX_NOTES_PER_LOCATION } from "../../lib/notes/limits.ts";
import {
  DEFAULT_SHARED_NOTES_PATH,
  parseServerConfig,
  SERVER_SETTINGS,
  type ServerConfig,
  serverUsage,
} from "../../lib/server/config.ts";
import { DEFAULT_DB_PATH } from "../../lib/data/feature_file.ts";
import { UsageError } from "../../lib/core/usage_error.ts";

/** An environment holding only these variables. */
const envOf = (vars: Record<string, string>) => (name: string): string | undefined => vars[name];

/** Parses arguments that must give a configuration, not `"help"`. */
function parse(args: string[], vars: Record<string, string> = {}): ServerConfig {
  const config = parseServerConfig(args, envOf(vars));
  assert.notEqual(config, "help");
  return config as ServerConfig;
}

/** Asserts that parsing throws a `UsageError` whose message matches. */
function assertUsageError(args: string[], vars: Record<string, string>, message: RegExp): void {
  assert.throws(() => parseServerConfig(args, envOf(vars)), (error) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${error}`);
    assert.equal(error.name, "UsageError");
    assert.match(error.message, message);
    return true;
  }, `${args.join(" ")} ${JSON.stringify(vars)}`);
}

Deno.test("parseServerConfig() without flags or variables gives the defaults", () => {
  const expected: ServerConfig = {
    host: "0.0.0.0",
    port: 50051,
    db: DEFAULT_DB_PATH,
    graceSeconds: 10,
    maxNotesPerLocation: DEFAULT_MAX_NOTES_PER_LOCATION,
    maxNoteLocations: DEFAULT_MAX_LOCATIONS,
    maxNoteBytes: DEFAULT_MAX_NOTE_BYTES,
    maxConcurrentStreams: 100,
    maxConcurrentLists: 64,
    maxMessageBytes: 4 * 1024 * 1024,
    maxMetadataBytes: 8192,
    maxConnections: 1000,
    keepaliveSeconds: 60,
    keepaliveTimeoutSeconds: 20,
    maxConnectionIdleSeconds: 0,
    maxConnectionAgeSeconds: 0,
    logLevel: "notice",
    logFormat: "text",
    notes: "memory",
    workers: 1,
    corsOrigins: [],
  };
  assert.deepEqual(parse([]), expected);
  // The environment is optional.
  assert.deepEqual(parseServerConfig([]), expected);
});

Deno.test("parseServerConfig() takes TLS files in pairs, and a client CA only with them", () => {
  assert.deepEqual(
    pick(parse(["--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem"])),
    { tlsCert: "c.pem", tlsKey: "k.pem", tlsClientCa: "ca.pem" },
  );
  assertUsageError(["--tls-cert", "c.pem"], {}, /--tls-cert and --tls-key go together/);
  assertUsageError(["--tls-key", "k.pem"], {}, /--tls-cert and --tls-key go together/);
  assertUsageError(["--tls-client-ca", "ca.pem"], {}, /--tls-client-ca needs --tls-cert/);
  assertUsageError([], { ROUTEGUIDE_TLS_CERT: "c.pem" }, /go together/);
});

function pick({ tlsCert, tlsKey, tlsClientCa }: ServerConfig) {
  return { tlsCert, tlsKey, tlsClientCa };
}

Deno.test("the default database is the project's own, whatever the working directory", () => {
  assert.ok(DEFAULT_DB_PATH.endsWith("/data/route_guide_db.json"), DEFAULT_DB_PATH);
  assert.ok(DEFAULT_DB_PATH.startsWith("/"), "an absolute path");
  assert.equal(
    DEFAULT_DB_PATH,
    decodeURIComponent(new URL("../../data/route_guide_db.json", import.meta.url).pathname),
  );
  assert.ok(Deno.statSync(DEFAULT_DB_PATH).isFile);
});

/** A valid raw value for each kind of setting, and what it parses to. */
const SAMPLES = {
  string: ["127.0.0.1", "127.0.0.1"],
  path: ["/tmp/file.pem", "/tmp/file.pem"],
  port: ["8080", 8080],
  seconds: ["2.5", 2.5],
  count: ["7", 7],
  level: ["debug", "debug"],
  format: ["json", "json"],
  notes: ["sqlite:/tmp/notes.db", "sqlite:/tmp/notes.db"],
  workers: ["3", 3],
  origins: ["https://a.example, http://localhost:8080", [
    "https://a.example",
    "http://localhost:8080",
  ]],
} as const;

/** Every setting set to its sample value (TLS files come as a pair, so all are set). */
function sampleConfig() {
  const vars: Record<string, string> = {};
  const flags: string[] = [];
  const expected: Record<string, string | number | readonly string[]> = {};
  for (const s of SERVER_SETTINGS) {
    const [raw, value] = SAMPLES[s.kind];
    vars[s.env] = raw;
    flags.push(`--${s.flag}`, raw);
    expected[s.key] = value;
  }
  return { vars, flags, expected };
}

Deno.test("parseServerConfig() reads every setting from its variable when the flag is absent", () => {
  const { vars, expected } = sampleConfig();
  assert.deepEqual(parse([], vars), expected);
});

Deno.test("parseServerConfig() reads every setting from its flag", () => {
  const { flags, expected } = sampleConfig();
  assert.deepEqual(parse(flags), expected);
});

Deno.test("parseServerConfig() lets a flag override its variable", () => {
  const config = parse(["--port", "7000", "--grace", "1"], {
    ROUTEGUIDE_PORT: "8000",
    ROUTEGUIDE_GRACE: "30",
    ROUTEGUIDE_HOST: "localhost",
  });
  assert.equal(config.port, 7000);
  assert.equal(config.graceSeconds, 1);
  assert.equal(config.host, "localhost"); // no flag: the variable still counts
  // A flag even overrides a variable that would be invalid.
  assert.equal(parse(["--port", "1"], { ROUTEGUIDE_PORT: "x" }).port, 1);
});

Deno.test("parseServerConfig() ignores an empty variable", () => {
  assert.equal(parse([], { ROUTEGUIDE_PORT: "", ROUTEGUIDE_HOST: "" }).port, 50051);
  assert.equal(parse([], { ROUTEGUIDE_HOST: "" }).host, "0.0.0.0");
});

Deno.test("parseServerConfig() accepts ports 0 and 65535", () => {
  assert.equal(parse(["--port", "0"]).port, 0);
  assert.equal(parse(["--port", "65535"]).port, 65535);
  assert.equal(parse([], { ROUTEGUIDE_PORT: "0" }).port, 0);
});

Deno.test("parseServerConfig() rejects a bad port, naming the flag or variable", () => {
  assertUsageError(
    ["--port", "70000"],
    {},
    /^--port must be a port number from 0 to 65535: got "70000"$/,
  );
  assertUsageError(["--port", "65536"], {}, /^--port must be a port number/);
  assertUsageError(
    ["--port", "abc"],
    {},
    /^--port must be a port number from 0 to 65535: got "abc"$/,
  );
  assertUsageError(["--port", "1.5"], {}, /^--port must be a port number/);
  assertUsageError(["--port", ""], {}, /^--port must be a port number/);
  assertUsageError(["--port", "-1"], {}, /'--port'/);
  assertUsageError(["--port=-1"], {}, /^--port must be a port number/);
  assertUsageError(
    [],
    { ROUTEGUIDE_PORT: "x" },
    /^ROUTEGUIDE_PORT must be a port number from 0 to 65535: got "x"$/,
  );
  assertUsageError([], { ROUTEGUIDE_PORT: "99999" }, /^ROUTEGUIDE_PORT must be/);
});

Deno.test("parseServerConfig() rejects a negative or non-numeric grace period", () => {
  assertUsageError(["--grace", "-1"], {}, /'--grace'/);
  assertUsageError(
    ["--grace=-1"],
    {},
    /^--grace must be a number of seconds, 0 or more: got "-1"$/,
  );
  assertUsageError(["--grace", "soon"], {}, /^--grace must be a number of seconds/);
  assertUsageError(["--grace", "Infinity"], {}, /^--grace must be a number of seconds/);
  assertUsageError([], { ROUTEGUIDE_GRACE: "-5" }, /^ROUTEGUIDE_GRACE must be a number of seconds/);
  assertUsageError([], { ROUTEGUIDE_GRACE: " " }, /^ROUTEGUIDE_GRACE must be a number of seconds/);
});

Deno.test("parseServerConfig() rejects limits that are not whole numbers of 1 or more", () => {
  assertUsageError(
    ["--max-note-bytes", "0"],
    {},
    /^--max-note-bytes must be a whole number, 1 or more: got "0"$/,
  );
  assertUsageError(
    ["--max-notes-per-location", "2.5"],
    {},
    /^--max-notes-per-location must be a whole number/,
  );
  assertUsageError(
    [],
    { ROUTEGUIDE_MAX_NOTE_LOCATIONS: "many" },
    /^ROUTEGUIDE_MAX_NOTE_LOCATIONS must be a whole number/,
  );
  assertUsageError(
    ["--max-note-locations", "99999999999999999999"],
    {},
    /^--max-note-locations must be a whole number/,
  );
});

Deno.test("parseServerConfig() rejects an empty host or database path", () => {
  assertUsageError(["--host", ""], {}, /^--host must be a non-empty value: got ""$/);
  assertUsageError(["--db="], {}, /^--db must be a non-empty value/);
});

Deno.test("parseServerConfig() rejects unknown flags, positionals and missing values", () => {
  assertUsageError(["--verbose"], {}, /'--verbose'.*\(see --help\)$/);
  assertUsageError(["-p", "1"], {}, /'-p'/);
  assertUsageError(["serve"], {}, /'serve'.*\(see --help\)$/);
  assertUsageError(["--port"], {}, /'--port <value>' argument missing/);
});

Deno.test('parseServerConfig() returns "help" for --help', () => {
  assert.equal(parseServerConfig(["--help"]), "help");
  assert.equal(parseServerConfig(["--port", "1", "--help"]), "help");
  // Help wins over a value that would be rejected.
  assert.equal(
    parseServerConfig(["--help", "--port", "abc"], envOf({ ROUTEGUIDE_PORT: "x" })),
    "help",
  );
});

Deno.test("serverUsage() lists every flag with its variable and default", () => {
  const usage = serverUsage();
  assert.match(usage, /^Usage: deno task server/);
  for (const s of SERVER_SETTINGS) {
    assert.ok(usage.includes(`--${s.flag} VALUE`), s.flag);
    assert.ok(usage.includes(`env ${s.env}`), s.env);
    if (s.default !== undefined) {
      assert.ok(usage.includes(`default ${s.default}`), `${s.flag} default`);
    }
  }
  assert.match(usage, /--help/);
});

Deno.test("parseServerConfig() reads --workers: a count from 1 to 256, or auto for one per core", () => {
  assert.equal(parse(["--workers", "4"]).workers, 4);
  assert.equal(parse([], { ROUTEGUIDE_WORKERS: "2" }).workers, 2);
  assert.equal(parse(["--workers", "auto"]).workers, navigator.hardwareConcurrency);
  assertUsageError(
    ["--workers", "0"],
    {},
    /^--workers must be auto or a whole number from 1 to 256: got "0"$/,
  );
  assertUsageError(["--workers", "257"], {}, /^--workers must be auto or a whole number/);
  assertUsageError([], { ROUTEGUIDE_WORKERS: "all" }, /^ROUTEGUIDE_WORKERS must be auto/);
});

Deno.test("parseServerConfig() keeps notes in a shared SQLite file by default with workers", () => {
  const one = parse([]);
  assert.equal(one.notes, "memory");
  const many = parse(["--workers", "2"]);
  assert.equal(many.notes, `sqlite:${DEFAULT_SHARED_NOTES_PATH}`);
  assert.ok(DEFAULT_SHARED_NOTES_PATH.endsWith("/data/route_notes.sqlite"));
  // A store that was asked for is kept, by flag or variable.
  assert.equal(parse(["--workers", "2", "--notes", "memory"]).notes, "memory");
  assert.equal(parse(["--workers", "2"], { ROUTEGUIDE_NOTES: "memory" }).notes, "memory");
  assert.equal(parse(["--workers", "3"], { ROUTEGUIDE_NOTES: "sqlite:x.db" }).notes, "sqlite:x.db");
});

Deno.test("parseServerConfig() takes PostgreSQL URLs for --notes and rejects other stores", () => {
  for (
    const url of [
      "postgres://routeguide@db.example:5432/routeguide",
      "postgresql://user:secret@127.0.0.1/notes?sslmode=require",
    ]
  ) {
    assert.equal(parse(["--notes", url]).notes, url);
  }
  assertUsageError(
    ["--notes", "postgres:///nohost"],
    {},
    /^--notes must be a URL like postgres:\/\/USER:PASSWORD@HOST:PORT\/DATABASE/,
  );
  assertUsageError(
    ["--notes", "redis://localhost"],
    {},
    /^--notes must be memory, sqlite:PATH or postgres:\/\/USER@HOST:PORT\/DATABASE: got "redis:\/\/localhost"$/,
  );
  assertUsageError(["--notes", "sqlite:"], {}, /^--notes must be memory, sqlite:PATH/);
});

Deno.test("--cors-origins takes * or a comma list of origins, and names a malformed one", () => {
  assert.equal(parse(["--cors-origins", "*"]).corsOrigins, "*");
  assert.deepEqual(parse([], { ROUTEGUIDE_CORS_ORIGINS: "https://a.example" }).corsOrigins, [
    "https://a.example",
  ]);
  for (
    const bad of ["example.com", "https://a.example/", "https://a.example/page", "ftp://a.example"]
  ) {
    assertUsageError(
      ["--cors-origins", `https://ok.example,${bad}`],
      {},
      new RegExp(
        `--cors-origins must be \\* or a comma-separated list of origins.*${
          bad.replace(/[.*/]/g, "\\$&")
        }`,
      ),
    );
  }
  assertUsageError(["--cors-origins", " , "], {}, /got none/);
});
