/**
 * Assertions the tests share.
 *
 * @module
 */

import assert from "node:assert/strict";
import { codeName, RpcError } from "../lib/core/rpc_error.ts";

/**
 * Asserts that `promise` rejects with an {@linkcode RpcError} of `code`.
 * `detail` is either a pattern the error's message must match, or a name
 * for the call in failure messages.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: number,
  detail?: RegExp | string,
): Promise<void> {
  const what = typeof detail === "string" ? `${detail}: ` : "";
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RpcError, `${what}expected an RpcError, got ${error}`);
    assert.equal(
      error.code,
      code,
      `${what}expected ${codeName(code)}, got ${codeName(error.code)}: ${error.message}`,
    );
    if (detail instanceof RegExp) assert.match(error.message, detail);
    return true;
  }, typeof detail === "string" ? detail : undefined);
}
