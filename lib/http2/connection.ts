/**
 * The server side of one HTTP/2 connection without any I/O (the way
 * python-hyper's h2 is built): bytes go in through
 * {@linkcode ServerConnection.receive}, what happened comes out of
 * {@linkcode ServerConnection.takeEvents}, what to send comes out of
 * {@linkcode ServerConnection.takeOutput}. It owns all of the connection's
 * state: the stream state machine (RFC 9113 §5.1), flow control both ways,
 * SETTINGS, PING, GOAWAY, request header checks (§8.2, §8.3) and HPACK.
 * Sockets and timers live in `server.ts`.
 *
 * Depends on nothing outside this folder.
 *
 * @module
 */

import {
  CLIENT_PREFACE,
  concatBytes,
  type DataFrame,
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  Flags,
  type Frame,
  FRAME_HEADER_BYTES,
  FrameReader,
  FrameType,
  FrameWriter,
  type HeadersFrame,
  Http2Error,
  MAX_WINDOW,
  SettingId,
} from "./frames.ts";
import { InFlow, OutFlow } from "./flow.ts";
import {
  type HeaderField,
  HeaderListTooLargeError,
  HpackDecoder,
  HpackEncoder,
  HpackError,
} from "./hpack.ts";

/** Options for {@linkcode ServerConnection}. */
export interface ConnectionOptions {
  /**
   * Streams the client may have open at once; more are refused with REFUSED_STREAM.
   * @default {100}
   */
  maxConcurrentStreams?: number;
  /**
   * Bytes each stream may receive before the server reads them (our SETTINGS_INITIAL_WINDOW_SIZE).
   * @default {262144}
   */
  streamWindow?: number;
  /**
   * Bytes the whole connection may receive ahead of the server.
   * @default {1048576}
   */
  connectionWindow?: number;
  /**
   * Largest request header list, in RFC 7541 bytes; more gets a 431 response.
   * @default {65536}
   */
  maxHeaderListSize?: number;
  /**
   * PING and SETTINGS ACKs that may wait to be sent (the client sends
   * PINGs or SETTINGS faster than it reads the answers); more end the
   * connection with ENHANCE_YOUR_CALM. The layer below reports, with
   * {@linkcode ServerConnection.outputSent}, when what it was given has
   * been sent.
   * @default {1000}
   */
  maxUnsentAcks?: number;
  /**
   * Streams the client may reset before they were answered, per second
   * (the "rapid reset" attack); more end the connection with ENHANCE_YOUR_CALM.
   * @default {1000}
   */
  maxResetsPerSecond?: number;
  /**
   * The clock, in milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Makes the byte arrays {@linkcode ServerConnection.takeBytes} returns
   * (`node:buffer`'s pooled `Buffer.allocUnsafe`, say: a new `Uint8Array`
   * costs a fresh backing store each time).
   * @default {(size) => new Uint8Array(size)}
   */
  allocate?: (size: number) => Uint8Array;
}

/** Something that happened on the connection, for the layer above. */
export type ConnectionEvent =
  | { type: "request"; streamId: number; headers: HeaderField[]; endStream: boolean }
  | { type: "data"; streamId: number; data: Uint8Array; endStream: boolean }
  | { type: "wantTrailers"; streamId: number }
  | { type: "streamClosed"; streamId: number; code: number; byPeer: boolean }
  | { type: "pingAck"; payload: Uint8Array }
  | { type: "goaway"; lastStreamId: number; code: number }
  | { type: "closed"; code: number; message: string };

/** A callback for bytes given to {@linkcode ServerConnection.sendData}. */
export type WriteDone = (error?: Error) => void;

/** One chunk waiting to be sent on a stream. */
interface Chunk {
  data: Uint8Array;
  at: number;
  done?: WriteDone;
}

/** One open stream. */
interface Stream {
  id: number;
  /** The client sent END_STREAM (half-closed remote). */
  remoteEnded: boolean;
  headersSent: boolean;
  /** `end()` was called: END_STREAM follows the queued data. */
  ending: boolean;
  waitForTrailers: boolean;
  /** Trailers to send once the queue is empty. */
  trailers?: HeaderField[];
  wantTrailersSent: boolean;
  send: OutFlow;
  recv: InFlow;
  queue: Chunk[];
  queued: number;
  /** The request's content-length, when it gave one. */
  contentLength?: number;
  received: number;
}

/** Headers that only HTTP/1 uses (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/** A request's pseudo-headers, each with its bit in a set of those seen. */
const REQUEST_PSEUDO: Readonly<Record<string, number | undefined>> = {
  ":method": 1,
  ":scheme": 2,
  ":authority": 4,
  ":path": 8,
};
/** The bits of the pseudo-headers every request has (RFC 9113 §8.3.1). */
const REQUIRED_PSEUDO = [[":method", 1], [":scheme", 2], [":path", 8]] as const;

/** No bytes (a zero-length array cannot be changed, so one serves everyone). */
const NO_BYTES = new Uint8Array(0);

/** What {@linkcode ServerConnection.takeEvents} returns when nothing happened. */
const NO_EVENTS: readonly ConnectionEvent[] = Object.freeze([]);

/** The output buffer's first size, and the size past which it is not kept after a flush. */
const OUTPUT_START = 16 * 1024;
const OUTPUT_KEEP = 256 * 1024;

/** Streams remembered after closing, to tell a late frame from a stray one. */
const CLOSED_MEMORY = 256;

/**
 * A response that ends before its request: how much more of the request is
 * read and dropped, and for how long, before RST_STREAM NO_ERROR asks the
 * client to stop (see `#endedLocally`).
 */
const LINGER_BYTES = 16 * 1024;
const LINGER_MS = 1000;
/** Streams lingering at once; beyond that the oldest is reset at once. */
const LINGER_MAX_STREAMS = 128;

/** The initial window of every HTTP/2 connection and stream (RFC 9113 §6.9.2). */
const DEFAULT_WINDOW = 65535;

/**
 * Whether a field name has only what RFC 9113 §8.2.1 allows: visible ASCII
 * but no upper case, and a colon only first (pseudo-headers).
 */
function validName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || (c >= 0x41 && c <= 0x5a) || (c === 0x3a && i > 0)) return false;
  }
  return true;
}

/** Whether a field value has no NUL, CR or LF, nor white space at either end (RFC 9113 §8.2.1). */
function validValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

/** Why a header list is malformed (RFC 9113 §8.2, §8.3), or `undefined` if it is fine. */
export function requestHeaderFault(
  headers: readonly HeaderField[],
  trailers: boolean,
): string | undefined {
  let seen = 0;
  let regular = false;
  for (const [name, value] of headers) {
    if (name.length === 0) return "an empty header name";
    if (!validName(name)) {
      return `the header name ${JSON.stringify(name)} has a character HTTP/2 forbids there`;
    }
    if (!validValue(value)) {
      return `the value of header ${name} has a character HTTP/2 forbids there`;
    }
    if (name[0] === ":") {
      if (trailers) return `the pseudo-header ${name} in trailers`;
      if (regular) return `the pseudo-header ${name} after a regular header`;
      const bit = Object.hasOwn(REQUEST_PSEUDO, name) ? REQUEST_PSEUDO[name] : undefined;
      if (bit === undefined) return `the pseudo-header ${name} is not one of a request`;
      if ((seen & bit) !== 0) return `the pseudo-header ${name} twice`;
      seen |= bit;
      // None may be empty: :method is a token and :scheme a scheme (1 character or more), :path
      // must not be empty for http(s) (RFC 9113 §8.3.1), nor the host of an authority (RFC 9110 §4.2).
      if (value === "") return `an empty ${name}`;
    } else {
      regular = true;
      if (CONNECTION_SPECIFIC.has(name)) return `the connection-specific header ${name}`;
      if (name === "te" && value !== "trailers") {
        return `the header te with ${JSON.stringify(value)} (only "trailers" is allowed)`;
      }
    }
  }
  if (trailers) return undefined;
  for (const [required, bit] of REQUIRED_PSEUDO) {
    if ((seen & bit) === 0) return `the pseudo-header ${required} is missing`;
  }
  return undefined;
}

/** The server side of one HTTP/2 connection, bytes in and bytes out. */
export class ServerConnection {
  readonly #reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #streams = new Map<number, Stream>();
  /** Recently closed stream ids; `true` when we reset them (late frames are then expected). */
  readonly #closedIds = new Int32Array(CLOSED_MEMORY);
  readonly #closedByUs = new Uint8Array(CLOSED_MEMORY);
  #closedNext = 0;
  readonly #ready = new Set<Stream>();
  /** Frames to send, written in place; {@linkcode takeOutput} copies them out. */
  #out = new Uint8Array(OUTPUT_START);
  /** Bytes queued on all streams. */
  #queuedTotal = 0;
  #outLength = 0;
  #done: (() => void)[] = [];
  #events: ConnectionEvent[] = [];
  readonly #recv: InFlow;
  readonly #send = new OutFlow(DEFAULT_WINDOW);
  #prefaceAt = 0;
  #settingsSeen = false;
  /** Header block fragments of a HEADERS frame waiting for its CONTINUATIONs. */
  #block?: { frame: HeadersFrame; parts: Uint8Array[]; bytes: number };
  #lastStreamId = 0;
  /** Streams above this are ignored once we sent GOAWAY. */
  #goawayLast = MAX_WINDOW;
  #failed = false;
  #peerWindow = DEFAULT_WINDOW;
  #peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  #settingsAcked = false;
  #resetWindowStart = 0;
  #resets = 0;
  #unsentAcks = 0;
  readonly #connectionWindow: number;
  readonly #maxConcurrent: number;
  readonly #streamWindow: number;
  readonly #maxHeaderList: number;
  readonly #maxUnsentAcks: number;
  readonly #maxResets: number;
  readonly #now: () => number;
  readonly #allocate: (size: number) => Uint8Array;

  /**
   * Makes a connection; its SETTINGS are ready in {@linkcode takeOutput} at
   * once, the wider connection window once the client's SETTINGS arrive.
   */
  constructor(options: ConnectionOptions = {}) {
    this.#maxConcurrent = options.maxConcurrentStreams ?? 100;
    this.#streamWindow = Math.max(DEFAULT_WINDOW, options.streamWindow ?? 256 * 1024);
    this.#maxHeaderList = options.maxHeaderListSize ?? 65536;
    this.#maxUnsentAcks = options.maxUnsentAcks ?? 1000;
    this.#maxResets = options.maxResetsPerSecond ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#allocate = options.allocate ?? ((size) => new Uint8Array(size));
    this.#decoder = new HpackDecoder({ maxHeaderListSize: this.#maxHeaderList });
    const connectionWindow = Math.max(DEFAULT_WINDOW, options.connectionWindow ?? 1024 * 1024);
    this.#recv = new InFlow(connectionWindow);
    this.#emit(FrameWriter.settings([
      [SettingId.MAX_CONCURRENT_STREAMS, this.#maxConcurrent],
      [SettingId.INITIAL_WINDOW_SIZE, this.#streamWindow],
      [SettingId.MAX_HEADER_LIST_SIZE, this.#maxHeaderList],
    ]));
    this.#connectionWindow = connectionWindow;
  }

  /** Whether the connection ended with an error (GOAWAY sent); it takes no more input. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Whether the client acknowledged our SETTINGS. */
  get settingsAcked(): boolean {
    return this.#settingsAcked;
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** Bytes the client may still send on the connection / we may still send. */
  get windows(): { local: number; remote: number } {
    return { local: this.#recv.available, remote: this.#send.available };
  }

  /**
   * Whether `n` more bytes on the stream would fit in the client's windows
   * beside what is queued already, so they can go out at the next flush.
   */
  fits(streamId: number, n: number): boolean {
    const stream = this.#streams.get(streamId);
    return stream !== undefined && stream.queued + n <= stream.send.available &&
      this.#queuedTotal + n <= this.#send.available;
  }

  /** Bytes queued on a stream and not yet framed. */
  queuedBytes(streamId: number): number {
    return this.#streams.get(streamId)?.queued ?? 0;
  }

  /** Whether the stream is open (not closed or reset). */
  isOpen(streamId: number): boolean {
    return this.#streams.has(streamId);
  }

  /** Feeds bytes read from the socket. Never throws: faults become events and frames. */
  receive(bytes: Uint8Array): void {
    if (this.#failed) return;
    try {
      let at = 0;
      if (this.#prefaceAt < CLIENT_PREFACE.length) {
        const n = Math.min(bytes.length, CLIENT_PREFACE.length - this.#prefaceAt);
        for (let i = 0; i < n; i++) {
          if (bytes[i] !== CLIENT_PREFACE[this.#prefaceAt + i]) {
            throw new Http2Error(
              ErrorCode.PROTOCOL_ERROR,
              "this port speaks HTTP/2 (gRPC) only: the client did not send the HTTP/2 connection preface",
            );
          }
        }
        this.#prefaceAt += n;
        at = n;
        if (at === bytes.length) return;
      }
      this.#reader.push(at === 0 ? bytes : bytes.subarray(at), (frame) => this.#onFrame(frame));
      if (this.#lingering.size > 0) this.#stopLingering(this.#now() - LINGER_MS);
    } catch (error) {
      if (error instanceof Http2Error && error.streamId === undefined) {
        this.#fail(error.code, error.message);
      } else {
        this.#fail(ErrorCode.INTERNAL_ERROR, String(error));
      }
    }
  }

  /** Tells the connection that all the output it gave so far has been sent. */
  outputSent(): void {
    this.#unsentAcks = 0;
  }

  /** Events since the last call, in order. */
  takeEvents(): readonly ConnectionEvent[] {
    const events = this.#events;
    if (events.length === 0) return NO_EVENTS;
    this.#events = [];
    return events;
  }

  /**
   * Frames everything that may be sent now and returns it as one array
   * (`undefined` when there is nothing), with the write callbacks now due:
   * call them once the bytes are handed to the socket.
   */
  takeOutput(): { bytes?: Uint8Array; done: (() => void)[] } {
    const done = this.frameReady();
    return { bytes: this.takeBytes(), done };
  }

  /**
   * Frames the queued DATA that fits the windows (and the trailers or
   * END_STREAM after it) and returns the write callbacks now due; the
   * bytes wait for {@linkcode takeBytes}.
   */
  frameReady(): (() => void)[] {
    this.#schedule();
    const done = this.#done;
    if (done.length > 0) this.#done = [];
    return done;
  }

  /** Everything framed so far, as one new array; `undefined` when there is nothing. */
  takeBytes(): Uint8Array | undefined {
    if (this.#outLength === 0) return undefined;
    // A copy: the socket may hold on to it after this returns.
    const bytes = this.#allocate(this.#outLength);
    bytes.set(this.#out.subarray(0, this.#outLength));
    this.#outLength = 0;
    if (this.#out.length > OUTPUT_KEEP) this.#out = new Uint8Array(OUTPUT_START);
    return bytes;
  }

  /** Sends response headers; false when the stream is gone or already answered. */
  respond(
    streamId: number,
    headers: readonly HeaderField[],
    options: { endStream?: boolean; waitForTrailers?: boolean } = {},
  ): boolean {
    const stream = this.#streams.get(streamId);
    if (stream === undefined || stream.headersSent || this.#failed) return false;
    stream.headersSent = true;
    this.#headers(streamId, headers, options.endStream === true);
    if (options.endStream) {
      this.#endedLocally(stream);
    } else {
      stream.waitForTrailers = options.waitForTrailers === true;
    }
    return true;
  }

  /**
   * Queues DATA; `done` is called once all of it is framed within the
   * client's windows (or with an error when the stream closes first).
   */
  sendData(streamId: number, data: Uint8Array, done?: WriteDone): boolean {
    const stream = this.#streams.get(streamId);
    if (stream === undefined || !stream.headersSent || stream.ending) {
      if (done !== undefined) {
        this.#done.push(() => done(new Error(`stream ${streamId} is closed`)));
      }
      return false;
    }
    stream.queue.push({ data, at: 0, done });
    stream.queued += data.length;
    this.#queuedTotal += data.length;
    this.#ready.add(stream);
    return true;
  }

  /** Ends the response after the queued DATA (with trailers when `waitForTrailers` was asked). */
  end(streamId: number): void {
    const stream = this.#streams.get(streamId);
    if (stream === undefined || stream.ending) return;
    if (!stream.headersSent) {
      this.respond(streamId, [[":status", "200"]], { endStream: true });
      return;
    }
    stream.ending = true;
    this.#ready.add(stream);
  }

  /** Sends trailers (END_STREAM) once the queued DATA has gone. */
  sendTrailers(streamId: number, trailers: readonly HeaderField[]): boolean {
    const stream = this.#streams.get(streamId);
    if (stream === undefined || !stream.headersSent || stream.trailers !== undefined) return false;
    stream.trailers = [...trailers];
    stream.ending = true;
    this.#ready.add(stream);
    return true;
  }

  /** Tells the client `n` DATA bytes of a stream were consumed, widening its window. */
  consumed(streamId: number, n: number): void {
    const stream = this.#streams.get(streamId);
    if (stream === undefined || stream.remoteEnded || n <= 0) return;
    const increment = stream.recv.consume(n);
    if (increment > 0) this.#frame32(FrameType.WINDOW_UPDATE, streamId, increment);
  }

  /** Resets a stream with `code` (RST_STREAM), dropping what it had queued. */
  reset(streamId: number, code: number): void {
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return;
    this.#frame32(FrameType.RST_STREAM, streamId, code);
    this.#close(stream, { code, byPeer: false, resetByUs: true });
  }

  /** Sends a PING with 8 bytes of payload. */
  ping(payload: Uint8Array): void {
    if (this.#failed) return;
    this.#emit(FrameWriter.frame(FrameType.PING, 0, 0, payload));
  }

  /**
   * Sends GOAWAY: streams above `lastStreamId` (by default, the last one
   * opened) are ignored from now on; the open ones go on.
   */
  goaway(code: number = ErrorCode.NO_ERROR, lastStreamId = this.#lastStreamId, debug = ""): void {
    if (this.#failed) return;
    this.#goawayLast = Math.min(this.#goawayLast, lastStreamId);
    this.#emit(FrameWriter.goaway(lastStreamId, code, debug));
    if (code !== ErrorCode.NO_ERROR) this.#fail(code, debug, false);
  }

  /** Ends the connection with SETTINGS_TIMEOUT when the client never acknowledged our SETTINGS. */
  settingsTimedOut(): void {
    if (!this.#settingsAcked) {
      this.#fail(ErrorCode.SETTINGS_TIMEOUT, "the client did not acknowledge our SETTINGS");
    }
  }

  #emit(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#out.set(bytes, this.#outLength);
    this.#outLength += bytes.length;
  }

  /** Makes room for `n` more bytes of output. */
  #reserve(n: number): void {
    const needed = this.#outLength + n;
    if (needed <= this.#out.length) return;
    const out = new Uint8Array(Math.max(needed, this.#out.length * 2));
    out.set(this.#out.subarray(0, this.#outLength));
    this.#out = out;
  }

  /** Writes a frame header into the output; its `length` bytes of payload must follow. */
  #frameHeader(length: number, type: number, flags: number, streamId: number): void {
    this.#reserve(FRAME_HEADER_BYTES + length);
    const out = this.#out;
    const at = this.#outLength;
    out[at] = length >>> 16;
    out[at + 1] = (length >>> 8) & 0xff;
    out[at + 2] = length & 0xff;
    out[at + 3] = type;
    out[at + 4] = flags;
    out[at + 5] = (streamId >>> 24) & 0x7f;
    out[at + 6] = (streamId >>> 16) & 0xff;
    out[at + 7] = (streamId >>> 8) & 0xff;
    out[at + 8] = streamId & 0xff;
    this.#outLength = at + FRAME_HEADER_BYTES;
  }

  /** A frame whose payload is one 32-bit number (RST_STREAM, WINDOW_UPDATE), into the output. */
  #frame32(type: number, streamId: number, value: number): void {
    this.#frameHeader(4, type, 0, streamId);
    const out = this.#out;
    const at = this.#outLength;
    out[at] = value >>> 24;
    out[at + 1] = (value >>> 16) & 0xff;
    out[at + 2] = (value >>> 8) & 0xff;
    out[at + 3] = value & 0xff;
    this.#outLength = at + 4;
  }

  #headers(streamId: number, headers: readonly HeaderField[], endStream: boolean): void {
    // A view of the encoder's buffer, copied into the output at once.
    const block = this.#encoder.encodeView(headers);
    const maxFrameSize = this.#peerMaxFrame;
    let at = 0;
    do {
      const end = Math.min(block.length, at + maxFrameSize);
      const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      let flags = end === block.length ? Flags.END_HEADERS : 0;
      if (at === 0 && endStream) flags |= Flags.END_STREAM;
      this.#frameHeader(end - at, type, flags, streamId);
      this.#out.set(block.subarray(at, end), this.#outLength);
      this.#outLength += end - at;
      at = end;
    } while (at < block.length);
  }

  /** Ends the connection: GOAWAY with `code`, no more input. */
  #fail(code: number, message: string, sendGoaway = true): void {
    if (this.#failed) return;
    this.#failed = true;
    if (sendGoaway) this.#emit(FrameWriter.goaway(this.#lastStreamId, code, message));
    for (const stream of [...this.#streams.values()]) {
      this.#close(stream, { code: ErrorCode.CANCEL, byPeer: false, resetByUs: true });
    }
    this.#events.push({ type: "closed", code, message });
  }

  /** Counts an ACK to send; false (and the connection ended) once too many wait. */
  #ack(): boolean {
    if (++this.#unsentAcks <= this.#maxUnsentAcks) return true;
    this.#fail(
      ErrorCode.ENHANCE_YOUR_CALM,
      `over ${this.#maxUnsentAcks} PING or SETTINGS ACKs waiting for the client to read them`,
    );
    return false;
  }

  /** Counts a reset of an unanswered stream; past the rate, ends the connection (closing every stream). */
  #resetUnanswered(): void {
    const now = this.#now();
    if (now - this.#resetWindowStart >= 1000) {
      this.#resetWindowStart = now;
      this.#resets = 0;
    }
    if (++this.#resets <= this.#maxResets) return;
    this.#fail(
      ErrorCode.ENHANCE_YOUR_CALM,
      `over ${this.#maxResets} streams reset before their answer in a second`,
    );
  }

  #onFrame(frame: Frame | Http2Error): void {
    if (this.#failed) return;
    if (frame instanceof Http2Error) {
      if (this.#block !== undefined) {
        throw new Http2Error(ErrorCode.PROTOCOL_ERROR, "a frame in the middle of a header block");
      }
      return this.#streamError(frame.streamId!, frame.code);
    }
    if (this.#block !== undefined && frame.type !== FrameType.CONTINUATION) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `a frame of type ${frame.type} in the middle of a header block (CONTINUATION expected)`,
      );
    }
    if (!this.#settingsSeen) this.#onFirstFrame(frame);
    try {
      switch (frame.type) {
        case FrameType.DATA:
          return this.#onData(frame);
        case FrameType.HEADERS:
          return this.#onHeaders(frame);
        case FrameType.CONTINUATION:
          return this.#onContinuation(frame.streamId, frame.block, frame.endHeaders);
        case FrameType.PRIORITY:
          return this.#checkDependency(frame.streamId, frame.dependsOn);
        case FrameType.RST_STREAM:
          return this.#onReset(frame.streamId, frame.code);
        case FrameType.SETTINGS:
          return this.#onSettings(frame.ack, frame.settings);
        case FrameType.PING:
          return this.#onPing(frame.ack, frame.payload);
        case FrameType.GOAWAY:
          this.#events.push({
            type: "goaway",
            lastStreamId: frame.lastStreamId,
            code: frame.code,
          });
          return;
        case FrameType.WINDOW_UPDATE:
          return this.#onWindowUpdate(frame.streamId, frame.increment);
        default:
          return;
      }
    } catch (error) {
      if (!(error instanceof Http2Error) || error.streamId === undefined) throw error;
      this.#streamError(error.streamId, error.code);
    }
  }

  /** The client's first frame must be SETTINGS (RFC 9113 §3.4); our wider window follows it. */
  #onFirstFrame(frame: Frame): void {
    if (frame.type !== FrameType.SETTINGS || frame.ack) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        "the client's first frame is not SETTINGS (RFC 9113 §3.4)",
      );
    }
    this.#settingsSeen = true;
    // Widened only now, so that a client that is not HTTP/2 gets SETTINGS and GOAWAY alone.
    if (this.#connectionWindow > DEFAULT_WINDOW) {
      this.#emit(
        FrameWriter.uint32(FrameType.WINDOW_UPDATE, 0, this.#connectionWindow - DEFAULT_WINDOW),
      );
    }
  }

  /** A HEADERS or PRIORITY frame making a stream depend on itself: a stream error. */
  #checkDependency(streamId: number, dependsOn: number | undefined): void {
    if (dependsOn === streamId) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `stream ${streamId} depends on itself`,
        streamId,
      );
    }
  }

  /** Answers a PING (unless too many ACKs wait), or reports the ACK of ours. */
  #onPing(ack: boolean, payload: Uint8Array): void {
    if (ack) {
      this.#events.push({ type: "pingAck", payload: payload.slice() });
    } else if (this.#ack()) {
      this.#frameHeader(8, FrameType.PING, Flags.ACK, 0);
      this.#out.set(payload, this.#outLength);
      this.#outLength += 8;
    }
  }

  /** Resets a stream for a stream error (RFC 9113 §5.4.2), open or not. */
  #streamError(streamId: number, code: number): void {
    const stream = this.#streams.get(streamId);
    if (stream !== undefined) return this.reset(streamId, code);
    this.#frame32(FrameType.RST_STREAM, streamId, code);
    this.#remember(streamId, true);
  }

  /** Remembers a closed stream, forgetting the oldest of the last {@linkcode CLOSED_MEMORY}. */
  #remember(streamId: number, resetByUs: boolean): void {
    const slot = this.#closedNext;
    this.#closedIds[slot] = streamId;
    this.#closedByUs[slot] = resetByUs ? 1 : 0;
    this.#closedNext = (slot + 1) % CLOSED_MEMORY;
  }

  /** Whether a recently closed stream was reset by us; `undefined` when it is not remembered. */
  #closedState(streamId: number): boolean | undefined {
    // Only frames on closed streams look here: a scan of a small array is enough.
    const i = this.#closedIds.lastIndexOf(streamId);
    return i < 0 ? undefined : this.#closedByUs[i] === 1;
  }

  /** A frame on a stream that is not open: idle is a connection error, closed a stream error. */
  #notOpen(streamId: number, what: string): never {
    if (streamId > this.#lastStreamId) {
      throw new Http2Error(ErrorCode.PROTOCOL_ERROR, `${what} on idle stream ${streamId}`);
    }
    throw new Http2Error(ErrorCode.STREAM_CLOSED, `${what} on closed stream ${streamId}`, streamId);
  }

  #onData(frame: DataFrame): void {
    const { streamId } = frame;
    if (!this.#recv.receive(frame.length)) {
      throw new Http2Error(
        ErrorCode.FLOW_CONTROL_ERROR,
        `a DATA frame of ${frame.length} bytes over the connection's window`,
      );
    }
    const increment = this.#recv.consume(frame.length);
    if (increment > 0) this.#frame32(FrameType.WINDOW_UPDATE, 0, increment);
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      // Frames in flight when we reset a stream are expected; drop them.
      if (this.#closedState(streamId) === true) {
        return this.#lingered(streamId, frame.length, frame.endStream);
      }
      return this.#notOpen(streamId, "DATA");
    }
    if (stream.remoteEnded) {
      throw new Http2Error(
        ErrorCode.STREAM_CLOSED,
        `DATA after END_STREAM on stream ${streamId}`,
        streamId,
      );
    }
    if (!stream.recv.receive(frame.length)) {
      throw new Http2Error(
        ErrorCode.FLOW_CONTROL_ERROR,
        `a DATA frame of ${frame.length} bytes over stream ${streamId}'s window`,
        streamId,
      );
    }
    // Padding is consumed at once; the data when the layer above reads it.
    const padding = frame.length - frame.data.length;
    if (padding > 0) this.consumed(streamId, padding);
    stream.received += frame.data.length;
    if (stream.contentLength !== undefined) {
      if (
        stream.received > stream.contentLength ||
        (frame.endStream && stream.received !== stream.contentLength)
      ) {
        throw new Http2Error(
          ErrorCode.PROTOCOL_ERROR,
          `stream ${streamId} sent ${stream.received} bytes with content-length ${stream.contentLength}`,
          streamId,
        );
      }
    }
    if (frame.endStream) stream.remoteEnded = true;
    this.#events.push({
      type: "data",
      streamId,
      data: frame.data,
      endStream: frame.endStream,
    });
  }

  #onHeaders(frame: HeadersFrame): void {
    if (frame.streamId % 2 === 0) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `HEADERS on even stream ${frame.streamId} (clients use odd ids)`,
      );
    }
    this.#block = { frame, parts: [], bytes: 0 };
    this.#onContinuation(frame.streamId, frame.block, frame.endHeaders);
  }

  #onContinuation(streamId: number, fragment: Uint8Array, endHeaders: boolean): void {
    const block = this.#block;
    if (block === undefined || block.frame.streamId !== streamId) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `a CONTINUATION frame on stream ${streamId} that continues no header block`,
      );
    }
    block.parts.push(fragment);
    block.bytes += fragment.length;
    if (block.bytes > this.#maxHeaderList + 16384) {
      // Too big to keep: the HPACK table could not stay in step.
      throw new Http2Error(
        ErrorCode.ENHANCE_YOUR_CALM,
        `a header block of over ${this.#maxHeaderList + 16384} bytes`,
      );
    }
    if (!endHeaders) return;
    this.#block = undefined;
    const whole = block.parts.length === 1 ? block.parts[0] : concatBytes(block.parts);
    this.#onHeaderBlock(block.frame, whole);
  }

  /**
   * A whole header block: trailers on an open stream, or a request that
   * opens one (if admitted) once its headers pass the checks.
   */
  #onHeaderBlock(frame: HeadersFrame, block: Uint8Array): void {
    const { streamId } = frame;
    // Every block is decoded, even for a stream we refuse: the table must stay in step.
    const headers = this.#decodeHeaders(block);
    this.#checkDependency(streamId, frame.dependsOn);
    const open = this.#streams.get(streamId);
    if (open !== undefined) return this.#onTrailers(open, frame, headers);
    const stream = this.#admit(frame);
    if (stream === undefined) return;
    if (headers === undefined) {
      this.respond(streamId, [[":status", "431"]], { endStream: true });
      return;
    }
    this.#checkRequest(stream, frame, headers);
    this.#events.push({ type: "request", streamId, headers, endStream: frame.endStream });
  }

  /** Decodes a header block; `undefined` when the list is over our header list limit. */
  #decodeHeaders(block: Uint8Array): HeaderField[] | undefined {
    try {
      return this.#decoder.decode(block);
    } catch (error) {
      if (error instanceof HeaderListTooLargeError) return undefined;
      if (error instanceof HpackError) {
        throw new Http2Error(ErrorCode.COMPRESSION_ERROR, `HPACK: ${error.message}`);
      }
      throw error;
    }
  }

  /**
   * Opens the stream a request's HEADERS name, or returns `undefined` when
   * it is not to be served: trailers late on a stream we ended, a stream
   * past our GOAWAY, or one over the concurrency limit (refused).
   */
  #admit(frame: HeadersFrame): Stream | undefined {
    const { streamId } = frame;
    if (streamId <= this.#lastStreamId) {
      // Trailers in flight on a stream we reset or answered early are dropped.
      if (this.#closedState(streamId) === true) {
        this.#lingered(streamId, 0, frame.endStream);
        return undefined;
      }
      if (this.#closedState(streamId) !== undefined) {
        throw new Http2Error(ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${streamId}`);
      }
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `HEADERS opening stream ${streamId} after stream ${this.#lastStreamId} (ids must grow)`,
      );
    }
    this.#lastStreamId = streamId;
    if (streamId > this.#goawayLast) return undefined;
    if (this.#streams.size >= this.#maxConcurrent) {
      this.#frame32(FrameType.RST_STREAM, streamId, ErrorCode.REFUSED_STREAM);
      this.#remember(streamId, true);
      return undefined;
    }
    const stream: Stream = {
      id: streamId,
      remoteEnded: frame.endStream,
      headersSent: false,
      ending: false,
      waitForTrailers: false,
      wantTrailersSent: false,
      send: new OutFlow(this.#peerWindow),
      recv: new InFlow(this.#streamWindow),
      queue: [],
      queued: 0,
      received: 0,
    };
    this.#streams.set(streamId, stream);
    return stream;
  }

  /** Checks a request's headers (RFC 9113 §8.2, §8.3) and notes its content-length (§8.1.1). */
  #checkRequest(stream: Stream, frame: HeadersFrame, headers: readonly HeaderField[]): void {
    const streamId = stream.id;
    const fault = requestHeaderFault(headers, false);
    if (fault !== undefined) {
      throw new Http2Error(ErrorCode.PROTOCOL_ERROR, fault, streamId);
    }
    const length = headers.find(([name]) => name === "content-length")?.[1];
    if (length === undefined) return;
    if (!/^\d{1,15}$/.test(length)) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `content-length ${JSON.stringify(length)}`,
        streamId,
      );
    }
    stream.contentLength = Number(length);
    if (frame.endStream && stream.contentLength !== 0) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `no body with content-length ${length}`,
        streamId,
      );
    }
  }

  #onTrailers(stream: Stream, frame: HeadersFrame, headers: HeaderField[] | undefined): void {
    const { id } = stream;
    if (stream.remoteEnded) {
      throw new Http2Error(ErrorCode.STREAM_CLOSED, `HEADERS after END_STREAM on stream ${id}`, id);
    }
    if (!frame.endStream) {
      throw new Http2Error(ErrorCode.PROTOCOL_ERROR, `trailers without END_STREAM on ${id}`, id);
    }
    const fault = headers === undefined
      ? "trailers over the header list limit"
      : requestHeaderFault(headers, true);
    if (fault !== undefined) throw new Http2Error(ErrorCode.PROTOCOL_ERROR, fault, id);
    if (stream.contentLength !== undefined && stream.received !== stream.contentLength) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `stream ${id} sent ${stream.received} bytes with content-length ${stream.contentLength}`,
        id,
      );
    }
    stream.remoteEnded = true;
    this.#events.push({ type: "data", streamId: id, data: NO_BYTES, endStream: true });
  }

  #onReset(streamId: number, code: number): void {
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.#lastStreamId) {
        throw new Http2Error(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${streamId}`);
      }
      return;
    }
    // When the count ends the connection, the stream is closed already and this does nothing.
    if (!stream.headersSent) this.#resetUnanswered();
    this.#close(stream, { code, byPeer: true, resetByUs: false });
  }

  #onSettings(ack: boolean, settings: [number, number][]): void {
    if (ack) {
      this.#settingsAcked = true;
      return;
    }
    if (!this.#ack()) return;
    for (const [id, value] of settings) {
      switch (id) {
        case SettingId.HEADER_TABLE_SIZE:
          this.#encoder.setPeerMaxTableSize(value);
          break;
        case SettingId.ENABLE_PUSH:
          if (value > 1) {
            throw new Http2Error(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
          }
          break;
        case SettingId.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) {
            throw new Http2Error(
              ErrorCode.FLOW_CONTROL_ERROR,
              `SETTINGS_INITIAL_WINDOW_SIZE ${value} (over 2^31 - 1)`,
            );
          }
          const delta = value - this.#peerWindow;
          this.#peerWindow = value;
          for (const stream of this.#streams.values()) {
            if (!stream.send.add(delta)) {
              throw new Http2Error(
                ErrorCode.FLOW_CONTROL_ERROR,
                `SETTINGS_INITIAL_WINDOW_SIZE ${value} overflows stream ${stream.id}'s window`,
              );
            }
            if (stream.queued > 0 || stream.ending) this.#ready.add(stream);
          }
          break;
        }
        case SettingId.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) {
            throw new Http2Error(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
          }
          this.#peerMaxFrame = value;
          break;
        default:
          // MAX_CONCURRENT_STREAMS and MAX_HEADER_LIST_SIZE do not bind a
          // server that never pushes; unknown settings are ignored (§6.5.2).
          break;
      }
    }
    this.#emit(FrameWriter.settings());
  }

  #onWindowUpdate(streamId: number, increment: number): void {
    if (streamId === 0) {
      if (increment === 0) {
        throw new Http2Error(ErrorCode.PROTOCOL_ERROR, "a connection WINDOW_UPDATE of 0");
      }
      if (!this.#send.add(increment)) {
        throw new Http2Error(
          ErrorCode.FLOW_CONTROL_ERROR,
          `a WINDOW_UPDATE of ${increment} takes the connection's window over 2^31 - 1`,
        );
      }
      return;
    }
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.#lastStreamId) {
        throw new Http2Error(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${streamId}`);
      }
      return;
    }
    if (increment === 0) {
      throw new Http2Error(
        ErrorCode.PROTOCOL_ERROR,
        `a WINDOW_UPDATE of 0 on stream ${streamId}`,
        streamId,
      );
    }
    if (!stream.send.add(increment)) {
      throw new Http2Error(
        ErrorCode.FLOW_CONTROL_ERROR,
        `a WINDOW_UPDATE of ${increment} takes stream ${streamId}'s window over 2^31 - 1`,
        streamId,
      );
    }
    if (stream.queued > 0) this.#ready.add(stream);
  }

  /**
   * Our END_STREAM went out: the stream closes, at once when the client has
   * ended too. RFC 9113 §8.1 lets a server whose response is complete ask
   * for no more of the request with RST_STREAM NO_ERROR; sent at once, some
   * clients (curl 7.88 among them) report the reset as an error when they
   * had not quite finished sending, and the response is lost to them. So
   * the rest of a request is read and dropped, and the reset is sent only
   * if more than {@linkcode LINGER_BYTES} or {@linkcode LINGER_MS} follow.
   * The stream is closed for the layer above either way. (So an open
   * stream has never ended on our side: the client's END_STREAM alone
   * never closes one.)
   */
  #endedLocally(stream: Stream): void {
    if (stream.remoteEnded) {
      return this.#close(stream, { code: ErrorCode.NO_ERROR, byPeer: false, resetByUs: false });
    }
    this.#close(stream, { code: ErrorCode.NO_ERROR, byPeer: false, resetByUs: true });
    // A client whose stream window is used up (the layer above stopped
    // reading) could send nothing more, and would wait for a reset that only
    // its own bytes bring: let it send what decides between an end and one.
    const room = LINGER_BYTES + 1 - stream.recv.available;
    if (room > 0) this.#frame32(FrameType.WINDOW_UPDATE, stream.id, room);
    this.#lingering.set(stream.id, { since: this.#now(), bytes: 0 });
    if (this.#lingering.size > LINGER_MAX_STREAMS) this.#stopLingering(Infinity, 1);
  }

  /** Streams answered before their request ended, oldest first: when, and bytes dropped since. */
  readonly #lingering = new Map<number, { since: number; bytes: number }>();

  /** More of a request whose response has ended: dropped, and the stream forgotten at its end. */
  #lingered(streamId: number, bytes: number, endStream: boolean): void {
    const entry = this.#lingering.get(streamId);
    if (entry === undefined) return;
    entry.bytes += bytes;
    if (endStream) {
      this.#lingering.delete(streamId);
    } else if (entry.bytes > LINGER_BYTES) {
      this.#lingering.delete(streamId);
      this.#frame32(FrameType.RST_STREAM, streamId, ErrorCode.NO_ERROR);
    }
  }

  /** Asks the clients of lingering streams since before `before` (at most `limit`) to stop. */
  #stopLingering(before: number, limit = Infinity): void {
    for (const [streamId, entry] of this.#lingering) {
      if (entry.since >= before || limit-- <= 0) return;
      this.#lingering.delete(streamId);
      this.#frame32(FrameType.RST_STREAM, streamId, ErrorCode.NO_ERROR);
    }
  }

  #close(
    stream: Stream,
    how: { code: number; byPeer: boolean; resetByUs: boolean },
  ): void {
    if (!this.#streams.delete(stream.id)) return;
    this.#ready.delete(stream);
    this.#remember(stream.id, how.resetByUs);
    for (const chunk of stream.queue) {
      const done = chunk.done;
      if (done !== undefined) {
        this.#done.push(() => done(new Error(`stream ${stream.id} closed with code ${how.code}`)));
      }
    }
    stream.queue = [];
    this.#queuedTotal -= stream.queued;
    stream.queued = 0;
    this.#events.push({
      type: "streamClosed",
      streamId: stream.id,
      code: how.code,
      byPeer: how.byPeer,
    });
  }

  /**
   * Frames queued DATA within the windows, round robin over the streams,
   * then ends them. Each pass frames data on every stream it keeps (one
   * with no room leaves the set, or ends the call when the connection's
   * window is shut), so the passes end.
   */
  #schedule(): void {
    while (this.#ready.size > 0 && !this.#failed) {
      // Deleting the current element of a Set while iterating it is safe; nothing is added here.
      for (const stream of this.#ready) {
        if (stream.queued > 0) {
          const room = Math.min(stream.send.available, this.#send.available, this.#peerMaxFrame);
          if (room <= 0) {
            if (this.#send.available <= 0) return;
            this.#ready.delete(stream);
            continue;
          }
          this.#dataFrame(stream, Math.min(room, stream.queued));
          if (stream.queued > 0) continue;
        }
        this.#ready.delete(stream);
        if (stream.ending && this.#streams.has(stream.id)) this.#finish(stream);
      }
    }
  }

  /** One DATA frame of `n` queued bytes; END_STREAM on it when nothing follows. */
  #dataFrame(stream: Stream, n: number): void {
    const last = n === stream.queued && stream.ending && !stream.waitForTrailers &&
      stream.trailers === undefined;
    this.#frameHeader(n, FrameType.DATA, last ? Flags.END_STREAM : 0, stream.id);
    const out = this.#out;
    let at = this.#outLength;
    const end = at + n;
    while (at < end) {
      const chunk = stream.queue[0];
      const take = Math.min(chunk.data.length - chunk.at, end - at);
      out.set(
        chunk.at === 0 && take === chunk.data.length
          ? chunk.data
          : chunk.data.subarray(chunk.at, chunk.at + take),
        at,
      );
      chunk.at += take;
      at += take;
      if (chunk.at === chunk.data.length) {
        stream.queue.shift();
        if (chunk.done !== undefined) this.#done.push(chunk.done);
      }
    }
    this.#outLength = end;
    stream.queued -= n;
    this.#queuedTotal -= n;
    stream.send.take(n);
    this.#send.take(n);
    if (last) {
      stream.ending = false;
      this.#endedLocally(stream);
    }
  }

  /** The queue is empty and `end()` was called: trailers, or an empty DATA with END_STREAM. */
  #finish(stream: Stream): void {
    if (stream.trailers !== undefined) {
      this.#headers(stream.id, stream.trailers, true);
      this.#endedLocally(stream);
    } else if (stream.waitForTrailers) {
      if (!stream.wantTrailersSent) {
        stream.wantTrailersSent = true;
        this.#events.push({ type: "wantTrailers", streamId: stream.id });
      }
    } else {
      this.#frameHeader(0, FrameType.DATA, Flags.END_STREAM, stream.id);
      this.#endedLocally(stream);
    }
  }
}
