/**
 * Mutants that behave exactly as the original code, so no test can tell
 * them apart. Each is matched by module, mutator, the exact code replaced
 * and the exact replacement; `kind` groups them in docs/mutation.md, which
 * gives the reason for each kind.
 *
 * @module
 */

import type { Equivalent } from "./score.ts";

/** The known equivalent mutants. */
export const EQUIVALENTS: readonly Equivalent[] = [];
