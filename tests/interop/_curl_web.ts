/**
 * curl (Debian's) as a web client for the interop tests: one or more
 * transfers in one curl run (`--next`, so later ones reuse the connection
 * when the server keeps it alive), each answer's status, header fields and
 * body read back from files, and how many new connections each transfer
 * opened. Plus protobuf and gRPC-Web framing by hand, independent of lib/.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runProcess } from "../_process.ts";
import { fields, pointBytes } from "../_proto.ts";

export { pointBytes };

/** Every curl run is bounded. */
const CURL_TIMEOUT_MS = 20_000;

/** One request of a curl run. */
export interface Transfer {
  /** The path and query, e.g. `/routeguide.RouteGuide/GetFeature`. */
  path: string;
  /**
   * The request body; a GET without one.
   * @default {no body: GET}
   */
  body?: Uint8Array | string;
  /** Request header fields, `Name: value`. */
  headers?: string[];
  /**
   * The request method.
   * @default {GET without a body, POST with one}
   */
  method?: string;
}

/** What one transfer got back. */
export interface Reply {
  /** The HTTP status, or 0 when none came. */
  status: number;
  /** The response header fields (names lower-cased). */
  headers: Map<string, string>;
  /** The response body. */
  body: Uint8Array;
  /** The body as text. */
  text: string;
  /** New connections this transfer opened (0: it reused the previous one; always 1 on h2c). */
  connects: number;
  /** The command, curl's stderr and the header dump, for assertion messages. */
  log: string;
}

/** Parses `Name: value` lines into a map with lower-cased names. */
export function fieldBlock(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) out.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return out;
}

/** Runs `transfers` against `baseUrl` in one curl process, over HTTP/1.1 or h2c. */
export async function curlTransfers(
  baseUrl: string,
  http: "HTTP/1.1" | "h2c",
  transfers: Transfer[],
): Promise<Reply[]> {
  if (http === "h2c" && transfers.length > 1) {
    // curl 7.88's --next on a prior-knowledge h2c connection fails the
    // second transfer ("Error in the HTTP2 framing layer", against any
    // server): one curl per transfer.
    const replies: Reply[] = [];
    for (const t of transfers) replies.push(...await curlTransfers(baseUrl, http, [t]));
    return replies;
  }
  const dir = await Deno.makeTempDir({ prefix: "routeguide_curl_web_" });
  try {
    const args: string[] = [];
    for (const [i, t] of transfers.entries()) {
      if (i > 0) args.push("--next");
      args.push("--silent", "--show-error", "--noproxy", "*", "--max-time", "15");
      args.push(http === "h2c" ? "--http2-prior-knowledge" : "--http1.1");
      args.push("--dump-header", `${dir}/headers${i}`, "--output", `${dir}/body${i}`);
      args.push("--write-out", `${i} %{num_connects}\\n`);
      if (t.body !== undefined) {
        const bytes = typeof t.body === "string" ? new TextEncoder().encode(t.body) : t.body;
        await Deno.writeFile(`${dir}/request${i}`, bytes);
        args.push("--data-binary", `@${dir}/request${i}`);
      }
      if (t.method !== undefined) args.push("--request", t.method);
      for (const h of t.headers ?? []) args.push("--header", h);
      args.push(`${baseUrl}${t.path}`);
    }
    const run = await runProcess("curl", args, { timeoutMs: CURL_TIMEOUT_MS });
    const command = `curl ${args.join(" ")}`;
    assert.ok(!run.timedOut, `${command} was killed after ${CURL_TIMEOUT_MS} ms`);
    assert.equal(run.code, 0, `${command} exited with ${run.code}: ${run.stderr}`);
    const connects = new Map(
      run.stdout.trim().split("\n").map((line) => line.split(" ").map(Number) as [number, number]),
    );
    const replies: Reply[] = [];
    for (let i = 0; i < transfers.length; i++) {
      const dump = await Deno.readTextFile(`${dir}/headers${i}`).catch(() => "");
      const body = await Deno.readFile(`${dir}/body${i}`).catch(() => new Uint8Array());
      const [statusLine = "", ...headerLines] = dump.replaceAll("\r\n", "\n").split("\n\n")[0]
        .split("\n");
      replies.push({
        status: Number(statusLine.match(/^HTTP\/\S+ (\d{3})/)?.[1] ?? 0),
        headers: fieldBlock(headerLines),
        body,
        text: new TextDecoder().decode(body),
        connects: connects.get(i) ?? -1,
        log: `${command}\nstderr: ${run.stderr}\n--- answer ${i} ---\n${dump}`,
      });
    }
    return replies;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// --- protobuf by hand (proto3 wire format) -------------------------------------

/** Decodes `Feature { string name = 1; Point location = 2; }`. */
export function decodeFeature(
  bytes: Uint8Array,
): { name: string; location: { latitude: number; longitude: number } } {
  const f = fields(bytes);
  const name = f.get(1);
  const location = fields((f.get(2) as Uint8Array | undefined) ?? new Uint8Array());
  return {
    name: name === undefined ? "" : new TextDecoder().decode(name as Uint8Array),
    location: {
      latitude: (location.get(1) as number | undefined) ?? 0,
      longitude: (location.get(2) as number | undefined) ?? 0,
    },
  };
}

// --- gRPC-Web framing (PROTOCOL-WEB.md) ---------------------------------------

/** A frame: a flag byte (0x80: trailers), a 4-byte big-endian length, the bytes. */
export function frame(payload: Uint8Array, flag = 0): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** One frame of a body. */
export interface Frame {
  flag: number;
  payload: Uint8Array;
}

/** Splits a gRPC-Web body into frames; fails on a frame cut short. */
export function frames(body: Uint8Array): Frame[] {
  const out: Frame[] = [];
  let at = 0;
  while (at < body.length) {
    assert.ok(at + 5 <= body.length, `a frame header cut short at byte ${at}`);
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    assert.ok(at + 5 + length <= body.length, `a frame of ${length} bytes cut short`);
    out.push({ flag: body[at], payload: body.slice(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** The fields of a trailer frame (`name: value` lines, CRLF-ended). */
export function trailerFields(payload: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of new TextDecoder().decode(payload).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return out;
}

/**
 * Decodes a gRPC-Web text body: base64 whose chunks may each carry their
 * own padding, so it is decoded one padded segment at a time.
 */
export function decodeTextBody(text: string): Uint8Array {
  const segments = text.replace(/\s/g, "").match(/[A-Za-z0-9+/]*={0,2}/g) ?? [];
  const parts = segments.filter((s) => s !== "").map((s) => {
    assert.ok(s.length % 4 === 0, `a base64 segment of ${s.length} characters: ${s}`);
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Base64 of `bytes`. */
export function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
