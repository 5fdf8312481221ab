/**
 * Targets that name several servers, `HOST:PORT,HOST:PORT`: each host a DNS
 * name, an IPv4 address, or an IPv6 address in brackets (`[::1]:50051`).
 * Pure parsing; `target_list_resolver.ts` turns a list into a grpc-js channel.
 *
 * @module
 */

import { isIPv4, isIPv6 } from "node:net";

/** One server of a target list. */
export interface HostPort {
  /** A DNS name or an IP address (IPv6 without brackets). */
  host: string;
  /** 1 to 65535. */
  port: number;
}

/** Whether `target` is a list of servers rather than one grpc-js target. */
export function isTargetList(target: string): boolean {
  return target.includes(",");
}

/** `host:port`, with brackets around an IPv6 address. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A DNS name: dot-separated labels of letters, digits, `-` and `_`. */
const HOST_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** What is wrong with one entry, or its parts. */
function parseEntry(entry: string): HostPort | string {
  if (entry === "") return "is empty (a stray comma?): remove it";
  const example = "e.g. localhost:50051 or [::1]:50051";
  let host: string;
  let port: string;
  const bracketed = entry.match(/^\[([^\]]*)\](?::(.*))?$/);
  if (bracketed !== null) {
    host = bracketed[1];
    if (!isIPv6(host)) return `has "${host}" in brackets, which is not an IPv6 address`;
    if (bracketed[2] === undefined) return `has no port: write it as [${host}]:PORT`;
    port = bracketed[2];
  } else {
    const colon = entry.lastIndexOf(":");
    if (entry.includes("/")) {
      return `is not HOST:PORT: a list takes plain HOST:PORT entries, not URIs (${example})`;
    }
    if (colon < 0) return `has no port: write it as ${entry}:PORT (${example})`;
    host = entry.slice(0, colon);
    port = entry.slice(colon + 1);
    if (host.includes(":")) {
      return isIPv6(host)
        ? `is an IPv6 address without brackets: write it as [${host}]:${port}`
        : `is not HOST:PORT (${example})`;
    }
    if (host === "") return `has no host: write it as HOST:${port} (${example})`;
    if (!isIPv4(host) && !HOST_NAME.test(host)) {
      return `has "${host}", which is not a host name or an IP address (${example})`;
    }
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535) {
    return `has port "${port}": a port is a whole number from 1 to 65535`;
  }
  return { host, port: n };
}

/** What is wrong with a target list, naming the entry and how to write it; `undefined` if nothing. */
export function targetListProblem(target: string): string | undefined {
  for (const raw of target.split(",")) {
    const entry = raw.trim();
    const parsed = parseEntry(entry);
    if (typeof parsed === "string") return `entry "${entry}" ${parsed}`;
  }
  return undefined;
}

/**
 * Splits a target list into its servers; throws a `TypeError` naming the
 * first bad entry and how to write it.
 *
 * @example
 * ```ts
 * import { parseTargetList } from "./target_list.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseTargetList("localhost:50051,[::1]:50052"), [
 *   { host: "localhost", port: 50051 },
 *   { host: "::1", port: 50052 },
 * ]);
 * assert.throws(() => parseTargetList("localhost:50051,app2"), /entry "app2" has no port/);
 * ```
 */
export function parseTargetList(target: string): HostPort[] {
  const problem = targetListProblem(target);
  if (problem !== undefined) throw new TypeError(`Cannot parse target list: ${problem}`);
  return target.split(",").map((entry) => parseEntry(entry.trim()) as HostPort);
}
