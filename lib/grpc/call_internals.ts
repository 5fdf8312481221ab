/**
 * What the server reads of grpc-js's private call objects: the HTTP/2
 * stream under a call (to tell a client's reset from a half-close) and the
 * message decoder (to tell a request stream cut off mid-message). grpc-js
 * does not expose either; every reach into its internals is here, and
 * returns `undefined` when grpc-js changes shape.
 *
 * @module
 */

/** The parts of the HTTP/2 stream under a grpc-js call that the server reads. */
export interface Http2StreamLike extends NodeJS.EventEmitter {
  /** The stream's session; set while the stream belongs to one. */
  readonly session?: object | null;
  /** Whether the stream has closed. */
  readonly closed?: boolean;
  /** Whether the peer reset the stream. */
  readonly aborted?: boolean;
  /** The RST_STREAM code, once the stream was reset. */
  readonly rstCode?: number;
  /** The call's deadline (`Date.now()` time) when our transport keeps it, not grpc-js. */
  readonly callDeadline?: number;
}

/** The innermost grpc-js call object, which owns the HTTP/2 stream and the message decoder. */
export interface BaseCall {
  /** The HTTP/2 stream of the call. */
  stream?: Http2StreamLike;
  /** The length-prefixed message decoder; `readState` 0 means between messages. */
  decoder?: { readState?: number };
  /** The next link of the interceptor chain. */
  nextCall?: unknown;
}

/** The RST_STREAM code a client's cancel sends. */
export const NGHTTP2_CANCEL = 8;

/** The status details of a request stream that ended in the middle of a message. */
export const TRUNCATED = "the request stream ended in the middle of a message";

/**
 * The innermost link of a grpc-js server call. grpc-js keeps it private:
 * the call's interceptor chain (`call.call`, then `nextCall`) ends in the
 * object holding `stream` and `decoder`. `undefined` if grpc-js changes
 * shape.
 */
export function baseCallOf(call: object): BaseCall | undefined {
  return baseCallFrom((call as { call?: unknown }).call as BaseCall | undefined);
}

/** The innermost link, starting the walk at an interceptor chain link. */
export function baseCallFrom(start: BaseCall | undefined): BaseCall | undefined {
  let link = start;
  for (let depth = 0; link != null && depth < 16; depth++) {
    if (link.stream?.session != null) return link;
    link = link.nextCall as BaseCall | undefined;
  }
  return undefined;
}

/** The HTTP/2 stream under a grpc-js server call. */
export function http2StreamOf(call: object): Http2StreamLike | undefined {
  return baseCallOf(call)?.stream;
}

/**
 * Whether the client's request stream ended in the middle of a message.
 * grpc-js drops such a partial message without a word (a RecordRoute would
 * report success on what arrived); gRPC servers in other languages answer
 * `INTERNAL`, and so do we.
 */
export function endedMidMessage(call: object): boolean {
  const state = baseCallOf(call)?.decoder?.readState;
  return state !== undefined && state !== 0;
}

/**
 * The call's deadline (`Date.now()` time) as our transport keeps it, or
 * `Infinity`: `grpc-timeout` never reaches grpc-js then (its
 * `call.getDeadline()` is `Infinity`), and the transport answers
 * `DEADLINE_EXCEEDED`. `link` is a link of the call's interceptor chain
 * (what an interceptor gets).
 */
export function transportDeadlineOf(link: BaseCall): number {
  return baseCallFrom(link)?.stream?.callDeadline ?? Infinity;
}
