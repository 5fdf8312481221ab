/**
 * Status codes as each protocol spells them: gRPC's numbers, the Connect
 * protocol's names and the HTTP status the Connect spec gives each, and
 * {@linkcode WebError}, the error a web protocol module throws for bad input.
 *
 * @module
 */

/** Connect's name for each gRPC status code, by number (0 is `ok`). */
const CONNECT_NAMES: readonly string[] = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

/** The HTTP status the Connect spec gives each code, by number. */
const CONNECT_HTTP_STATUS: readonly number[] = [
  200,
  499,
  500,
  400,
  504,
  404,
  409,
  403,
  429,
  400,
  409,
  400,
  501,
  500,
  503,
  500,
  401,
];

/** gRPC status codes the web modules name. */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** A code's Connect name (`invalid_argument`); out-of-range numbers read as `unknown`. */
export function connectCodeName(code: number): string {
  return CONNECT_NAMES[code] ?? "unknown";
}

/** A Connect name's gRPC number, or `undefined` for a name the spec does not have. */
export function codeFromConnectName(name: string): number | undefined {
  const index = CONNECT_NAMES.indexOf(name);
  return index < 0 ? undefined : index;
}

/** The HTTP status of a Connect error with this code. */
export function connectHttpStatus(code: number): number {
  return CONNECT_HTTP_STATUS[code] ?? 500;
}

/** Bad input a web protocol module refuses: a gRPC status code and a sentence saying what was wrong. */
export class WebError extends Error {
  /** The gRPC status code. */
  readonly code: number;

  /** An error with gRPC status `code`. */
  constructor(code: number, message: string) {
    super(message);
    this.name = "WebError";
    this.code = code;
  }
}
