/**
 * STAND-IN for the `webparts` branch's status_details.ts (same API); replaced on merge.
 *
 * @module
 */

/** One Connect error detail. */
export interface ConnectErrorDetail {
  /** The detail's message type name. */
  type: string;
  /** Its bytes, base64 unpadded. */
  value: string;
  /** A JSON rendering, when known. */
  debug?: unknown;
}

/** Connect `details` from a `grpc-status-details-bin` value. */
export function connectDetailsFromStatusBin(_grpcStatusDetailsBin: string): ConnectErrorDetail[] {
  return [];
}
