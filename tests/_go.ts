/**
 * Builds the grpc-go interop client (tests/interop/go) at test time, offline,
 * in GOPATH mode from Debian's Go packages: the stubs are generated from
 * protos/route_guide.proto into a temporary GOPATH (nothing generated is
 * committed).
 *
 * The Go build cache lives in `$XDG_CACHE_HOME/routeguide-go` (or
 * `~/.cache/routeguide-go`): Go's cache is content-addressed and safe for
 * concurrent builds, so a warm cache only saves time (about 50 s of compiling
 * grpc-go on a cold one). Without a usable home it goes in the temporary
 * directory and is thrown away.
 *
 * @module
 */

import { runProcess } from "./_process.ts";
import { ROOT } from "./_server.ts";

/** Debian packages the Go client needs. */
export const GO_PACKAGES: string[] = [
  "golang-go",
  "golang-google-grpc-dev",
  "golang-google-protobuf-dev",
  "golang-github-golang-protobuf-1-5-dev",
  "protobuf-compiler",
  "protoc-gen-go",
  "protoc-gen-go-grpc",
];

/** Where Debian's Go packages keep their sources. */
const GOCODE = "/usr/share/gocode";
/** Import path of the generated stubs, as the client imports them. */
const STUBS = "routeguideinterop/pb";
const CLIENT_DIR = `${ROOT}tests/interop/go`;

function runsOk(command: string, args: string[]): string | undefined {
  try {
    const out = new Deno.Command(command, { args, stdin: "null", stdout: "null", stderr: "piped" })
      .outputSync();
    if (out.success) return undefined;
    return `\`${command} ${args.join(" ")}\` exited with ${out.code}: ${
      new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)
    }`;
  } catch (error) {
    return `cannot run ${command}: ${(error as Error).message}`;
  }
}

/** Why the Go client cannot be built here, or `undefined` when it can. */
export function goProblem(): string | undefined {
  const problems = [
    runsOk("go", ["version"]),
    runsOk("protoc", ["--version"]),
    runsOk("protoc-gen-go", ["--version"]),
    runsOk("protoc-gen-go-grpc", ["--version"]),
  ].filter((p) => p !== undefined);
  for (const lib of ["google.golang.org/grpc", "google.golang.org/protobuf", "golang.org/x/net"]) {
    try {
      Deno.statSync(`${GOCODE}/src/${lib}`);
    } catch {
      problems.push(`no ${GOCODE}/src/${lib}`);
    }
  }
  return problems.length === 0 ? undefined : problems.join("; ");
}

/** The persistent Go build cache directory, or `undefined` when there is no usable home. */
function persistentCache(): string | undefined {
  try {
    const base = Deno.env.get("XDG_CACHE_HOME") ||
      (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : undefined);
    if (base === undefined) return undefined;
    const dir = `${base}/routeguide-go`;
    Deno.mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}

/** A built Go client; dispose to remove its temporary directory. */
export interface GoClient extends AsyncDisposable {
  /** Path of the executable. */
  path: string;
  /** How long generating, vetting and building took, in milliseconds. */
  buildMs: number;
  /** The Go build cache used. */
  cache: string;
}

/** How long one step of the build may take: compiling grpc-go on a busy machine is slow. */
const BUILD_STEP_TIMEOUT_MS = 600_000;

async function run(
  command: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string },
) {
  const out = await runProcess(command, args, { ...options, timeoutMs: BUILD_STEP_TIMEOUT_MS });
  if (out.timedOut || out.code !== 0) {
    const how = out.timedOut
      ? `was killed after ${BUILD_STEP_TIMEOUT_MS} ms`
      : `exited with ${out.code}`;
    throw new Error(`${command} ${args.join(" ")} ${how}:\n${out.stderr}${out.stdout}`);
  }
}

/**
 * Generates the stubs, runs `go vet` on the client and builds it into a new
 * temporary directory. Offline: GOPATH mode over Debian's sources, no modules.
 */
export async function buildGoClient(): Promise<GoClient> {
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "routeguide-go-" });
  const cleanup = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    const cache = persistentCache() ?? `${dir}/cache`;
    const stubs = `${dir}/src/${STUBS}`;
    await Deno.mkdir(stubs, { recursive: true });
    const mapping = `Mroute_guide.proto=${STUBS}`;
    await run("protoc", [
      `-I${ROOT}protos`,
      `--go_out=${stubs}`,
      "--go_opt=paths=source_relative",
      `--go_opt=${mapping}`,
      `--go-grpc_out=${stubs}`,
      "--go-grpc_opt=paths=source_relative",
      `--go-grpc_opt=${mapping}`,
      "route_guide.proto",
    ], { env: {}, cwd: dir });
    const env = {
      GO111MODULE: "off",
      GOFLAGS: "",
      GOENV: "off",
      GOPATH: `${dir}:${GOCODE}`,
      GOCACHE: cache,
      // Pure Go: no C compiler needed.
      CGO_ENABLED: "0",
    };
    await run("go", ["vet", "."], { env, cwd: CLIENT_DIR });
    const path = `${dir}/routeguide-interop`;
    await run("go", ["build", "-o", path, "."], { env, cwd: CLIENT_DIR });
    return {
      path,
      buildMs: performance.now() - started,
      cache,
      [Symbol.asyncDispose]: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
