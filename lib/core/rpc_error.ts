/**
 * gRPC status codes and the error that carries one, for code that must not
 * depend on a gRPC library.
 *
 * @module
 */

/** The gRPC status codes, all seventeen, with their wire values. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** One of the {@linkcode Code} values. */
export type Code = typeof Code[keyof typeof Code];

/** The name of a status code, e.g. `INVALID_ARGUMENT` for 3. */
export function codeName(code: number): string {
  for (const [name, value] of Object.entries(Code)) {
    if (value === code) return name;
  }
  return `CODE_${code}`;
}

/**
 * An error that ends a call with a specific gRPC status.
 *
 * @example
 * ```ts
 * import { Code, RpcError } from "./rpc_error.ts";
 * import assert from "node:assert/strict";
 * const error = new RpcError(Code.INVALID_ARGUMENT, "latitude is out of range");
 * assert.equal(error.code, 3);
 * assert.equal(error.message, "latitude is out of range");
 * ```
 */
export class RpcError extends Error {
  /** The status code the call ends with. */
  readonly code: Code;

  /** Creates an error ending a call with `code` and `message` as its details. */
  constructor(code: Code, message: string) {
    super(message);
    this.name = "RpcError";
    this.code = code;
  }
}
