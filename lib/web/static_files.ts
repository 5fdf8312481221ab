/**
 * The page's files (the `web/` folder), served read-only over GET and HEAD:
 * a content type from a fixed table, a Content-Security-Policy on HTML,
 * `nosniff`, ETags with `If-None-Match` → 304. No request path leads outside
 * the folder: dot segments, encoded slashes and dots, backslashes, NUL and
 * dot files are refused before the file system is touched, and a symlink is
 * followed only when its target is still inside the folder. Needs only
 * `--allow-read`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { HttpExchange } from "./exchange.ts";

/** Options of {@linkcode createStaticFiles}. */
export interface StaticFilesOptions {
  /** The folder served, as a `file:` URL (a trailing `/` is optional). */
  root: URL;
}

/** The types served, by extension; any other file is not served at all. */
const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  json: "application/json",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
};

/**
 * The page runs only its own files, calls only its own origin, and may not
 * be framed; `data:` images allow inline icons.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * `no-cache`: the browser keeps its copy but asks each time, and the ETag
 * makes the answer a body-less 304. The files have no content hash in their
 * names (no build step), so any max-age could pair a new `index.html` with an
 * old `app.js` after an upgrade; a revalidation on loopback or a LAN is cheap.
 */
const CACHE_CONTROL = "no-cache";

/**
 * Makes the handler: it answers a GET or HEAD for a file under `root` and
 * returns `true`, or returns `false` without answering (another method, an
 * unsafe or undecodable path, no such file, a type not served) so that the
 * caller answers 404 or 405. `/` and paths ending in `/` serve `index.html`.
 */
export function createStaticFiles(
  options: StaticFilesOptions,
): (exchange: HttpExchange) => Promise<boolean> {
  const rootPath = fileURLToPath(options.root).replace(/\/+$/, "");
  let realRoot: Promise<string> | undefined;
  return async (exchange) => {
    if (exchange.method !== "GET" && exchange.method !== "HEAD") return false;
    const segments = safeSegments(exchange.path);
    if (segments === undefined) return false;
    const type = CONTENT_TYPES[segments[segments.length - 1].replace(/^.*\./, "")];
    if (type === undefined || !segments[segments.length - 1].includes(".")) return false;
    let body: Uint8Array;
    try {
      realRoot ??= Deno.realPath(rootPath);
      const root = await realRoot;
      const real = await Deno.realPath(`${root}/${segments.join("/")}`);
      if (!real.startsWith(`${root}/`) || !(await Deno.stat(real)).isFile) return false;
      body = await Deno.readFile(real);
    } catch (error) {
      // A missing root is retried on the next request rather than cached as a failure.
      if (error instanceof Deno.errors.NotFound) realRoot = undefined;
      return false;
    }
    answer(exchange, type, body);
    return true;
  };
}

/**
 * The path's segments, decoded, or `undefined` when the path is not a plain
 * relative walk down the folder. `index.html` is appended to a path ending in `/`.
 */
function safeSegments(target: string): string[] | undefined {
  const path = target.replace(/[?#].*$/s, "");
  // Encoded separators and NUL would change the meaning of the path after decoding.
  if (!path.startsWith("/") || /\\|%2f|%5c|%00|\0/i.test(path)) return undefined;
  const raw = path.slice(1).split("/");
  if (raw[raw.length - 1] === "") raw[raw.length - 1] = "index.html";
  const segments: string[] = [];
  for (const segment of raw) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    // "" is a doubled slash; "." and ".." walk; dot files (.git, .env) are never served.
    if (decoded === "" || decoded.startsWith(".") || /[\\/\0]/.test(decoded)) return undefined;
    segments.push(decoded);
  }
  return segments;
}

/** Sends the file, or a 304 when the client's copy is current. */
function answer(exchange: HttpExchange, type: string, body: Uint8Array): void {
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  const headers: Record<string, string> = {
    "content-type": type,
    etag,
    "cache-control": CACHE_CONTROL,
    "x-content-type-options": "nosniff",
  };
  if (type.startsWith("text/html")) {
    headers["content-security-policy"] = CONTENT_SECURITY_POLICY;
    headers["referrer-policy"] = "no-referrer";
  }
  if (matches(exchange.headers["if-none-match"], etag)) {
    exchange.respond(304, headers);
    exchange.end();
    return;
  }
  headers["content-length"] = String(body.length);
  exchange.respond(200, headers);
  exchange.end(exchange.method === "HEAD" ? undefined : body);
}

/** Whether an `If-None-Match` list names `etag` (weak comparison, RFC 9110 §13.1.2). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed.replace(/^W\//, "") === etag;
  });
}
