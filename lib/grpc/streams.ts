/**
 * grpc-js server streams as async iterables, both ways: {@linkcode readAll}
 * reads a request stream, {@linkcode writeAll} writes replies with flow
 * control (it waits for the stream's `'drain'` event whenever `write()`
 * asks to). Both stop when the call's `AbortSignal` aborts.
 *
 * @module
 */

import type * as grpc from "@grpc/grpc-js";
import type { Readable } from "node:stream";
import { endedMidMessage, http2StreamOf, TRUNCATED } from "./call_internals.ts";
import { Code, RpcError } from "../core/rpc_error.ts";

/**
 * Waits, as often as asked, for the next of a stream's `events` (or the
 * signal's abort): `next()` resolves at the next one; disposing of the
 * waiter stops listening.
 */
function eventWaiter(
  stream: NodeJS.EventEmitter,
  events: readonly string[],
  signal: AbortSignal,
): { next(): Promise<void> } & Disposable {
  // One set of listeners for the whole life of the waiter, not one per wait:
  // a request stream may wait once per message.
  let wake: (() => void) | undefined;
  const done = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  for (const event of events) stream.on(event, done);
  signal.addEventListener("abort", done);
  return {
    next: () => new Promise<void>((resolve) => wake = resolve),
    [Symbol.dispose]() {
      for (const event of events) stream.off(event, done);
      signal.removeEventListener("abort", done);
    },
  };
}

/**
 * Writes every message to a grpc-js stream with flow control: it waits for
 * `'drain'` whenever `write()` asks to. Our HTTP/2 transport calls a
 * write back only once its bytes are within the client's flow-control
 * window, so a client that stops reading pauses the handler here.
 */
export async function writeAll<T>(
  stream: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>,
  messages: AsyncIterable<T>,
  signal: AbortSignal,
): Promise<void> {
  using drains = eventWaiter(stream, ["drain"], signal);
  let turnStarted = performance.now();
  for await (const message of messages) {
    if (signal.aborted) return;
    if (!stream.write(message)) {
      await drains.next();
      if (signal.aborted) return;
    }
    // A fast reader's write callbacks can all come back as microtasks (the
    // bytes fit the windows, or the socket took them at once): without a
    // turn of the event loop now and then, one long stream would starve
    // every other connection, the signals and the timers.
    if (performance.now() - turnStarted > MAX_TURN_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      turnStarted = performance.now();
    }
  }
}

/** Longest a stream keeps writing before it lets the event loop take a turn. */
const MAX_TURN_MS = 10;

/**
 * Reads the messages of a grpc-js request stream as an async iterable.
 *
 * Unlike the stream's own iterator, stopping early does not destroy the
 * stream, so the call can still send its status. Throws `CANCELLED` when the
 * stream closes without the client's half-close.
 */
export async function* readAll<T>(stream: Readable, signal: AbortSignal): AsyncGenerator<T> {
  using arrivals = eventWaiter(stream, ["readable", "end", "close"], signal);
  while (true) {
    let message: T | null;
    while ((message = stream.read()) !== null) yield message;
    if (stream.readableEnded) {
      // A client's RST_STREAM also ends the stream on this runtime ('aborted',
      // then 'end', then 'close'); grpc-js takes that end for a half-close.
      const h2 = http2StreamOf(stream);
      if (h2?.aborted || (h2?.rstCode ?? 0) !== 0) {
        throw new RpcError(Code.CANCELLED, "the call was cancelled");
      }
      if (endedMidMessage(stream)) throw new RpcError(Code.INTERNAL, TRUNCATED);
      return;
    }
    if (stream.destroyed || signal.aborted) {
      throw new RpcError(Code.CANCELLED, "the call was cancelled");
    }
    await arrivals.next();
  }
}
