/**
 * STAND-IN for the `webparts` branch's static_files.ts (same API); replaced on merge.
 *
 * @module
 */

import type { HttpExchange } from "./exchange.ts";

/** Serves the page's folder; false when no such file. */
export function createStaticFiles(
  _options: { root: URL },
): (exchange: HttpExchange) => Promise<boolean> {
  return () => Promise.resolve(false);
}
