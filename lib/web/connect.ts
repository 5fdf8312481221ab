/**
 * The Connect protocol (connectrpc.com/docs/protocol): unary POST and GET
 * with one bare message each way, errors as `{code, message, details}`
 * with the spec's HTTP status per code and trailers as `trailer-` headers,
 * and streams of envelopes ending in the end-of-stream message (flag
 * `0x02`) that carries the error and the trailers. `connect-timeout-ms`
 * becomes the call's deadline.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { connectCodeName, connectHttpStatus, Status, WebError } from "./codes.ts";
import { encodeEnvelope, messageEnvelope, type ResponseCompression } from "./envelope.ts";
import type { CallStatus, Metadata, RequestDecoder, WebResponder } from "./bridge.ts";
import type { HeaderValue, HttpExchange } from "./exchange.ts";
import { connectDetailsFromStatusBin } from "./status_details.ts";

/** The flags byte of Connect's end-of-stream message. */
const END_STREAM_FLAG = 0x02;

/** `connect-timeout-ms` as a `grpc-timeout` value, `undefined` when absent; throws `invalid_argument` when malformed. */
export function grpcTimeoutFromConnect(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(value)) {
    throw new WebError(
      Status.INVALID_ARGUMENT,
      `connect-timeout-ms must be a whole number of milliseconds, at most 10 digits (got ${
        JSON.stringify(value)
      })`,
    );
  }
  const ms = Number(value);
  // grpc-timeout takes at most 8 digits.
  return ms <= 99_999_999 ? `${ms}m` : `${Math.ceil(ms / 1000)}S`;
}

/** Options for the Connect request decoders. */
export interface ConnectDecoderOptions {
  /** Largest message, after decompression. */
  maxBytes: number;
  /** Decompresses the body (the request's `content-encoding`), when it has one. */
  decompress?: (data: Uint8Array) => Uint8Array;
  /** JSON → binary proto for the JSON codec. */
  convert?: (data: Uint8Array) => Uint8Array;
}

/** A unary request body (one bare message) → its gRPC message. */
export function createConnectUnaryDecoder(options: ConnectDecoderOptions): RequestDecoder {
  const pieces: Uint8Array[] = [];
  let total = 0;
  // A compressed body is limited after decompression, but not without bound before it.
  const limit = options.decompress === undefined ? options.maxBytes : options.maxBytes * 4 + 1024;
  return {
    push(chunk) {
      total += chunk.length;
      if (total > limit) {
        throw new WebError(
          Status.RESOURCE_EXHAUSTED,
          `the request message is more than ${options.maxBytes} bytes, the limit`,
        );
      }
      pieces.push(chunk);
    },
    end(out) {
      let body: Uint8Array = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
      if (options.decompress !== undefined) body = options.decompress(body);
      out(options.convert === undefined ? body : options.convert(body));
    },
  };
}

/** A Connect GET's message from its query (`message`, `base64`, `encoding`); throws `invalid_argument`. */
export function connectGetMessage(query: URLSearchParams): Uint8Array {
  const message = query.get("message");
  if (message === null) {
    throw new WebError(Status.INVALID_ARGUMENT, "a Connect GET needs the query parameter message");
  }
  if (query.get("base64") !== "1") return new TextEncoder().encode(message);
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(message)) {
    throw new WebError(
      Status.INVALID_ARGUMENT,
      "the query parameter message is not base64 (base64=1 was given)",
    );
  }
  return Buffer.from(message, "base64");
}

/** A Connect error's JSON body. */
export function errorJson(status: CallStatus): Uint8Array {
  const error: Record<string, unknown> = { code: connectCodeName(status.code) };
  if (status.message !== "") error.message = status.message;
  if (status.detailsBin !== undefined) {
    const details = connectDetailsFromStatusBin(status.detailsBin);
    if (details.length > 0) error.details = details;
  }
  return new TextEncoder().encode(JSON.stringify(error));
}

/** Trailers as `trailer-` headers. */
function trailerHeaders(trailers: Metadata): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name in trailers) out[`trailer-${name}`] = trailers[name];
  return out;
}

/** Options for the Connect responders. */
export interface ConnectResponderOptions {
  /** Where the answer goes. */
  exchange: HttpExchange;
  /** The codec. */
  codec: "proto" | "json";
  /** Binary → JSON for the JSON codec. */
  toJson?: (binary: Uint8Array) => Uint8Array;
  /** Headers for every answer (CORS). */
  extraHeaders?: Readonly<Record<string, HeaderValue>>;
  /** Headers for a successful answer only (a GET's `Cache-Control`). */
  successHeaders?: Readonly<Record<string, HeaderValue>>;
  /**
   * Compresses the answer, when the client accepts it: a unary body
   * (`content-encoding`) or a stream's messages (`connect-content-encoding`).
   */
  compression?: ResponseCompression;
}

/** Writes a Connect unary answer: the one message, or the error, once the call ends. */
export function createConnectUnaryResponder(options: ConnectResponderOptions): WebResponder {
  const { exchange } = options;
  let headers: Metadata = {};
  let body: Uint8Array | undefined;
  return {
    headers(metadata) {
      headers = metadata;
    },
    message(bytes, done) {
      body ??= options.toJson === undefined ? bytes : options.toJson(bytes);
      queueMicrotask(done);
    },
    end(status, trailers) {
      const common = { ...options.extraHeaders, ...headers, ...trailerHeaders(trailers) };
      if (status.code === Status.OK && body === undefined) {
        status = { code: Status.UNIMPLEMENTED, message: "the method sent no response message" };
      }
      if (status.code !== Status.OK) {
        const json = errorJson(status);
        exchange.respond(connectHttpStatus(status.code), {
          ...common,
          "content-type": "application/json",
          "content-length": String(json.length),
        });
        exchange.end(json);
        return;
      }
      const answer: Record<string, HeaderValue> = {
        ...common,
        ...options.successHeaders,
        "content-type": `application/${options.codec}`,
      };
      let bytes = body!;
      const compression = options.compression;
      if (compression !== undefined && bytes.length >= compression.minBytes) {
        bytes = compression.compress(bytes);
        answer["content-encoding"] = compression.name;
      }
      answer["content-length"] = String(bytes.length);
      exchange.respond(200, answer);
      exchange.end(bytes);
    },
  };
}

/** The end-of-stream message's JSON: the error, if any, and the trailers. */
export function endStreamJson(status: CallStatus, trailers: Metadata): Uint8Array {
  if (status.code === Status.OK && isEmpty(trailers)) return EMPTY_END;
  const out: Record<string, unknown> = {};
  if (status.code !== Status.OK) {
    out.error = JSON.parse(new TextDecoder().decode(errorJson(status)));
  }
  if (Object.keys(trailers).length > 0) out.metadata = trailers;
  return new TextEncoder().encode(JSON.stringify(out));
}

/** Whether metadata has no entries. */
function isEmpty(metadata: Metadata): boolean {
  for (const _ in metadata) return false;
  return true;
}

/** The end-of-stream message of a call that ended OK without trailers (never written to). */
const EMPTY_END = new TextEncoder().encode("{}");

/** Writes a Connect streaming answer: envelopes, then the end-of-stream message. */
export function createConnectStreamResponder(options: ConnectResponderOptions): WebResponder {
  const { exchange } = options;
  let responded = false;
  const respond = (metadata: Metadata) => {
    if (responded) return;
    responded = true;
    const headers: Record<string, HeaderValue> = {
      ...options.extraHeaders,
      ...metadata,
      "content-type": `application/connect+${options.codec}`,
    };
    if (options.compression !== undefined) {
      headers["connect-content-encoding"] = options.compression.name;
    }
    exchange.respond(200, headers);
  };
  return {
    headers: respond,
    message(bytes, done, framed) {
      respond({});
      const json = options.toJson;
      const payload = json === undefined ? bytes : json(bytes);
      const envelope = messageEnvelope(payload, options.compression, json ? undefined : framed);
      exchange.write(envelope, done);
    },
    end(status, trailers) {
      respond({});
      exchange.end(encodeEnvelope(END_STREAM_FLAG, endStreamJson(status, trailers)));
    },
  };
}
