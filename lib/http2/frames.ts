/**
 * HTTP/2 frames (RFC 9113 §4, §6) as small typed values, with one reader
 * that turns bytes into frames and one writer that turns frames into bytes.
 * The reader checks what can be checked on a frame alone (sizes, stream 0
 * rules, padding) and reports a fault with its exact error code; what needs
 * the connection's state is checked in `connection.ts`.
 *
 * Depends on nothing outside this folder.
 *
 * @module
 */

/** Frame type codes (RFC 9113 §6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (RFC 9113 §6). */
export const Flags = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes (RFC 9113 §7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** Setting identifiers (RFC 9113 §6.5.2). */
export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** The length of a frame header. */
export const FRAME_HEADER_BYTES = 9;
/** The smallest (and default) SETTINGS_MAX_FRAME_SIZE. */
export const DEFAULT_MAX_FRAME_SIZE = 16384;
/** The largest flow-control window (2^31 - 1). */
export const MAX_WINDOW = 0x7fffffff;

/** The client connection preface (RFC 9113 §3.4). */
export const CLIENT_PREFACE: Uint8Array = new TextEncoder().encode(
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
);

/** A DATA frame; `length` counts the padding too, as flow control does. */
export interface DataFrame {
  type: typeof FrameType.DATA;
  streamId: number;
  endStream: boolean;
  data: Uint8Array;
  length: number;
}

/** A HEADERS frame (its priority fields, if any, dropped). */
export interface HeadersFrame {
  type: typeof FrameType.HEADERS;
  streamId: number;
  endStream: boolean;
  endHeaders: boolean;
  block: Uint8Array;
  /** The stream this one depends on, when the PRIORITY flag is set. */
  dependsOn?: number;
}

/** A PRIORITY frame (ignored beyond its checks). */
export interface PriorityFrame {
  type: typeof FrameType.PRIORITY;
  streamId: number;
  dependsOn: number;
}

/** A RST_STREAM frame. */
export interface RstStreamFrame {
  type: typeof FrameType.RST_STREAM;
  streamId: number;
  code: number;
}

/** A SETTINGS frame. */
export interface SettingsFrame {
  type: typeof FrameType.SETTINGS;
  streamId: 0;
  ack: boolean;
  settings: [id: number, value: number][];
}

/** A PUSH_PROMISE frame (a client must never send one). */
export interface PushPromiseFrame {
  type: typeof FrameType.PUSH_PROMISE;
  streamId: number;
}

/** A PING frame. */
export interface PingFrame {
  type: typeof FrameType.PING;
  streamId: 0;
  ack: boolean;
  payload: Uint8Array;
}

/** A GOAWAY frame. */
export interface GoawayFrame {
  type: typeof FrameType.GOAWAY;
  streamId: 0;
  lastStreamId: number;
  code: number;
  debug: Uint8Array;
}

/** A WINDOW_UPDATE frame (an increment of 0 is passed on for the connection to judge). */
export interface WindowUpdateFrame {
  type: typeof FrameType.WINDOW_UPDATE;
  streamId: number;
  increment: number;
}

/** A CONTINUATION frame. */
export interface ContinuationFrame {
  type: typeof FrameType.CONTINUATION;
  streamId: number;
  endHeaders: boolean;
  block: Uint8Array;
}

/** A frame of a type this endpoint does not know (RFC 9113 §4.1: ignored). */
export interface UnknownFrame {
  type: "unknown";
  code: number;
  streamId: number;
}

/** Any frame. */
export type Frame =
  | DataFrame
  | HeadersFrame
  | PriorityFrame
  | RstStreamFrame
  | SettingsFrame
  | PushPromiseFrame
  | PingFrame
  | GoawayFrame
  | WindowUpdateFrame
  | ContinuationFrame
  | UnknownFrame;

/**
 * A fault found in a frame: a connection error unless `streamId` is set, in
 * which case only that stream is reset (RFC 9113 §5.4).
 */
export class Http2Error extends Error {
  /** The RFC 9113 §7 error code to send. */
  readonly code: number;
  /** The stream to reset, for a stream error; `undefined` for a connection error. */
  readonly streamId?: number;

  /** Makes an error; pass `streamId` for a stream error. */
  constructor(code: number, message: string, streamId?: number) {
    super(message);
    this.name = "Http2Error";
    this.code = code;
    this.streamId = streamId;
  }
}

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The 31-bit stream id at `at`. */
function streamIdAt(bytes: Uint8Array, at: number): number {
  return ((bytes[at] & 0x7f) << 24 | bytes[at + 1] << 16 | bytes[at + 2] << 8 | bytes[at + 3]) >>>
    0;
}

/** The 32-bit unsigned integer at `at`. */
function uint32At(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 24 | bytes[at + 1] << 16 | bytes[at + 2] << 8 | bytes[at + 3]) >>> 0;
}

/** The payload without its pad length and padding (RFC 9113 §6.1). */
function unpad(payload: Uint8Array, flags: number, what: string): Uint8Array {
  if ((flags & Flags.PADDED) === 0) return payload;
  if (payload.length < 1) {
    throw new Http2Error(ErrorCode.FRAME_SIZE_ERROR, `a padded ${what} frame has no pad length`);
  }
  const padLength = payload[0];
  if (padLength >= payload.length) {
    throw new Http2Error(
      ErrorCode.PROTOCOL_ERROR,
      `the padding of a ${what} frame (${padLength} bytes) is not shorter than its payload (${payload.length} bytes)`,
    );
  }
  return payload.subarray(1, payload.length - padLength);
}

/** Checks that a frame that must name a stream does. */
function needsStream(streamId: number, what: string): void {
  if (streamId === 0) {
    throw new Http2Error(ErrorCode.PROTOCOL_ERROR, `a ${what} frame on stream 0`);
  }
}

/** Checks that a connection-level frame is on stream 0. */
function needsConnection(streamId: number, what: string): void {
  if (streamId !== 0) {
    throw new Http2Error(ErrorCode.PROTOCOL_ERROR, `a ${what} frame on stream ${streamId}`);
  }
}

/** A DATA frame's payload, without its padding (RFC 9113 §6.1). */
function decodeData(flags: number, streamId: number, payload: Uint8Array): DataFrame {
  needsStream(streamId, "DATA");
  const body = unpad(payload, flags, "DATA");
  return {
    type: FrameType.DATA,
    streamId,
    endStream: (flags & Flags.END_STREAM) !== 0,
    data: body,
    length: payload.length,
  };
}

/** A HEADERS frame's payload, without its padding and priority fields (RFC 9113 §6.2). */
function decodeHeaders(flags: number, streamId: number, payload: Uint8Array): HeadersFrame {
  needsStream(streamId, "HEADERS");
  let body = unpad(payload, flags, "HEADERS");
  let dependsOn: number | undefined;
  if ((flags & Flags.PRIORITY) !== 0) {
    if (body.length < 5) {
      throw new Http2Error(
        ErrorCode.FRAME_SIZE_ERROR,
        "a HEADERS frame with priority is shorter than 5 bytes",
      );
    }
    dependsOn = streamIdAt(body, 0);
    body = body.subarray(5);
  }
  return {
    type: FrameType.HEADERS,
    streamId,
    endStream: (flags & Flags.END_STREAM) !== 0,
    endHeaders: (flags & Flags.END_HEADERS) !== 0,
    block: body,
    dependsOn,
  };
}

/** A PRIORITY frame's payload (RFC 9113 §6.3); a wrong size is a stream error. */
function decodePriority(streamId: number, payload: Uint8Array): PriorityFrame {
  needsStream(streamId, "PRIORITY");
  if (payload.length !== 5) {
    throw new Http2Error(
      ErrorCode.FRAME_SIZE_ERROR,
      `a PRIORITY frame of ${payload.length} bytes (not 5)`,
      streamId,
    );
  }
  return { type: FrameType.PRIORITY, streamId, dependsOn: streamIdAt(payload, 0) };
}

/** A RST_STREAM frame's payload (RFC 9113 §6.4). */
function decodeRstStream(streamId: number, payload: Uint8Array): RstStreamFrame {
  needsStream(streamId, "RST_STREAM");
  if (payload.length !== 4) {
    throw new Http2Error(
      ErrorCode.FRAME_SIZE_ERROR,
      `a RST_STREAM frame of ${payload.length} bytes (not 4)`,
    );
  }
  return { type: FrameType.RST_STREAM, streamId, code: uint32At(payload, 0) };
}

/** A SETTINGS frame's payload (RFC 9113 §6.5). */
function decodeSettings(flags: number, streamId: number, payload: Uint8Array): SettingsFrame {
  needsConnection(streamId, "SETTINGS");
  const ack = (flags & Flags.ACK) !== 0;
  if (ack && payload.length !== 0) {
    throw new Http2Error(
      ErrorCode.FRAME_SIZE_ERROR,
      `a SETTINGS ACK with a ${payload.length}-byte payload`,
    );
  }
  if (payload.length % 6 !== 0) {
    throw new Http2Error(
      ErrorCode.FRAME_SIZE_ERROR,
      `a SETTINGS frame of ${payload.length} bytes (not a multiple of 6)`,
    );
  }
  const settings: [number, number][] = [];
  for (let i = 0; i < payload.length; i += 6) {
    settings.push([payload[i] << 8 | payload[i + 1], uint32At(payload, i + 2)]);
  }
  return { type: FrameType.SETTINGS, streamId: 0, ack, settings };
}

/** A PING frame's payload (RFC 9113 §6.7). */
function decodePing(flags: number, streamId: number, payload: Uint8Array): PingFrame {
  needsConnection(streamId, "PING");
  if (payload.length !== 8) {
    throw new Http2Error(
      ErrorCode.FRAME_SIZE_ERROR,
      `a PING frame of ${payload.length} bytes (not 8)`,
    );
  }
  return { type: FrameType.PING, streamId: 0, ack: (flags & Flags.ACK) !== 0, payload };
}

/** A GOAWAY frame's payload (RFC 9113 §6.8). */
function decodeGoaway(streamId: number, payload: Uint8Array): GoawayFrame {
  needsConnection(streamId, "GOAWAY");
  if (payload.length < 8) {
    throw new Http2Error(
      ErrorCode.FRAME_SIZE_ERROR,
      `a GOAWAY frame of ${payload.length} bytes (fewer than 8)`,
    );
  }
  return {
    type: FrameType.GOAWAY,
    streamId: 0,
    lastStreamId: streamIdAt(payload, 0),
    code: uint32At(payload, 4),
    debug: payload.subarray(8),
  };
}

/** A WINDOW_UPDATE frame's payload (RFC 9113 §6.9), on any stream. */
function decodeWindowUpdate(streamId: number, payload: Uint8Array): WindowUpdateFrame {
  if (payload.length !== 4) {
    throw new Http2Error(
      ErrorCode.FRAME_SIZE_ERROR,
      `a WINDOW_UPDATE frame of ${payload.length} bytes (not 4)`,
    );
  }
  return { type: FrameType.WINDOW_UPDATE, streamId, increment: streamIdAt(payload, 0) };
}

/** A CONTINUATION frame's payload (RFC 9113 §6.10). */
function decodeContinuation(
  flags: number,
  streamId: number,
  payload: Uint8Array,
): ContinuationFrame {
  needsStream(streamId, "CONTINUATION");
  return {
    type: FrameType.CONTINUATION,
    streamId,
    endHeaders: (flags & Flags.END_HEADERS) !== 0,
    block: payload,
  };
}

/**
 * Decodes one frame's payload, with the decoder of its type; throws
 * {@linkcode Http2Error} with the RFC's code.
 */
export function decodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
): Frame {
  switch (type) {
    case FrameType.DATA:
      return decodeData(flags, streamId, payload);
    case FrameType.HEADERS:
      return decodeHeaders(flags, streamId, payload);
    case FrameType.PRIORITY:
      return decodePriority(streamId, payload);
    case FrameType.RST_STREAM:
      return decodeRstStream(streamId, payload);
    case FrameType.SETTINGS:
      return decodeSettings(flags, streamId, payload);
    case FrameType.PUSH_PROMISE:
      throw new Http2Error(ErrorCode.PROTOCOL_ERROR, "a client sent PUSH_PROMISE");
    case FrameType.PING:
      return decodePing(flags, streamId, payload);
    case FrameType.GOAWAY:
      return decodeGoaway(streamId, payload);
    case FrameType.WINDOW_UPDATE:
      return decodeWindowUpdate(streamId, payload);
    case FrameType.CONTINUATION:
      return decodeContinuation(flags, streamId, payload);
    default:
      return { type: "unknown", code: type, streamId };
  }
}

/**
 * Splits a byte stream into frames. Bytes may arrive in any pieces; a frame
 * longer than `maxFrameSize` is a `FRAME_SIZE_ERROR` (RFC 9113 §4.2).
 */
export class FrameReader {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The largest payload accepted (our SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize: number;

  /** Makes a reader accepting payloads up to `maxFrameSize` bytes. */
  constructor(maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {
    this.maxFrameSize = maxFrameSize;
  }

  /**
   * Adds bytes; calls `onFrame` for every whole frame, in order, or with
   * the {@linkcode Http2Error} of a frame that is a stream error. Throws
   * the connection errors.
   */
  push(bytes: Uint8Array, onFrame: (frame: Frame | Http2Error) => void): void {
    let buffer = bytes;
    if (this.#pendingBytes > 0) {
      this.#pending.push(bytes);
      buffer = concatBytes(this.#pending);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    let at = 0;
    while (buffer.length - at >= FRAME_HEADER_BYTES) {
      const length = buffer[at] << 16 | buffer[at + 1] << 8 | buffer[at + 2];
      const type = buffer[at + 3];
      const flags = buffer[at + 4];
      const streamId = streamIdAt(buffer, at + 5);
      if (length > this.maxFrameSize) {
        throw new Http2Error(
          ErrorCode.FRAME_SIZE_ERROR,
          `a frame of ${length} bytes, over the ${this.maxFrameSize}-byte limit`,
        );
      }
      if (buffer.length - at < FRAME_HEADER_BYTES + length) break;
      const start = at + FRAME_HEADER_BYTES;
      at = start + length;
      let frame: Frame | Http2Error;
      try {
        frame = decodeFrame(type, flags, streamId, buffer.subarray(start, at));
      } catch (error) {
        if (!(error instanceof Http2Error) || error.streamId === undefined) throw error;
        frame = error;
      }
      onFrame(frame);
    }
    if (at < buffer.length) {
      // Keep a copy: the caller may reuse its buffer.
      const rest = buffer.slice(at);
      this.#pending.push(rest);
      this.#pendingBytes += rest.length;
    }
  }
}

/** Writes a 9-byte frame header at the start of `out`. */
export function writeFrameHeader(
  out: Uint8Array,
  header: { length: number; type: number; flags: number; streamId: number },
): void {
  const { length, streamId } = header;
  out[0] = length >>> 16;
  out[1] = (length >>> 8) & 0xff;
  out[2] = length & 0xff;
  out[3] = header.type;
  out[4] = header.flags;
  out[5] = (streamId >>> 24) & 0x7f;
  out[6] = (streamId >>> 16) & 0xff;
  out[7] = (streamId >>> 8) & 0xff;
  out[8] = streamId & 0xff;
}

/** Writes frames into byte arrays. */
export const FrameWriter = {
  /** A frame header followed by its payload, in one new array. */
  frame(type: number, flags: number, streamId: number, payload?: Uint8Array): Uint8Array {
    const length = payload?.length ?? 0;
    const out = new Uint8Array(FRAME_HEADER_BYTES + length);
    writeFrameHeader(out, { length, type, flags, streamId });
    if (payload !== undefined) out.set(payload, FRAME_HEADER_BYTES);
    return out;
  },

  /** A frame whose payload is one 32-bit number (RST_STREAM, WINDOW_UPDATE). */
  uint32(type: number, streamId: number, value: number): Uint8Array {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, value >>> 0);
    return FrameWriter.frame(type, 0, streamId, payload);
  },

  /** A SETTINGS frame (an ACK when `settings` is undefined). */
  settings(settings?: readonly (readonly [number, number])[]): Uint8Array {
    if (settings === undefined) return FrameWriter.frame(FrameType.SETTINGS, Flags.ACK, 0);
    const payload = new Uint8Array(settings.length * 6);
    const view = new DataView(payload.buffer);
    settings.forEach(([id, value], i) => {
      view.setUint16(i * 6, id);
      view.setUint32(i * 6 + 2, value);
    });
    return FrameWriter.frame(FrameType.SETTINGS, 0, 0, payload);
  },

  /** A GOAWAY frame. */
  goaway(lastStreamId: number, code: number, debug = ""): Uint8Array {
    const text = new TextEncoder().encode(debug);
    const payload = new Uint8Array(8 + text.length);
    const view = new DataView(payload.buffer);
    view.setUint32(0, lastStreamId & MAX_WINDOW);
    view.setUint32(4, code >>> 0);
    payload.set(text, 8);
    return FrameWriter.frame(FrameType.GOAWAY, 0, 0, payload);
  },
};
