/**
 * What this project knows about the Deno versions it runs on.
 *
 * @module
 */

/** The Deno version the project is pinned to (`.dvmrc`) and tested on. */
export const PINNED_DENO_VERSION = "2.8.3";

/** Versions known to abort the whole process when grpc-js clients disconnect after a burst of calls. */
const ABORTING = ["2.9.4", "2.9.5", "2.9.6"];

/**
 * Returns a warning to print at start-up when `version` is not the tested
 * one, saying how much worse it is known to be; `undefined` when it is.
 */
export function runtimeWarning(version: string): string | undefined {
  if (version === PINNED_DENO_VERSION) return undefined;
  const pin = `use the pinned Deno: npx -y deno@${PINNED_DENO_VERSION} task server`;
  if (ABORTING.includes(version)) {
    return `WARNING: Deno ${version} is known to abort the whole server process when a client ` +
      `disconnects in the middle of calls (nghttp2 assertion, denoland/deno#36788); ${pin}`;
  }
  return `WARNING: Deno ${version} is untested with this server (tested: ${PINNED_DENO_VERSION}); ` +
    `crashes and unbounded memory use were measured on other versions; ${pin}`;
}
