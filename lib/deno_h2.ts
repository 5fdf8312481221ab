/**
 * A workaround for the pinned Deno's `node:http2`, at the point where bytes
 * leave its HTTP/2 engine: measures, per HTTP/2 stream, how many bytes the
 * runtime still holds for a peer that has not opened its flow-control
 * window for them.
 *
 * Why this exists: on the pinned Deno (2.8.3) `node:http2` takes every
 * write at once (`write()` may return `false`, but the bytes move on into
 * the runtime's own buffer and `'drain'` follows), so awaiting `'drain'`
 * does not stop a server from buffering a whole listing for a client that
 * stopped reading. What does reflect the peer is what leaves the HTTP/2
 * engine: nghttp2 only emits DATA frames the peer has window for. Deno's
 * `node:http2` pulls those bytes from the session's native handle with
 * `getOutgoingChunk()`; counting the DATA payload per stream there, against
 * the bytes written to the stream, gives the backlog.
 *
 * This reaches into Deno's internals (the session's `kHandle` symbol and its
 * `getOutgoingChunk` method). Where they are missing, as on Node.js (whose
 * `'drain'` works), {@linkcode BacklogTracker.track} returns `undefined` and the
 * caller falls back to `'drain'` alone. `tests/slow_reader_test.ts` checks
 * the memory bound this gives, so a runtime change that breaks it shows.
 *
 * @module
 */

/** The native handle of a session, where the send loop pulls its bytes from. */
interface OutgoingHandle {
  getOutgoingChunk: () => Uint8Array | null;
}

/** The session's native handle, if the runtime has the hook this module uses. */
function outgoingHandle(session: object): OutgoingHandle | undefined {
  const key = Object.getOwnPropertySymbols(session).find((s) => s.description === "kHandle");
  const handle = key === undefined
    ? undefined
    : (session as Record<symbol, Partial<OutgoingHandle> | undefined>)[key];
  return typeof handle?.getOutgoingChunk === "function" ? handle as OutgoingHandle : undefined;
}

/** The parts of a `node:http2` stream this module uses. */
export interface Http2StreamLike {
  /** The stream id. */
  readonly id?: number;
  /** The stream's session. */
  readonly session?: object | null;
  /** Whether the stream is gone. */
  readonly destroyed: boolean;
  /** Whether the stream has closed. */
  readonly closed?: boolean;
  /** Whether the peer reset the stream. */
  readonly aborted?: boolean;
  /** The RST_STREAM code, once the stream was reset. */
  readonly rstCode?: number;
  /** Writes bytes to the stream. */
  write(chunk: Uint8Array, ...rest: unknown[]): boolean;
  /** Listens once for an event. */
  once(event: "close", listener: () => void): unknown;
}

/** The DATA bytes sent per stream of one session, and who waits for them. */
interface SessionLedger {
  sent: Map<number, number>;
  waiters: Map<number, () => void>;
}

const HEADER_BYTES = 9;
const FRAME_DATA = 0;

/**
 * Installs the DATA-frame counter on a session once; `undefined` when the
 * runtime has no such hook.
 */
function ledgerFor(
  session: object,
  ledgers: WeakMap<object, SessionLedger>,
): SessionLedger | undefined {
  const existing = ledgers.get(session);
  if (existing !== undefined) return existing;
  const handle = outgoingHandle(session);
  if (handle === undefined) return undefined;

  const ledger: SessionLedger = { sent: new Map(), waiters: new Map() };
  const original = handle.getOutgoingChunk.bind(handle);
  // A frame header may straddle two chunks, so the parser keeps its place.
  const header = new Uint8Array(HEADER_BYTES);
  let headerFill = 0;
  let payloadLeft = 0;
  handle.getOutgoingChunk = () => {
    const chunk = original();
    if (chunk === null) return chunk;
    let i = 0;
    while (i < chunk.length) {
      if (payloadLeft > 0) {
        const n = Math.min(payloadLeft, chunk.length - i);
        payloadLeft -= n;
        i += n;
        continue;
      }
      const n = Math.min(HEADER_BYTES - headerFill, chunk.length - i);
      header.set(chunk.subarray(i, i + n), headerFill);
      headerFill += n;
      i += n;
      if (headerFill < HEADER_BYTES) break;
      headerFill = 0;
      const length = (header[0] << 16) | (header[1] << 8) | header[2];
      const streamId = ((header[5] & 0x7f) << 24) | (header[6] << 16) | (header[7] << 8) |
        header[8];
      // Only tracked streams are counted, so the ledger stays as small as
      // the number of paced streams.
      const sent = header[3] === FRAME_DATA ? ledger.sent.get(streamId) : undefined;
      if (sent !== undefined) {
        ledger.sent.set(streamId, sent + length);
        const wake = ledger.waiters.get(streamId);
        if (wake !== undefined) {
          ledger.waiters.delete(streamId);
          wake();
        }
      }
      payloadLeft = length;
    }
    return chunk;
  };
  ledgers.set(session, ledger);
  return ledger;
}

/** The backlog of one stream. */
export interface StreamBacklog {
  /** Bytes written to the stream that have not left as DATA frames yet. */
  readonly queued: number;
  /**
   * Resolves once the backlog is at most `bytes`, the stream closes, or the
   * signal aborts.
   */
  waitUntilAtMost(bytes: number, signal: AbortSignal): Promise<void>;
  /** Stops tracking the stream. */
  release(): void;
}

/** Tracks streams' backlogs; one tracker serves a whole server. */
export interface BacklogTracker {
  /** Starts tracking a stream; `undefined` when the runtime offers no way to. */
  track(stream: Http2StreamLike): StreamBacklog | undefined;
}

/**
 * Creates a backlog tracker.
 *
 * @example
 * ```ts
 * import { createBacklogTracker } from "./deno_h2.ts";
 * import assert from "node:assert/strict";
 * const tracker = createBacklogTracker();
 * // A stream whose session has no native handle cannot be tracked.
 * assert.equal(
 *   tracker.track({ id: 1, session: {}, destroyed: false, write: () => true, once: () => {} }),
 *   undefined,
 * );
 * ```
 */
export function createBacklogTracker(): BacklogTracker {
  const ledgers = new WeakMap<object, SessionLedger>();
  return {
    track(stream) {
      const { id, session } = stream;
      if (id === undefined || session == null) return undefined;
      const ledger = ledgerFor(session, ledgers);
      if (ledger === undefined) return undefined;
      let written = 0;
      let closed = stream.destroyed;
      ledger.sent.set(id, 0);
      const originalWrite = stream.write;
      stream.write = function (this: Http2StreamLike, chunk: Uint8Array, ...rest: unknown[]) {
        written += chunk?.length ?? 0;
        return originalWrite.call(this, chunk, ...rest);
      };
      stream.once("close", () => {
        closed = true;
        ledger.waiters.get(id)?.();
      });
      const queued = () => written - (ledger.sent.get(id) ?? 0);
      return {
        get queued() {
          return queued();
        },
        async waitUntilAtMost(bytes, signal) {
          while (!closed && !signal.aborted && queued() > bytes) {
            await new Promise<void>((resolve) => {
              const wake = () => {
                ledger.waiters.delete(id);
                signal.removeEventListener("abort", wake);
                resolve();
              };
              ledger.waiters.set(id, wake);
              signal.addEventListener("abort", wake, { once: true });
            });
          }
        },
        release() {
          ledger.sent.delete(id);
          ledger.waiters.delete(id);
        },
      };
    },
  };
}
