/**
 * `lib/web/static_files.ts`: the page's files over GET and HEAD with the
 * types, security and cache headers they need, conditional requests per
 * RFC 9110 §13.1.2, and no path leading outside the folder, whatever its
 * encoding, symlinks included.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createStaticFiles } from "../../lib/web/static_files.ts";
import { fakeExchange } from "./_fake_exchange.ts";

const PAGE = "<!doctype html><title>RouteGuide</title><script src=app.js></script>";

/** A temporary folder `outside/` beside `web/`, with the page's files and some traps. */
async function makeSite(): Promise<{ base: string; serve: ReturnType<typeof createStaticFiles> }> {
  const base = await Deno.makeTempDir({ prefix: "static_files_test_" });
  await Deno.mkdir(`${base}/web/sub`, { recursive: true });
  await Deno.mkdir(`${base}/outside`);
  const files: Record<string, string> = {
    "web/index.html": PAGE,
    "web/app.js": "console.log(1);",
    "web/style.css": "body{}",
    "web/map.svg": "<svg/>",
    "web/data.json": "{}",
    "web/notes.txt": "notes",
    "web/sub/index.html": "<p>sub</p>",
    "web/sub/deep.txt": "deep",
    "web/.env": "SECRET=1",
    "web/tool.sh": "rm -rf /",
    "web/README": "no extension",
    "outside/secret.txt": "secret",
    "web-secret.txt": "beside the root",
  };
  for (const [path, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${base}/${path}`, text);
  }
  await Deno.symlink(`${base}/outside/secret.txt`, `${base}/web/escape.txt`);
  await Deno.symlink(`${base}/outside`, `${base}/web/out`);
  await Deno.symlink(`${base}/web/notes.txt`, `${base}/web/alias.txt`);
  const serve = createStaticFiles({ root: new URL(`file://${base}/web/`) });
  return { base, serve };
}

/** Requests `path` and returns whether it was served, with the recorded answer. */
async function get(
  serve: ReturnType<typeof createStaticFiles>,
  path: string,
  method = "GET",
  headers: Record<string, string> = {},
) {
  const { exchange, response } = fakeExchange({ method, path, headers });
  const served = await serve(exchange);
  if (!served) {
    assert.equal(response.status, undefined, `${path}: answered though it returned false`);
  }
  return { served, response, text: new TextDecoder().decode(response.body) };
}

Deno.test("createStaticFiles() serves / as index.html with CSP, nosniff, no-cache and an ETag", async () => {
  const { base, serve } = await makeSite();
  try {
    const { served, response, text } = await get(serve, "/");
    assert.ok(served);
    assert.equal(response.status, 200);
    assert.equal(text, PAGE);
    const headers = response.headers as Record<string, string>;
    assert.equal(headers["content-type"], "text/html; charset=utf-8");
    assert.equal(headers["content-length"], String(new TextEncoder().encode(PAGE).length));
    assert.equal(headers["x-content-type-options"], "nosniff");
    assert.equal(headers["cache-control"], "no-cache");
    assert.match(headers["etag"], /^"[^"]+"$/);
    const csp = headers["content-security-policy"];
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /img-src 'self' data:(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal((await get(serve, "/index.html?v=2#top")).text, PAGE);
    assert.equal((await get(serve, "/sub/")).text, "<p>sub</p>");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("each extension gets its content type; CSP only on HTML", async () => {
  const { base, serve } = await makeSite();
  try {
    const types: Record<string, string> = {
      "/app.js": "text/javascript",
      "/style.css": "text/css",
      "/map.svg": "image/svg+xml",
      "/data.json": "application/json",
      "/notes.txt": "text/plain",
      "/sub/deep.txt": "text/plain",
      "/alias.txt": "text/plain", // a symlink that stays inside
    };
    for (const [path, type] of Object.entries(types)) {
      const { served, response } = await get(serve, path);
      assert.ok(served, path);
      const headers = response.headers as Record<string, string>;
      assert.equal(headers["content-type"].split(";")[0], type, path);
      assert.equal(headers["content-security-policy"], undefined, path);
      assert.equal(headers["x-content-type-options"], "nosniff", path);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("HEAD gets the headers and no body; other methods are left to the caller", async () => {
  const { base, serve } = await makeSite();
  try {
    const head = await get(serve, "/app.js", "HEAD");
    assert.ok(head.served);
    assert.equal(head.response.status, 200);
    assert.equal(head.response.body.length, 0);
    assert.equal((head.response.headers as Record<string, string>)["content-length"], "15");
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      assert.equal((await get(serve, "/app.js", method)).served, false, method);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("If-None-Match with the ETag gets 304 without a body; another tag gets 200", async () => {
  const { base, serve } = await makeSite();
  try {
    const etag = (await get(serve, "/")).response.headers["etag"] as string;
    for (const ifNoneMatch of [etag, `"x", ${etag}`, `W/${etag}`, "*"]) {
      const { response } = await get(serve, "/", "GET", { "if-none-match": ifNoneMatch });
      assert.equal(response.status, 304, ifNoneMatch);
      assert.equal(response.body.length, 0);
      assert.equal(response.headers["etag"], etag);
      assert.equal(response.headers["cache-control"], "no-cache");
    }
    const other = await get(serve, "/", "GET", { "if-none-match": '"other"' });
    assert.equal(other.response.status, 200);
    assert.notEqual((await get(serve, "/app.js")).response.headers["etag"], etag);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("no path leads outside the folder, however it is spelled", async () => {
  const { base, serve } = await makeSite();
  try {
    const attacks = [
      "/../outside/secret.txt",
      "/sub/../../outside/secret.txt",
      "/%2e%2e/outside/secret.txt",
      "/%2E%2E/outside/secret.txt",
      "/.%2e/outside/secret.txt",
      "/sub/%2e%2e/%2e%2e/outside/secret.txt",
      "/..%2foutside%2fsecret.txt",
      "/..%2Foutside/secret.txt",
      "/..\\outside\\secret.txt",
      "/%5c..%5coutside%5csecret.txt",
      "/notes.txt%00.html",
      "/notes.txt\0",
      "//outside/secret.txt",
      `/${base}/outside/secret.txt`,
      `${base}/outside/secret.txt`,
      "/../web-secret.txt",
      "/escape.txt", // a symlink to a file outside
      "/out/secret.txt", // a symlinked folder outside
      "/.env",
      "/%2eenv",
      "/./notes.txt",
      "/%E0%A4%A", // bad percent-encoding
      "/%ZZ.txt",
      "/tool.sh", // a type not served
      "/README",
      "/sub", // a folder
      "/missing.html",
      "",
      "*",
    ];
    for (const path of attacks) {
      const { served, response } = await get(serve, path);
      assert.equal(served, false, `${path} was served: ${response.status}`);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a missing root serves nothing and throws nothing", async () => {
  const serve = createStaticFiles({ root: new URL("file:///nonexistent/web/") });
  assert.equal((await get(serve, "/")).served, false);
});

Deno.test("a dot folder's files and doubled slashes are never served; a 304 ends its answer; a tag with W/ inside its quotes is not the ETag", async () => {
  const { base, serve } = await makeSite();
  try {
    await Deno.mkdir(`${base}/web/.git`);
    await Deno.writeTextFile(`${base}/web/.git/config.txt`, "secret");
    for (const path of ["/.git/config.txt", "/sub//deep.txt"]) {
      assert.equal((await get(serve, path)).served, false, path);
    }
    const etag = (await get(serve, "/")).response.headers["etag"] as string;
    const cached = await get(serve, "/", "GET", { "if-none-match": etag });
    assert.equal(cached.response.status, 304);
    assert.equal(cached.response.ended, true);
    const inside = await get(serve, "/", "GET", { "if-none-match": `"W/${etag.slice(1)}` });
    assert.equal(inside.response.status, 200);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("a root missing at first is looked for again: created later, its files are served", async () => {
  const base = await Deno.makeTempDir({ prefix: "static_files_test_" });
  try {
    const serve = createStaticFiles({ root: new URL(`file://${base}/web/`) });
    assert.equal((await get(serve, "/notes.txt")).served, false);
    await Deno.mkdir(`${base}/web`);
    await Deno.writeTextFile(`${base}/web/notes.txt`, "notes");
    const later = await get(serve, "/notes.txt");
    assert.equal(later.served, true);
    assert.equal(later.text, "notes");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
