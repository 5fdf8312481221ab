/**
 * gRPC-Web (grpc/grpc `doc/PROTOCOL-WEB.md`), binary and text: the request
 * decoder (base64 decoded across chunk boundaries for text, then
 * envelopes) and the responder (messages as envelopes, each response chunk
 * base64 with its own padding in text mode, and the trailers as a last
 * body frame with flag `0x80`, always sent).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Status, WebError } from "./codes.ts";
import {
  createEnvelopeDecoder,
  encodeEnvelope,
  type EnvelopeDecoderOptions,
  messageEnvelope,
  type ResponseCompression,
  utf8Bytes,
} from "./envelope.ts";
import type { CallStatus, Metadata, RequestDecoder, WebResponder } from "./bridge.ts";
import type { HeaderValue, HttpExchange } from "./exchange.ts";

/** The flags byte of gRPC-Web's trailers frame. */
const TRAILERS_FLAG = 0x80;

/** A base64 alphabet character (standard or URL-safe) or padding. */
const BASE64_CHAR = /^[A-Za-z0-9+/=_-]*$/;

/** Decodes base64 that arrives in pieces: any split, and padded segments back to back. */
export class Base64Stream {
  #rest = "";

  /** Decodes what `chunk` completes; throws `invalid_argument` on a character that is not base64. */
  push(chunk: Uint8Array): Uint8Array {
    let text = this.#rest + Buffer.from(chunk).toString("latin1").replace(/\s+/g, "");
    if (!BASE64_CHAR.test(text)) {
      throw new WebError(
        Status.INVALID_ARGUMENT,
        "the request body is not base64 (gRPC-Web text): it has a character outside the alphabet",
      );
    }
    const whole = text.length - (text.length % 4);
    this.#rest = text.slice(whole);
    text = text.slice(0, whole);
    // Padding may end any 4-character group: decode segment by segment.
    const parts: Uint8Array[] = [];
    let start = 0;
    for (let at = 0; at < text.length; at += 4) {
      if (text[at + 3] !== "=") continue;
      if (
        text[at] === "=" || text[at + 1] === "=" || (text[at + 2] === "=" && text[at + 3] !== "=")
      ) {
        throw this.#badPadding();
      }
      parts.push(Buffer.from(text.slice(start, at + 4), "base64"));
      start = at + 4;
    }
    if (start < text.length) {
      if (text.slice(start).includes("=")) throw this.#badPadding();
      parts.push(Buffer.from(text.slice(start), "base64"));
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** Checks nothing is left over; throws `invalid_argument` when the body's base64 was cut off. */
  end(): void {
    if (this.#rest.length > 0) {
      throw new WebError(
        Status.INVALID_ARGUMENT,
        `the request body's base64 (gRPC-Web text) ends with ${this.#rest.length} characters of an unfinished group`,
      );
    }
  }

  #badPadding(): WebError {
    return new WebError(
      Status.INVALID_ARGUMENT,
      "the request body is not base64 (gRPC-Web text): padding in the middle of a group",
    );
  }
}

/** A gRPC-Web request body → gRPC messages. */
export function createGrpcWebDecoder(
  options: EnvelopeDecoderOptions & { text: boolean },
): RequestDecoder {
  const envelopes = createEnvelopeDecoder({ what: "request message", ...options });
  if (!options.text) return envelopes;
  const base64 = new Base64Stream();
  return {
    push: (chunk, out) => envelopes.push(base64.push(chunk), out),
    end(out) {
      base64.end();
      envelopes.end(out);
    },
  };
}

/** Whether to answer in text: the request's content type or `Accept` asks for it. */
export function wantsText(headers: Readonly<Record<string, string>>): boolean {
  const type = (headers["content-type"] ?? "").toLowerCase();
  return type.startsWith("application/grpc-web-text") ||
    (headers["accept"] ?? "").toLowerCase().includes("application/grpc-web-text");
}

/** Bytes that gRPC percent-encodes in `grpc-message`: `%` and anything outside printable ASCII. */
export function percentEncode(message: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25
      ? "%" + byte.toString(16).toUpperCase().padStart(2, "0")
      : String.fromCharCode(byte);
  }
  return out;
}

/** The trailers frame's payload: `name: value\r\n` lines, names lower case, status first. */
export function trailerBlock(status: CallStatus, trailers: Metadata): Uint8Array {
  if (isPlainOk(status, trailers)) return OK_BLOCK;
  let text = `grpc-status: ${status.code}\r\n`;
  if (status.message !== "") text += `grpc-message: ${percentEncode(status.message)}\r\n`;
  if (status.detailsBin !== undefined) text += `grpc-status-details-bin: ${status.detailsBin}\r\n`;
  for (const name in trailers) {
    for (const value of trailers[name]) text += `${name.toLowerCase()}: ${value}\r\n`;
  }
  return utf8Bytes(text);
}

/** Whether a call ended OK with nothing but its status to send (most do). */
function isPlainOk(status: CallStatus, trailers: Metadata): boolean {
  if (status.code !== Status.OK || status.message !== "" || status.detailsBin !== undefined) {
    return false;
  }
  for (const _ in trailers) return false;
  return true;
}

/** The trailers of a plain OK answer, made once (never written to). */
const OK_BLOCK = utf8Bytes("grpc-status: 0\r\n");

/** Its trailers frame, made once (never written to). */
const OK_FRAME = encodeEnvelope(TRAILERS_FLAG, OK_BLOCK);

/** Options for {@linkcode createGrpcWebResponder}. */
export interface GrpcWebResponderOptions {
  /** Where the answer goes. */
  exchange: HttpExchange;
  /** Answer in text (base64). */
  text: boolean;
  /** The codec: response messages are turned into JSON for `json`. */
  codec: "proto" | "json";
  /** Binary → JSON for the `json` codec. */
  toJson?: (binary: Uint8Array) => Uint8Array;
  /** Headers for every answer (CORS). */
  extraHeaders?: Readonly<Record<string, HeaderValue>>;
  /** Compresses messages (`grpc-encoding`), when the client accepts it. */
  compression?: ResponseCompression;
}

/** Writes a gRPC-Web answer from what grpc-js answers. */
export function createGrpcWebResponder(options: GrpcWebResponderOptions): WebResponder {
  const { exchange, text } = options;
  const contentType = text
    ? "application/grpc-web-text+proto"
    : `application/grpc-web+${options.codec}`;
  let responded = false;
  const respond = (metadata: Metadata) => {
    if (responded) return;
    responded = true;
    const headers: Record<string, HeaderValue> = {
      ...options.extraHeaders,
      ...metadata,
      "content-type": contentType,
    };
    if (options.compression !== undefined) headers["grpc-encoding"] = options.compression.name;
    exchange.respond(200, headers);
  };
  const asText = (bytes: Uint8Array) =>
    text ? new TextEncoder().encode(Buffer.from(bytes).toString("base64")) : bytes;
  return {
    headers: respond,
    message(bytes, done, framed) {
      respond({});
      const json = options.toJson;
      const payload = json === undefined ? bytes : json(bytes);
      const envelope = messageEnvelope(payload, options.compression, json ? undefined : framed);
      exchange.write(asText(envelope), done);
    },
    end(status, trailers) {
      respond({});
      const frame = isPlainOk(status, trailers)
        ? OK_FRAME
        : encodeEnvelope(TRAILERS_FLAG, trailerBlock(status, trailers));
      exchange.end(asText(frame));
    },
  };
}
