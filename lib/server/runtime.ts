/**
 * What this project knows about the Deno versions it runs on.
 *
 * @module
 */

/** The Deno version the project is pinned to (`.dvmrc`) and tested on. */
export const PINNED_DENO_VERSION = "2.9.3";

/**
 * Versions whose `node:http2` client aborts the whole process when a
 * connection closes in the middle of calls (denoland/deno#36788). The server
 * no longer uses `node:http2`; grpc-js clients (`client.ts`, the client
 * library, the tests) still do.
 */
const CLIENT_ABORTING = ["2.9.4", "2.9.5", "2.9.6"];

/**
 * Returns a warning to print at start-up when `version` is not the tested
 * one, saying how much worse it is known to be; `undefined` when it is.
 */
export function runtimeWarning(version: string): string | undefined {
  if (version === PINNED_DENO_VERSION) return undefined;
  const pin = `use the pinned Deno: npx -y deno@${PINNED_DENO_VERSION} task server`;
  if (CLIENT_ABORTING.includes(version)) {
    return `WARNING: Deno ${version} is known to abort a whole process whose grpc-js clients ` +
      "lose a connection in the middle of calls (nghttp2 assertion in its node:http2 client, " +
      `denoland/deno#36788): this server does not use it, but client.ts does; ${pin}`;
  }
  return `WARNING: Deno ${version} is untested with this server (tested: ${PINNED_DENO_VERSION}); ` +
    `crashes and unbounded memory use were measured on other versions; ${pin}`;
}
