/**
 * Throwaway PostgreSQL servers for tests: a fresh cluster in a temporary
 * directory, on a free port of 127.0.0.1, trusting every local connection,
 * gone again after {@linkcode ThrowawayPostgres.stop}.
 *
 * The server binaries (`initdb`, `pg_ctl`, `postgres`) come from, in order:
 * - `ROUTEGUIDE_TEST_PG_BIN`, a directory holding them; one that does not,
 *   such as `/nonexistent`, makes the tests behave as if PostgreSQL were not
 *   installed (to check that they skip, or fail under `CI=true`);
 * - the directory of `pg_ctl` on the `PATH`;
 * - the highest version under `/usr/lib/postgresql/` (Debian's layout, where
 *   `apt-get install postgresql` puts them off the `PATH`).
 *
 * PostgreSQL refuses to run as root, so as root (as in CI) the server runs
 * as the `postgres` user that Debian's package creates, or else `nobody`,
 * through `runuser` or `setpriv`.
 *
 * Needs `--allow-run`, `--allow-read`, `--allow-write`, `--allow-net`,
 * `--allow-env` and `--allow-sys=uid,gid`: the project's test permissions.
 *
 * @module
 */

import postgres from "postgres";
import { freePort, isCi } from "./_env.ts";

const BINARIES = ["initdb", "pg_ctl", "postgres"];
const INSTALL_HINT = "install Debian's postgresql (`apt-get install postgresql`)";
/** The superuser `initdb` creates, and the user in every URL. */
const SUPERUSER = "postgres";
/** The database {@linkcode ThrowawayPostgres.url} names. */
const TEST_DATABASE = "routeguide_test";
/** Settings for speed: the data is thrown away, so nothing needs to survive a crash. */
const FAST_SETTINGS: Record<string, string> = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
};

function hasBinaries(dir: string): boolean {
  return BINARIES.every((name) => {
    try {
      return Deno.statSync(`${dir}/${name}`).isFile;
    } catch {
      return false;
    }
  });
}

function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Finds the directory of the PostgreSQL server binaries; see the module docs for where it looks. */
export function findPostgresBin(): string | undefined {
  const override = envVar("ROUTEGUIDE_TEST_PG_BIN");
  if (override !== undefined) return hasBinaries(override) ? override : undefined;
  for (const dir of (envVar("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      // Debian links only some of them onto the PATH: look beside the real one.
      const real = Deno.realPathSync(`${dir}/pg_ctl`);
      const bin = real.slice(0, real.lastIndexOf("/"));
      if (hasBinaries(bin)) return bin;
    } catch {
      // Not in this directory.
    }
  }
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((entry) => entry.name)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const bin = `/usr/lib/postgresql/${version}/bin`;
      if (hasBinaries(bin)) return bin;
    }
  } catch {
    // No /usr/lib/postgresql, or no permission to look.
  }
  return undefined;
}

/** Where the PostgreSQL server binaries are, or `undefined` when they are not installed. */
export const POSTGRES_BIN: string | undefined = findPostgresBin();

/** A PostgreSQL server started by {@linkcode startThrowawayPostgres}. */
export interface ThrowawayPostgres extends AsyncDisposable {
  /** `postgres://postgres@127.0.0.1:PORT/routeguide_test`: an empty database, no password. */
  url: string;
  /** The TCP port it listens on, on 127.0.0.1. */
  port: number;
  /** The temporary directory holding the cluster, its log and its socket. */
  dir: string;
  /** Creates another empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Runs `sql` (any number of statements) as the superuser and returns the last one's rows. */
  query(sql: string, database?: string): Promise<Record<string, unknown>[]>;
  /** What the server has logged so far, for failure messages. */
  log(): string;
  /** Stops the server at once and removes its directory; harmless to repeat. */
  stop(): Promise<void>;
}

/** Options for {@linkcode startThrowawayPostgres}. */
export interface ThrowawayPostgresOptions {
  /**
   * Server settings (`-c NAME=VALUE`) over the defaults, which turn off
   * fsync and the like for speed; e.g. `{ fsync: "on" }` to measure.
   */
  settings?: Record<string, string>;
}

/** The unprivileged user PostgreSQL runs as when the tests run as root. */
interface RunAs {
  name: string;
  uid: number;
  gid: number;
  /** The command prefix that runs a program as this user. */
  prefix: string[];
}

function findProgram(name: string): string | undefined {
  const dirs = [...(envVar("PATH") ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Picks the user to run PostgreSQL as: none unless this is root. */
function runAs(): RunAs | undefined {
  if (Deno.uid() !== 0) return undefined;
  const users = new Map<string, { uid: number; gid: number }>();
  for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (gid !== undefined) users.set(name, { uid: Number(uid), gid: Number(gid) });
  }
  const name = ["postgres", "nobody"].find((name) => users.has(name));
  if (name === undefined) {
    throw new Error(
      "PostgreSQL refuses to run as root, and there is neither a postgres nor a nobody user " +
        `to run it as; ${INSTALL_HINT}, which creates postgres`,
    );
  }
  const { uid, gid } = users.get(name)!;
  const runuser = findProgram("runuser");
  const setpriv = findProgram("setpriv");
  const prefix = runuser !== undefined
    ? [runuser, "-u", name, "--"]
    : setpriv !== undefined
    ? [setpriv, `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"]
    : undefined;
  if (prefix === undefined) {
    throw new Error(
      `PostgreSQL refuses to run as root, and neither runuser nor setpriv (util-linux) is there ` +
        `to run it as ${name}`,
    );
  }
  return { name, uid, gid, prefix };
}

/** Whether `user` may pass through every directory above `path`. */
function canTraverse(path: string, user: RunAs): boolean {
  const parts = path.split("/").filter((part) => part !== "");
  for (let i = 0; i < parts.length; i++) {
    const dir = "/" + parts.slice(0, i).join("/");
    const { mode, uid, gid } = Deno.statSync(dir);
    if (mode === null) return true;
    const bit = uid === user.uid ? 0o100 : gid === user.gid ? 0o010 : 0o001;
    if ((mode & bit) === 0) return false;
  }
  return true;
}

/** Makes the temporary directory, owned by `user` when there is one. */
async function makeDir(user: RunAs | undefined): Promise<string> {
  if (user === undefined) return await Deno.makeTempDir({ prefix: "routeguide_pg_" });
  // The system's temporary directory first ($TMPDIR may be one the user cannot reach).
  for (const parent of [undefined, "/tmp"]) {
    const dir = await Deno.makeTempDir({ dir: parent, prefix: "routeguide_pg_" });
    if (canTraverse(dir, user)) {
      await Deno.chown(dir, user.uid, user.gid);
      await Deno.chmod(dir, 0o700);
      return dir;
    }
    await Deno.remove(dir);
  }
  throw new Error(`the ${user.name} user cannot reach a temporary directory, not even in /tmp`);
}

async function run(
  prefix: string[],
  command: string,
  args: string[],
  cwd: string,
): Promise<{ ok: boolean; output: string }> {
  const [program, ...rest] = [...prefix, command, ...args];
  const { success, stdout, stderr } = await new Deno.Command(program, {
    args: rest,
    cwd,
    env: { LC_ALL: "C" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { ok: success, output: (decode(stdout) + decode(stderr)).trim() };
}

/**
 * Stops the server should this process die first (a SIGINT, a crash): a
 * shell, detached from this process and ignoring the signals a terminal
 * sends, checks every second that this process and the data directory are
 * still there. Returns its pid.
 */
async function startWatchdog(dir: string): Promise<number> {
  const script = `
    trap '' INT HUP
    while kill -0 "$1" 2>/dev/null && [ -d "$2/data" ]; do sleep 1; done
    if [ -f "$2/data/postmaster.pid" ]; then
      pid=$(head -n 1 "$2/data/postmaster.pid")
      kill -QUIT "$pid" 2>/dev/null
      i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
      kill -KILL "$pid" 2>/dev/null
    fi
    rm -rf "$2"
  `;
  const { stdout } = await new Deno.Command("sh", {
    args: [
      "-c",
      `sh -c "$0" watchdog "$1" "$2" </dev/null >/dev/null 2>&1 & echo $!`,
      script,
      `${Deno.pid}`,
      dir,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return Number(new TextDecoder().decode(stdout).trim());
}

/** Runs `sql` through a connection of its own, closed before returning. */
async function adminQuery(
  port: number,
  database: string,
  sql: string,
): Promise<Record<string, unknown>[]> {
  const connection = postgres({
    host: "127.0.0.1",
    port,
    user: SUPERUSER,
    database,
    // Set, so that no PG* variable of the environment can change them.
    pass: "",
    ssl: false,
    max: 1,
    connect_timeout: 10,
    fetch_types: false,
    onnotice: () => {},
  });
  try {
    const results = await connection.unsafe(sql);
    // Several statements give a list of results; keep the last one's rows.
    const last = results.length > 0 && Array.isArray(results[0]) ? results.at(-1) : results;
    return [...(last as Iterable<Record<string, unknown>>)];
  } finally {
    await connection.end({ timeout: 1 });
  }
}

/**
 * Starts a throwaway PostgreSQL server: `initdb` into a fresh temporary
 * directory, then `pg_ctl start` on a free port of 127.0.0.1 with its Unix
 * socket in that directory (never beside a system server's), and creates the
 * database {@linkcode ThrowawayPostgres.url} names. Takes a second or two.
 *
 * Each call starts a server of its own, so test files running in parallel
 * never share one. Use with `await using`, or call `stop()`; should this
 * process die first, a watchdog stops the server and removes its directory.
 *
 * @throws {Error} when PostgreSQL is not installed or does not start; the
 *   message carries its output.
 */
export async function startThrowawayPostgres(
  options: ThrowawayPostgresOptions = {},
): Promise<ThrowawayPostgres> {
  const bin = POSTGRES_BIN;
  if (bin === undefined) throw new Error(`PostgreSQL is not installed: ${INSTALL_HINT}`);
  const user = runAs();
  const prefix = user?.prefix ?? [];
  const dir = await makeDir(user);
  const data = `${dir}/data`;
  const logFile = `${dir}/server.log`;
  const readLog = () => {
    try {
      return Deno.readTextFileSync(logFile);
    } catch {
      return "";
    }
  };
  let watchdog: number | undefined;
  let stopped = false;

  const pgCtlStop = [...prefix, `${bin}/pg_ctl`, "stop", "-D", data, "-m", "immediate", "-w"];
  const stopWatchdog = () => {
    if (watchdog === undefined) return;
    try {
      Deno.kill(watchdog, "SIGTERM");
    } catch {
      // It saw the server go and left.
    }
  };
  // For the unload event, which cannot wait for promises.
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    globalThis.removeEventListener("unload", stopNow);
    const [program, ...args] = pgCtlStop;
    try {
      new Deno.Command(program, { args, cwd: dir, stdin: "null", stdout: "null", stderr: "null" })
        .outputSync();
    } catch {
      // Never started, or already gone.
    }
    stopWatchdog();
    Deno.removeSync(dir, { recursive: true });
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    globalThis.removeEventListener("unload", stopNow);
    const [program, ...args] = pgCtlStop;
    // Fails when the server never started or is already gone: nothing to do then.
    await run([], program, args, dir);
    stopWatchdog();
    await Deno.remove(dir, { recursive: true });
  };
  globalThis.addEventListener("unload", stopNow);

  try {
    const init = await run(prefix, `${bin}/initdb`, [
      "-D",
      data,
      "-U",
      SUPERUSER,
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ], dir);
    if (!init.ok) throw new Error(`initdb failed:\n${init.output}`);
    watchdog = await startWatchdog(dir);

    const settings = {
      ...FAST_SETTINGS,
      ...options.settings,
      listen_addresses: "127.0.0.1",
      unix_socket_directories: dir,
    };
    const serverOptions = Object.entries(settings).map(([name, value]) => `-c ${name}='${value}'`);
    // Another process may take the free port before the server binds it: try another.
    let port = 0;
    for (let attempt = 1;; attempt++) {
      port = freePort();
      const start = await run(prefix, `${bin}/pg_ctl`, [
        "start",
        "-D",
        data,
        "-l",
        logFile,
        "-w",
        "-t",
        "30",
        "-o",
        [`-p ${port}`, ...serverOptions].join(" "),
      ], dir);
      if (start.ok) break;
      if (attempt === 3 || !/could not bind|Address already in use/.test(readLog())) {
        throw new Error(`pg_ctl start failed:\n${start.output}\n--- server log ---\n${readLog()}`);
      }
    }
    await adminQuery(port, "postgres", `CREATE DATABASE ${TEST_DATABASE}`);
    const [{ server_version_num }] = await adminQuery(port, "postgres", "SHOW server_version_num");
    // FILE_COPY (PostgreSQL 15 and later) copies the few files of the
    // template instead of logging every page: about twice as fast here.
    const strategy = Number(server_version_num) >= 150000 ? " STRATEGY FILE_COPY" : "";
    let databases = 0;

    const url = (database: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
    return {
      url: url(TEST_DATABASE),
      port,
      dir,
      async createDatabase() {
        const name = `${TEST_DATABASE}_${++databases}`;
        await adminQuery(port, "postgres", `CREATE DATABASE ${name}${strategy}`);
        return url(name);
      },
      query: (sql, database = TEST_DATABASE) => adminQuery(port, database, sql),
      log: readLog,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A test body given the file's throwaway server. */
export type PgTestFn = (pg: ThrowawayPostgres) => Promise<void> | void;

/** Tests sharing one throwaway PostgreSQL; see {@linkcode createPgTests}. */
export interface PgTests {
  /** Whether PostgreSQL is installed; when not, `test()` registers skipped (or, under `CI=true`, failing) tests. */
  available: boolean;
  /** The shared server, started by the first call; later calls get the same one. */
  server(): Promise<ThrowawayPostgres>;
  /** Registers a Deno test that runs `fn` with the shared server. */
  test(name: string, fn: PgTestFn): void;
  /** Stops the shared server, if started (also done when the module unloads). */
  stop(): Promise<void>;
}

/**
 * Creates a group of tests that share one throwaway PostgreSQL server,
 * started lazily by the first test that needs it: a test file calls it once,
 * registers its tests with `test()`, and registers `stop()` as its last
 * test. Without PostgreSQL each test is skipped, with one warning saying
 * why, except under `CI=true`, where each one fails saying what to install.
 *
 * @example
 * ```ts ignore
 * const pg = createPgTests();
 * pg.test("a query", async (server) => {
 *   await server.query("SELECT 1");
 * });
 * Deno.test("stop the throwaway PostgreSQL", pg.stop);
 * ```
 */
export function createPgTests(): PgTests {
  const bin = POSTGRES_BIN;
  const why = envVar("ROUTEGUIDE_TEST_PG_BIN") !== undefined
    ? `ROUTEGUIDE_TEST_PG_BIN=${
      envVar("ROUTEGUIDE_TEST_PG_BIN")
    } holds no initdb, pg_ctl and postgres`
    : "no initdb, pg_ctl and postgres on the PATH or under /usr/lib/postgresql";
  let started: Promise<ThrowawayPostgres> | undefined;
  let warned = false;
  const server = () => started ??= startThrowawayPostgres();
  return {
    available: bin !== undefined,
    server,
    test(name, fn) {
      if (bin !== undefined) {
        Deno.test(name, async () => await fn(await server()));
      } else if (isCi()) {
        Deno.test(name, () => {
          throw new Error(`CI=true but PostgreSQL is not installed (${why}): ${INSTALL_HINT}`);
        });
      } else {
        if (!warned) {
          warned = true;
          console.warn(`PostgreSQL not installed (${why}): skipping its tests; ${INSTALL_HINT}`);
        }
        Deno.test({ name, ignore: true, fn() {} });
      }
    },
    async stop() {
      if (started === undefined) return;
      const pending = started;
      started = undefined;
      await (await pending.catch(() => undefined))?.stop();
    },
  };
}
