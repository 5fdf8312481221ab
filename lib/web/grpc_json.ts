/**
 * gRPC with the JSON codec (`application/grpc+json`): gRPC's framing and
 * real HTTP/2 trailers, messages in canonical JSON. grpc-js serves binary
 * proto only, so the bridge converts each message both ways.
 *
 * @module
 */

import { percentEncode } from "./grpc_web.ts";
import type { Metadata, WebResponder } from "./bridge.ts";
import { messageEnvelope, type ResponseCompression } from "./envelope.ts";
import type { HeaderValue, HttpExchange } from "./exchange.ts";

/** Options for {@linkcode createGrpcJsonResponder}. */
export interface GrpcJsonResponderOptions {
  /** Where the answer goes; it must support trailers (HTTP/2). */
  exchange: HttpExchange;
  /** Binary → JSON. */
  toJson: (binary: Uint8Array) => Uint8Array;
  /** Headers for every answer (CORS). */
  extraHeaders?: Readonly<Record<string, HeaderValue>>;
  /** Compresses messages (`grpc-encoding`), when the client accepts it. */
  compression?: ResponseCompression;
}

/** Writes a gRPC answer with JSON messages and HTTP/2 trailers. */
export function createGrpcJsonResponder(options: GrpcJsonResponderOptions): WebResponder {
  const { exchange } = options;
  let responded = false;
  const head: Record<string, HeaderValue> = {
    ...options.extraHeaders,
    "content-type": "application/grpc+json",
  };
  if (options.compression !== undefined) head["grpc-encoding"] = options.compression.name;
  return {
    headers(metadata: Metadata) {
      responded = true;
      exchange.respond(200, { ...head, ...metadata });
    },
    message(bytes, done) {
      exchange.write(messageEnvelope(options.toJson(bytes), options.compression), done);
    },
    end(status, trailers) {
      const statusFields: Record<string, HeaderValue> = { "grpc-status": String(status.code) };
      if (status.message !== "") statusFields["grpc-message"] = percentEncode(status.message);
      if (status.detailsBin !== undefined) {
        statusFields["grpc-status-details-bin"] = status.detailsBin;
      }
      if (!responded) {
        // Trailers-only: the status in the headers, as gRPC allows.
        exchange.respond(200, { ...head, ...trailers, ...statusFields });
        exchange.end();
        return;
      }
      exchange.end(undefined, { ...trailers, ...statusFields });
    },
  };
}
