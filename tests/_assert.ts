/**
 * Assertions the tests share.
 *
 * @module
 */

import assert from "node:assert/strict";
import { codeName, RpcError } from "../lib/core/rpc_error.ts";

/**
 * Asserts that `promise` rejects with a gRPC error of `code`: our
 * {@linkcode RpcError}, or a grpc-js `ServiceError` (an `Error` with a
 * numeric `code` and its `details`). `detail` is either a pattern the
 * error's message must match, or a name for the call in failure messages.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: number,
  detail?: RegExp | string,
): Promise<void> {
  const what = typeof detail === "string" ? `${detail}: ` : "";
  await assert.rejects(promise, (error: unknown) => {
    const grpcError = error instanceof RpcError ||
      (error instanceof Error && typeof (error as { code?: unknown }).code === "number");
    assert.ok(grpcError, `${what}expected a gRPC error, got ${error}`);
    const got = (error as { code: number }).code;
    const message = (error as { details?: string }).details ?? (error as Error).message;
    assert.equal(got, code, `${what}expected ${codeName(code)}, got ${codeName(got)}: ${message}`);
    if (detail instanceof RegExp) assert.match(message, detail);
    return true;
  }, typeof detail === "string" ? detail : undefined);
}
