/**
 * Test helpers for the sans-I/O HTTP/2 connection: a client that feeds
 * frames into a {@linkcode ServerConnection} and reads back what it sends.
 *
 * @module
 */

import {
  type ConnectionEvent,
  type ConnectionOptions,
  ServerConnection,
} from "../../lib/http2/connection.ts";
import { type HeaderField, HpackDecoder } from "../../lib/http2/hpack.ts";
import {
  concat,
  type Frame,
  frame,
  FrameParser,
  FrameType,
  grpcRequestHeaders,
  hpackLiterals,
  parseGoaway,
  PREFACE,
  settingsFrame,
} from "../_h2.ts";

/** A client speaking to a {@linkcode ServerConnection} through bytes only. */
export class Peer {
  /** The connection under test. */
  readonly connection: ServerConnection;
  /** Frames the server sent so far. */
  readonly parser: FrameParser = new FrameParser();
  /** Events the connection reported so far. */
  readonly events: ConnectionEvent[] = [];
  /** Write callbacks that ran, in order, with their error if any. */
  readonly completions: (Error | undefined)[] = [];
  /** Header lists of the HEADERS frames the server sent, decoded in order. */
  readonly headerLists: HeaderField[][] = [];
  readonly #decoder = new HpackDecoder();
  #fragments: Uint8Array[] = [];

  /** Opens a connection; sends the preface and an empty SETTINGS unless `preface` is false. */
  constructor(options: ConnectionOptions & { preface?: boolean } = {}) {
    this.connection = new ServerConnection(options);
    if (options.preface !== false) this.send(PREFACE, settingsFrame());
  }

  /** Feeds bytes (frames) to the server and collects its answer. */
  send(...parts: Uint8Array[]): Frame[] {
    this.connection.receive(concat(parts));
    return this.pump();
  }

  /** Collects events and output (running write callbacks) until nothing more comes. */
  pump(): Frame[] {
    const got: Frame[] = [];
    for (let round = 0; round < 100; round++) {
      this.events.push(...this.connection.takeEvents());
      const { bytes, done } = this.connection.takeOutput();
      if (bytes !== undefined) this.connection.outputSent();
      for (const callback of done) callback();
      if (bytes !== undefined) {
        for (const f of this.parser.push(bytes)) {
          got.push(f);
          if (f.type === FrameType.HEADERS || f.type === FrameType.CONTINUATION) this.#block(f);
        }
      }
      if (bytes === undefined && done.length === 0) break;
    }
    this.events.push(...this.connection.takeEvents());
    return got;
  }

  /** Gathers a header block over HEADERS and its CONTINUATIONs; decodes it at END_HEADERS. */
  #block(f: Frame): void {
    this.#fragments.push(f.payload);
    if ((f.flags & 0x4) === 0) return;
    this.headerLists.push(this.#decoder.decode(concat(this.#fragments)));
    this.#fragments = [];
  }

  /** Opens stream `id` with a gRPC request (END_STREAM when `endStream`). */
  request(id: number, endStream = false, headers = grpcRequestHeaders("/svc/Method")): Frame[] {
    return this.send(
      frame(FrameType.HEADERS, 0x4 | (endStream ? 0x1 : 0), id, hpackLiterals(headers)),
    );
  }

  /** The frames of one type the server sent so far. */
  sent(type: number): Frame[] {
    return this.parser.frames.filter((f) => f.type === type);
  }

  /** The server's GOAWAY, if any. */
  goaway(): { lastStreamId: number; errorCode: number } | undefined {
    const f = this.sent(FrameType.GOAWAY)[0];
    return f === undefined ? undefined : parseGoaway(f);
  }

  /** The RST_STREAM frames sent, as [stream, code]. */
  resets(): [number, number][] {
    return this.sent(FrameType.RST_STREAM).map((f) => [f.streamId, readUint32(f.payload)]);
  }

  /** The DATA payload bytes sent on a stream. */
  dataBytes(streamId: number): number {
    return this.sent(FrameType.DATA).filter((f) => f.streamId === streamId)
      .reduce((n, f) => n + f.payload.length, 0);
  }
}

/** The 32-bit number at the start of a payload. */
export function readUint32(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
}

/** A 4-byte big-endian payload (RST_STREAM, WINDOW_UPDATE). */
export function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}
