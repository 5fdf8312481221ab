/**
 * The telemetry hook on grpc-js: a server interceptor that reports every
 * call (any service, health and reflection too) to a
 * {@linkcode CallObserver} with the status the client really got.
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import {
  type BaseCall,
  baseCallFrom,
  NGHTTP2_CANCEL,
  transportDeadlineOf,
} from "./call_internals.ts";
import { Code } from "../core/rpc_error.ts";

/** One call being observed. */
export interface CallObservation {
  /** Records the call's end with its status; only the first call counts. */
  end(code: number, details?: string): void;
  /**
   * Records which web protocol carried the call (`connect+json HTTP/1.1`,
   * from the metadata the web bridge sets); not called for plain gRPC.
   */
  protocol?(label: string): void;
}

/** The metadata key the web bridge (lib/web/bridge.ts) names a call's protocol in. */
export const WEB_PROTOCOL_KEY = "routeguide-web-protocol";

/** Observes calls: what the server does with them (log lines, spans, metrics) is its own. */
export interface CallObserver {
  /** Starts observing a call to `path` (`/package.Service/Method`) from `peer`. */
  start(path: string, peer: string): CallObservation;
}

/** Whether a call's deadline (as grpc-js gives it) has passed. */
function deadlinePassed(deadline: grpc.Deadline): boolean {
  return deadline instanceof Date
    ? deadline.getTime() <= Date.now()
    : deadline !== Infinity && deadline <= Date.now();
}

/**
 * Ends `observation` with the status sent, or with `CANCELLED` when the
 * client reset the stream while the status was on its way: the status
 * that counts is the one the stream closed with.
 */
function endWhenClosed(
  observation: CallObservation,
  call: object,
  status: { code: number; details: string },
): void {
  const h2 = baseCallFrom(call as BaseCall)?.stream;
  if (h2 === undefined || h2.closed) {
    observation.end(status.code, status.details);
    return;
  }
  h2.once("close", () => {
    if (h2.rstCode === NGHTTP2_CANCEL) {
      observation.end(Code.CANCELLED, "cancelled by the client");
    } else {
      observation.end(status.code, status.details);
    }
  });
}

/**
 * A grpc-js server interceptor that reports every call (any service) to an
 * observer when its status is sent, or when the client goes away first.
 *
 * @example
 * ```ts
 * import * as grpc from "@grpc/grpc-js";
 * import { observeCalls } from "./observe_calls.ts";
 * import { createCallObserver, createLogger } from "../server/telemetry.ts";
 * const server = new grpc.Server({
 *   interceptors: [observeCalls(createCallObserver(createLogger({ level: "info" })))],
 * });
 * server.forceShutdown();
 * ```
 */
export function observeCalls(observer: CallObserver): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const observation = observer.start(descriptor.path, call.getPeer());
    // grpc-js also reports a cancel when the stream closes after the status
    // went out; from then on the stream's close decides (endWhenClosed).
    let statusSent = false;
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const label = metadata.get(WEB_PROTOCOL_KEY)[0];
        if (label !== undefined) observation.protocol?.(String(label));
        next(metadata);
      })
      .withOnCancel(() => {
        if (statusSent) return;
        // An expired call is ended below the interceptors (by grpc-js, or by
        // our transport, which keeps gRPC deadlines), so the status is never
        // seen here; the deadline tells which it was.
        const expired = deadlinePassed(call.getDeadline()) ||
          deadlinePassed(transportDeadlineOf(call as BaseCall));
        observation.end(
          expired ? Code.DEADLINE_EXCEEDED : Code.CANCELLED,
          expired ? "deadline exceeded" : "cancelled by the client",
        );
      })
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        statusSent = true;
        next(status);
        endWhenClosed(observation, call, status);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
