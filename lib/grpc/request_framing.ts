/**
 * A gRPC message splitter for grpc-js's server calls, set in place of the
 * call's own (`StreamDecoder`) by a server interceptor. grpc-js's copies
 * every message into a fresh `Buffer` (`Buffer.concat` of the flag, the
 * length and the body, each a `Buffer` view of its own), and a `Buffer`
 * costs a few hundred nanoseconds on this runtime: on RecordRoute, with its
 * small messages, that was most of the cost of a message. This one hands a
 * message that lies whole in one `'data'` chunk as one view of that chunk,
 * and copies only a message split across chunks, once.
 *
 * The views stay valid: grpc-js deserializes each message in a microtask
 * right after the chunk arrives, and nothing writes to a chunk once the
 * transport delivered it (`lib/http2/`).
 *
 * The reach into grpc-js (the call's `decoder` property, the first
 * interceptor getting grpc-js's base call) is kept to this module, and
 * `tests/grpc/request_framing_test.ts` fails if a grpc-js upgrade moves it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type * as grpc from "@grpc/grpc-js";

/** Between messages (grpc-js's `ReadState.NO_DATA`, which `call_internals.ts` reads). */
const BETWEEN = 0;
/** Within the 5-byte prefix (compressed flag, length). */
const IN_PREFIX = 1;
/** Within a message's body. */
const IN_BODY = 2;

/** Bytes of the gRPC message prefix. */
const PREFIX_BYTES = 5;

/** The length in a message prefix starting at `at` (big-endian uint32 after the flag). */
function lengthAt(bytes: Uint8Array, at: number): number {
  return (bytes[at + 1] * 0x1000000) + (bytes[at + 2] << 16 | bytes[at + 3] << 8 | bytes[at + 4]);
}

/**
 * Splits a request stream's bytes into length-prefixed gRPC messages, each
 * with its 5-byte prefix, as grpc-js's `StreamDecoder` does (same
 * `write()`, same `readState` between messages, same error over the limit).
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { MessageSplitter } from "./request_framing.ts";
 * import assert from "node:assert/strict";
 * const splitter = new MessageSplitter(-1);
 * const [first] = splitter.write(Buffer.from([0, 0, 0, 0, 2, 8, 1, 0, 0]));
 * assert.deepEqual([...first], [0, 0, 0, 0, 2, 8, 1]);
 * assert.equal(splitter.readState, 1); // two bytes of the next prefix
 * assert.deepEqual([...splitter.write(Buffer.from([0, 0, 0]))[0]], [0, 0, 0, 0, 0]);
 * assert.equal(splitter.readState, 0);
 * ```
 */
export class MessageSplitter {
  /** 0 between messages, else within one (what grpc-js's decoder reports). */
  readState: number = BETWEEN;
  readonly #maxLength: number;
  /** The message being put together from several chunks, once its length is known. */
  #message: Buffer = Buffer.alloc(0);
  /** Bytes of `#message` (or of `#prefix`, in the prefix) filled so far. */
  #filled = 0;
  #prefix = new Uint8Array(PREFIX_BYTES);

  /** `maxLength` is the largest body accepted in bytes; -1 for no limit. */
  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  /** Every message completed by `data`, in order; throws on one over the limit. */
  write(data: Buffer): Buffer[] {
    const messages: Buffer[] = [];
    let at = 0;
    if (this.readState !== BETWEEN) at = this.#continue(data, messages);
    // The usual case: whole messages in the chunk, each one view.
    while (data.length - at >= PREFIX_BYTES) {
      const end = at + PREFIX_BYTES + this.#checked(lengthAt(data, at));
      if (end > data.length) break;
      messages.push(data.subarray(at, end));
      at = end;
    }
    if (at < data.length) this.#start(data, at, messages);
    return messages;
  }

  /** The length, unless it is over the limit (grpc-js's message for it). */
  #checked(length: number): number {
    if (this.#maxLength !== -1 && length > this.#maxLength) {
      throw new Error(`Received message larger than max (${length} vs ${this.#maxLength})`);
    }
    return length;
  }

  /** Keeps the start of a message cut off by the chunk's end (from `at`). */
  #start(data: Buffer, at: number, messages: Buffer[]): void {
    this.readState = IN_PREFIX;
    this.#filled = 0;
    this.#continue(data.subarray(at), messages);
  }

  /** Adds what `data` holds of the message under way; returns where its rest begins. */
  #continue(data: Buffer, messages: Buffer[]): number {
    let at = 0;
    if (this.readState === IN_PREFIX) {
      const take = Math.min(PREFIX_BYTES - this.#filled, data.length);
      this.#prefix.set(data.subarray(0, take), this.#filled);
      this.#filled += take;
      at = take;
      if (this.#filled < PREFIX_BYTES) return at;
      const length = this.#checked(lengthAt(this.#prefix, 0));
      this.#message = Buffer.allocUnsafe(PREFIX_BYTES + length);
      this.#message.set(this.#prefix);
      this.#filled = PREFIX_BYTES;
      this.readState = IN_BODY;
    }
    const take = Math.min(this.#message.length - this.#filled, data.length - at);
    if (take > 0) this.#message.set(data.subarray(at, at + take), this.#filled);
    this.#filled += take;
    at += take;
    if (this.#filled === this.#message.length) {
      messages.push(this.#message);
      this.#message = Buffer.alloc(0);
      this.readState = BETWEEN;
    }
    return at;
  }
}

/** The part of grpc-js's base server call this module replaces. */
interface DecoderSeam {
  decoder?: { write?: unknown; readState?: unknown };
  maxReceiveMessageSize?: unknown;
}

/**
 * Why grpc-js's base server call `call` does not look as this module
 * expects, or `undefined` when it does.
 */
export function framingFault(call: object): string | undefined {
  const seam = call as DecoderSeam;
  if (typeof seam.decoder?.write !== "function" || typeof seam.decoder.readState !== "number") {
    return "grpc-js's server call has no decoder with write() and readState: lib/grpc/request_framing.ts needs updating";
  }
  if (typeof seam.maxReceiveMessageSize !== "number") {
    return "grpc-js's server call has no maxReceiveMessageSize: lib/grpc/request_framing.ts needs updating";
  }
  return undefined;
}

/**
 * A server interceptor, to be the first of a server's, that gives each
 * call a {@linkcode MessageSplitter} in place of grpc-js's decoder. It adds
 * no link to the call's chain. A call that does not look as expected keeps
 * grpc-js's decoder.
 */
export function requestFraming(): grpc.ServerInterceptor {
  return (_method, call) => {
    if (framingFault(call) === undefined) {
      const seam = call as DecoderSeam;
      seam.decoder = new MessageSplitter(seam.maxReceiveMessageSize as number);
    }
    // The same call, not a new link: grpc-js's type asks for a link.
    return call as grpc.ServerInterceptingCall;
  };
}
