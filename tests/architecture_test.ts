/**
 * The architecture, held by a test: the imports of every module in `lib/`
 * and of the two entry points are read and checked against what each folder
 * may depend on (the README's "Architecture" and each folder's `mod.ts` say
 * the same in words). Dependencies point one way:
 *
 *     core  ←  notes, data, grpc (with http2)  ←  server  ←  server.ts
 *     http2  ←  web;  http1, web  ←  server
 *     core, data, grpc  ←  cli  ←  client.ts
 *
 * Doc examples are not dependencies: comments are left out of the reading.
 */

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const LIB = join(ROOT, "lib");

/** What a module may import beyond its own folder. */
interface Rule {
  /** Folders of `lib/` (for the entry points: any path under `lib/` starting so). */
  folders: readonly string[];
  /** Bare specifiers (import-map names and `node:` modules). */
  packages: readonly RegExp[];
  /** Other files of the project, relative to its root. */
  files?: readonly string[];
}

const NODE = /^node:/;
/** The gRPC libraries: only `lib/grpc/` may import them. */
const GRPC = /^(@grpc\/(grpc-js|proto-loader|reflection)|grpc-health-check|protobufjs)(\/|$)/;

const RULES: Record<string, Rule> = {
  core: { folders: [], packages: [] },
  notes: { folders: ["core"], packages: [NODE, /^postgres$/] },
  http2: { folders: [], packages: [NODE] },
  http1: { folders: [], packages: [NODE] },
  web: { folders: ["http2"], packages: [NODE, /^@bufbuild\/protobuf(\/|$)/] },
  data: { folders: ["core"], packages: [NODE] },
  grpc: { folders: ["core", "http2"], packages: [NODE, GRPC] },
  server: {
    folders: ["core", "notes", "http2", "http1", "web", "data", "grpc"],
    packages: [NODE, /^@opentelemetry\/api$/, /^pkijs$/, /^asn1js$/],
    // The server task's Deno flags are read from the task itself.
    files: ["deno.json"],
  },
  cli: { folders: ["core", "data", "grpc"], packages: [NODE] },
};

/** The entry points and the library's public module, with what they may import. */
const ENTRY_RULES: Record<string, Rule> = {
  "server.ts": { folders: ["core", "server"], packages: [NODE] },
  "client.ts": { folders: ["cli"], packages: [NODE] },
  "lib/mod.ts": { folders: ["core", "grpc", "server"], packages: [NODE] },
};

/** Code without its comments (block comments and whole-line `//` comments). */
export function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** The specifiers a module imports or re-exports, statically or with a literal `import()`. */
export function importsOf(source: string): string[] {
  const code = withoutComments(source);
  const found: string[] = [];
  const patterns = [
    /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?[^;"']*?\bfrom\s*["']([^"']+)["']/g,
    /(?:^|[\s;])import\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

/** Every `.ts` file under a folder, recursively, as absolute paths. */
function tsFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(folder)) {
    const path = join(folder, entry.name);
    if (entry.isDirectory) files.push(...tsFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/** The folder of `lib/` a path is in (`"core"`, …), or `undefined` outside them. */
function folderOf(path: string): string | undefined {
  const rel = relative(LIB, path);
  if (rel.startsWith("..") || !rel.includes("/")) return undefined;
  return rel.split("/")[0];
}

/** Why `specifier`, imported by `from`, breaks `rule`; `undefined` when it does not. */
function breach(from: string, specifier: string, rule: Rule): string | undefined {
  if (specifier.startsWith("npm:") || specifier.startsWith("jsr:")) {
    return "names a registry directly; packages go through the import map in deno.json";
  }
  if (!specifier.startsWith(".")) {
    return rule.packages.some((p) => p.test(specifier)) ? undefined : "a package it may not use";
  }
  const target = join(dirname(from), specifier);
  const own = folderOf(from);
  const folder = folderOf(target);
  if (folder !== undefined) {
    return folder === own || rule.folders.includes(folder)
      ? undefined
      : `a module of lib/${folder}/, which it may not depend on`;
  }
  const file = relative(ROOT, target);
  return rule.files?.includes(file) ? undefined : `${file}, outside what it may depend on`;
}

/** Every broken rule in the project: `file: specifier (why)`. */
function breaches(): string[] {
  const found: string[] = [];
  const check = (path: string, rule: Rule) => {
    for (const specifier of importsOf(Deno.readTextFileSync(path))) {
      const why = breach(path, specifier, rule);
      if (why !== undefined) found.push(`${relative(ROOT, path)}: "${specifier}" (${why})`);
    }
  };
  for (const path of tsFiles(LIB)) {
    const entry = ENTRY_RULES[relative(ROOT, path)];
    if (entry !== undefined) {
      check(path, entry);
      continue;
    }
    const folder = folderOf(path);
    const rule = folder === undefined ? undefined : RULES[folder];
    if (rule === undefined) {
      found.push(`${relative(ROOT, path)}: in no folder the architecture knows (add it to RULES)`);
    } else {
      check(path, rule);
    }
  }
  for (const entry of ["server.ts", "client.ts"]) check(join(ROOT, entry), ENTRY_RULES[entry]);
  return found;
}

Deno.test("architecture: every import in lib/, server.ts and client.ts points the allowed way", () => {
  assert.deepEqual(breaches(), []);
});

Deno.test("architecture: lib/core/ does no I/O and imports nothing outside itself", () => {
  const io = /\bDeno\.|\bfetch\(|\bprocess\.|\bglobalThis\b/;
  const found: string[] = [];
  for (const path of tsFiles(join(LIB, "core"))) {
    const code = withoutComments(Deno.readTextFileSync(path));
    const line = code.split("\n").find((l) => io.test(l));
    if (line !== undefined) found.push(`${relative(ROOT, path)}: ${line.trim()}`);
  }
  assert.deepEqual(found, []);
});

Deno.test("architecture: only lib/grpc/ imports the gRPC libraries, and it does", () => {
  const users = new Set<string>();
  for (const path of [...tsFiles(LIB), join(ROOT, "server.ts"), join(ROOT, "client.ts")]) {
    if (importsOf(Deno.readTextFileSync(path)).some((s) => GRPC.test(s))) {
      users.add(folderOf(path) ?? relative(ROOT, path));
    }
  }
  assert.deepEqual([...users], ["grpc"]);
});

Deno.test("architecture: every folder of lib/ has rules here and a mod.ts saying what it is", () => {
  const folders = [...Deno.readDirSync(LIB)].filter((e) => e.isDirectory).map((e) => e.name);
  assert.deepEqual(folders.sort(), Object.keys(RULES).sort());
  for (const folder of folders) {
    const doc = Deno.readTextFileSync(join(LIB, folder, "mod.ts"));
    assert.match(doc, /@module/, `lib/${folder}/mod.ts has no module doc`);
    assert.match(doc, /May import:/, `lib/${folder}/mod.ts does not say what it may import`);
  }
});

Deno.test("architecture: the import reader finds what it must and skips doc examples", () => {
  const source = [
    "/**",
    " * ```ts",
    ' * import { x } from "../server/serve.ts";',
    " * ```",
    " */",
    'import { a } from "./a.ts";',
    'import type { B } from "../core/b.ts";',
    "import {",
    "  c,",
    "  type D,",
    '} from "node:net";',
    'export { e } from "./e.ts";',
    'export * from "./f.ts";',
    'import "./side_effect.ts";',
    'const pg = await import("postgres");',
    '// import { z } from "./commented.ts";',
    'const text = "this is not an import from \\"x\\"";',
  ].join("\n");
  assert.deepEqual(importsOf(source).sort(), [
    "../core/b.ts",
    "./a.ts",
    "./e.ts",
    "./f.ts",
    "./side_effect.ts",
    "node:net",
    "postgres",
  ]);
});
