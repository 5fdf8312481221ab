/**
 * What the tests ask of their environment: whether this is CI, and a free
 * loopback port.
 *
 * @module
 */

/** Whether this runs in CI (`CI=true`), where a missing tool fails instead of skipping. */
export function isCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
}

/**
 * A loopback port nothing listened on a moment ago (bound, then released).
 * Another process may take it before the caller binds it: callers that
 * cannot retry should hold a listener instead.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
