/**
 * The lifecycle of the server's calls, apart from grpc-js: each admitted
 * call is one small state machine ({@linkcode CallLifecycle}), and the
 * {@linkcode CallRegistry} holds those still running, so that shutdown can
 * refuse new calls, wait for the running ones and fail the rest.
 *
 * A call's states, and what moves it on:
 *
 * ```text
 * running ──client cancels──► cancelled-by-client ──┐
 *    │    ──failByServer()──► failed-by-server ─────┤ handler ends: settle()
 *    └────────────── handler ends: settle() ────────┴──► settled
 * ```
 *
 * Only a call that is still `running` when its handler ends sends the
 * handler's outcome; the others already had their end (a reset from the
 * client, or the server's status).
 *
 * Pure: no grpc-js, no I/O.
 *
 * @module
 */

import { Code, RpcError } from "../core/rpc_error.ts";

/** A gRPC status to send: a code and its details. */
export interface CallStatus {
  /** The status code. */
  code: Code;
  /** The message the client reads. */
  details: string;
}

/** Where a call is in its lifecycle. */
export type CallState = "running" | "cancelled-by-client" | "failed-by-server" | "settled";

/** The abort reason of a call whose client went away (shared: no stack trace per call). */
const CANCELLED_BY_CLIENT = new RpcError(Code.CANCELLED, "cancelled by the client");

/** One admitted call: its state, and the signal its handler watches. */
export class CallLifecycle {
  #state: CallState = "running";
  readonly #controller = new AbortController();
  readonly #sendStatus: (status: CallStatus) => void;
  readonly #onSettled: (call: CallLifecycle) => void;

  /** A running call; `sendStatus` ends it with a status, `onSettled` hears its handler end. */
  constructor(
    sendStatus: (status: CallStatus) => void,
    onSettled: (call: CallLifecycle) => void,
  ) {
    this.#sendStatus = sendStatus;
    this.#onSettled = onSettled;
  }

  /** Where the call is now. */
  get state(): CallState {
    return this.#state;
  }

  /** Aborts when the client goes away or the server fails the call. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The client went away: a running call's handler is stopped; nothing more is sent. */
  clientCancelled(): void {
    // grpc-js also reports a cancel when the stream closes after a call
    // ended normally; only a call still running needs its handler stopped.
    if (this.#state !== "running") return;
    this.#state = "cancelled-by-client";
    this.#controller.abort(CANCELLED_BY_CLIENT);
  }

  /** The server ends a running call with `status` and stops its handler. */
  failByServer(status: CallStatus): void {
    if (this.#state !== "running") return;
    this.#state = "failed-by-server";
    this.#sendStatus(status);
    this.#controller.abort(new RpcError(status.code, status.details));
  }

  /**
   * The handler ended: `complete` sends its outcome (reply, end or error)
   * if the call is still running; otherwise the outcome is dropped.
   */
  settle(complete: () => void): void {
    const wasRunning = this.#state === "running";
    if (this.#state === "settled") return;
    this.#state = "settled";
    this.#onSettled(this);
    if (wasRunning) complete();
  }
}

/** The calls in flight on one server, and the switch that refuses new ones. */
export class CallRegistry {
  readonly #calls = new Set<CallLifecycle>();
  readonly #idleWaiters = new Set<() => void>();
  #refusing = false;

  /** Calls admitted whose handlers have not ended. */
  get size(): number {
    return this.#calls.size;
  }

  /** Whether {@linkcode CallRegistry.refuseNewCalls} was called. */
  get refusingNewCalls(): boolean {
    return this.#refusing;
  }

  /** From now on, callers of {@linkcode CallRegistry.admit} should turn calls away. */
  refuseNewCalls(): void {
    this.#refusing = true;
  }

  /** Registers a running call; `sendStatus` is how the server fails it. */
  admit(sendStatus: (status: CallStatus) => void): CallLifecycle {
    const call = new CallLifecycle(sendStatus, this.#settled);
    this.#calls.add(call);
    return call;
  }

  /** A call's handler ended (one function for every call, not a closure per call). */
  readonly #settled = (call: CallLifecycle): void => {
    this.#calls.delete(call);
    if (this.#calls.size === 0) { for (const wake of this.#idleWaiters) wake(); }
  };

  /** Resolves once no call is in flight, or when `signal` aborts. */
  idle(signal?: AbortSignal): Promise<void> {
    if (this.#calls.size === 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.#idleWaiters.delete(wake);
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      this.#idleWaiters.add(wake);
      signal?.addEventListener("abort", wake);
    });
  }

  /** Fails every call in flight with `UNAVAILABLE` and `details`; returns how many there were. */
  cancelAll(details: string): number {
    const calls = [...this.#calls];
    for (const call of calls) call.failByServer({ code: Code.UNAVAILABLE, details });
    return calls.length;
  }
}
