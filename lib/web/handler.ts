/**
 * The web handler: routes every HTTP request that is not plain gRPC. CORS
 * preflights, `GET /healthz`, RPC paths (`/package.Service/Method`) in
 * gRPC-Web, Connect or gRPC+JSON, bridged to grpc-js (an unknown method
 * gets grpc-js's `unimplemented` in the caller's protocol), the page's
 * static files, and 404 for anything else.
 *
 * @module
 */

import {
  type DispatchStream,
  type RequestDecoder,
  requestMetadata,
  startBridge,
  type WebResponder,
} from "./bridge.ts";
import { Status, WebError } from "./codes.ts";
import {
  connectGetMessage,
  createConnectStreamResponder,
  createConnectUnaryDecoder,
  createConnectUnaryResponder,
  grpcTimeoutFromConnect,
} from "./connect.ts";
import {
  compress,
  decompress,
  MessageTooLargeError,
  parseEncoding,
  pickEncoding,
} from "./compression.ts";
import { createCorsPolicy } from "./cors.ts";
import { createEnvelopeDecoder, type ResponseCompression } from "./envelope.ts";
import type { HeaderValue, HttpExchange } from "./exchange.ts";
import { createGrpcJsonResponder } from "./grpc_json.ts";
import { createGrpcWebDecoder, createGrpcWebResponder, wantsText } from "./grpc_web.ts";
import { answerHealthz } from "./healthz.ts";
import { JsonInputError, type MethodInfo, type MethodTable } from "./methods.ts";
import { isRefusal, mediaType, negotiate, type Negotiated } from "./negotiate.ts";
import { createStaticFiles } from "./static_files.ts";

/** Options for {@linkcode createWebHandler}. */
export interface WebHandlerOptions {
  /** Hands a bridged call to grpc-js (`GrpcServer.dispatchStream`). */
  dispatch: DispatchStream;
  /** The methods served, for JSON conversion and Connect GET. */
  methods: MethodTable;
  /**
   * Largest request message, after decompression.
   * @default {4194304}
   */
  maxMessageBytes?: number;
  /**
   * Origins allowed to call from a page elsewhere; `*` for any.
   * @default {[] (same origin only)}
   */
  corsOrigins?: readonly string[] | "*";
  /** The page's folder; without it, no static files are served. */
  staticRoot?: URL;
  /**
   * Whether the server is serving, for `GET /healthz`.
   * @default {() => true}
   */
  serving?: () => boolean;
  /**
   * Serve RPC paths; false leaves only `/healthz` (and static files, if any).
   * @default {true}
   */
  rpc?: boolean;
  /**
   * Answers (or messages) smaller than this are not compressed.
   * @default {1024}
   */
  compressMinBytes?: number;
  /**
   * `Cache-Control` of a successful Connect GET answer.
   * @default {"public, max-age=3600"}
   */
  getCacheControl?: string;
}

/** A handler of HTTP exchanges. */
export type WebHandler = (exchange: HttpExchange) => void;

/** An empty query, shared (never written to). */
const NO_QUERY: URLSearchParams = new URLSearchParams();

/** An RPC path: `/package.Service/Method`. */
const RPC_PATH = /^\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/;

/** Answers with a status and a line of plain text. */
export function answerPlain(
  exchange: HttpExchange,
  status: number,
  message: string,
  headers: Readonly<Record<string, HeaderValue>> = {},
): void {
  const body = new TextEncoder().encode(message + "\n");
  exchange.respond(status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.length),
  });
  exchange.end(body);
}

/** Makes the web handler. */
export function createWebHandler(options: WebHandlerOptions): WebHandler {
  const cors = createCorsPolicy(options.corsOrigins ?? []);
  const files = options.staticRoot === undefined
    ? undefined
    : createStaticFiles({ root: options.staticRoot });
  const serving = options.serving ?? (() => true);
  return (exchange) => {
    try {
      route(exchange);
    } catch (error) {
      // Nothing a client sends may take the server down.
      if (!exchange.signal.aborted) {
        answerPlain(exchange, 500, `internal error: ${(error as Error)?.message}`);
      }
    }
  };

  function route(exchange: HttpExchange): void {
    const question = exchange.path.indexOf("?");
    const pathname = question < 0 ? exchange.path : exchange.path.slice(0, question);
    // Only a GET reads its query (Connect GET): POSTs, the bulk of calls, skip the parse.
    const query = question < 0 || exchange.method === "POST"
      ? NO_QUERY
      : new URLSearchParams(exchange.path.slice(question + 1));
    if (exchange.method === "OPTIONS") {
      if (cors.preflight(exchange)) return;
      exchange.respond(204, { allow: "GET, HEAD, POST, OPTIONS" });
      exchange.end();
      return;
    }
    const extra = cors.responseHeaders(exchange.headers.origin);
    if (pathname === "/healthz" && (exchange.method === "GET" || exchange.method === "HEAD")) {
      answerHealthz(exchange, serving());
      return;
    }
    if (options.rpc !== false && RPC_PATH.test(pathname) && isRpcRequest(exchange, query)) {
      serveRpc(exchange, { pathname, query, extra }, options);
      return;
    }
    if (files === undefined || (exchange.method !== "GET" && exchange.method !== "HEAD")) {
      answerPlain(exchange, 404, `no such path: ${pathname}`, extra);
      return;
    }
    files(exchange).then((served) => {
      if (!served) answerPlain(exchange, 404, `no such path: ${pathname}`, extra);
    }).catch((error) => answerPlain(exchange, 500, `cannot read the file: ${error?.message}`));
  }
}

/** Whether a request is plain gRPC (`application/grpc`, `+proto`), which only HTTP/2 carries. */
function isGrpc(exchange: HttpExchange): boolean {
  const type = mediaType(exchange.headers["content-type"]);
  return type === "application/grpc" || type === "application/grpc+proto";
}

/** Whether a request on an RPC-shaped path is a call (not a page file that happens to look like one). */
function isRpcRequest(exchange: HttpExchange, query: URLSearchParams): boolean {
  if (exchange.method === "GET" || exchange.method === "HEAD") {
    return query.has("encoding") || query.has("message") || query.has("connect");
  }
  return true;
}

/** Where an RPC request is going. */
interface RpcTarget {
  pathname: string;
  query: URLSearchParams;
  extra: Readonly<Record<string, HeaderValue>>;
}

/** Serves one call in a web protocol by bridging it to grpc-js. */
function serveRpc(exchange: HttpExchange, target: RpcTarget, options: WebHandlerOptions): void {
  const method = options.methods.lookup(target.pathname);
  const negotiated = negotiate({
    method: exchange.method,
    contentType: exchange.headers["content-type"],
    noSideEffects: method?.noSideEffects,
    getEncoding: target.query.get("encoding"),
  });
  if (isRefusal(negotiated) && exchange.trailersSupported !== true && isGrpc(exchange)) {
    answerPlain(
      exchange,
      505,
      "gRPC needs HTTP/2 (it ends with trailers); over HTTP/1.1 use gRPC-Web or Connect",
      target.extra,
    );
    return;
  }
  if (isRefusal(negotiated)) {
    answerPlain(exchange, negotiated.status, negotiated.message, {
      ...target.extra,
      ...negotiated.headers,
    });
    return;
  }
  if (negotiated.protocol === "grpc" && exchange.trailersSupported !== true) {
    answerPlain(exchange, 505, "application/grpc+json needs HTTP/2 (it ends with trailers)");
    return;
  }
  const responder = responderFor(exchange, negotiated, { method, target, options });
  try {
    startBridge({
      exchange,
      dispatch: options.dispatch,
      path: target.pathname,
      metadata: requestMetadata(exchange.headers, protocolLabel(exchange, negotiated)),
      grpcTimeout: negotiated.protocol === "connect"
        ? grpcTimeoutFromConnect(exchange.headers["connect-timeout-ms"])
        : exchange.headers["grpc-timeout"],
      decoder: method === undefined || negotiated.get
        ? undefined
        : decoderFor(exchange, negotiated, { method, options }),
      initial: negotiated.get && method !== undefined
        ? [getMessage(target.query, negotiated, method, options)]
        : undefined,
      responder,
    });
  } catch (error) {
    if (!(error instanceof WebError)) throw error;
    responder.end({ code: error.code, message: error.message }, {});
  }
}

/** How the call log names a web call's protocol: `connect+json HTTP/1.1`. */
function protocolLabel(exchange: HttpExchange, negotiated: Negotiated): string {
  const kind = negotiated.protocol === "connect"
    ? negotiated.get ? "connect-get" : negotiated.streaming ? "connect-stream" : "connect"
    : negotiated.text
    ? "grpc-web-text"
    : negotiated.protocol;
  return `${kind}+${negotiated.codec} HTTP/${exchange.httpVersion}`;
}

/** JSON → binary for a method, bad input as `invalid_argument`. */
function fromJson(method: MethodInfo): (json: Uint8Array) => Uint8Array {
  return (json) => {
    try {
      return method.requestFromJson(json);
    } catch (error) {
      if (error instanceof JsonInputError) {
        throw new WebError(Status.INVALID_ARGUMENT, error.message);
      }
      throw error;
    }
  };
}

/** The decompression a request asks for, as a function; throws `unimplemented` for an unknown encoding. */
function decompressor(
  name: string | undefined,
  maxBytes: number,
): ((data: Uint8Array) => Uint8Array) | undefined {
  const encoding = parseEncoding(name);
  if (encoding === undefined) {
    throw new WebError(
      Status.UNIMPLEMENTED,
      `unsupported message encoding ${JSON.stringify(name)}: this server takes gzip and identity`,
    );
  }
  if (encoding === "identity") return undefined;
  return (data) => {
    try {
      return decompress(encoding, data, maxBytes);
    } catch (error) {
      if (error instanceof MessageTooLargeError) {
        throw new WebError(Status.RESOURCE_EXHAUSTED, error.message);
      }
      throw new WebError(
        Status.INVALID_ARGUMENT,
        `cannot decompress the ${encoding} request message: ${(error as Error).message}`,
      );
    }
  };
}

/** The request decoder for a negotiated protocol. */
function decoderFor(
  exchange: HttpExchange,
  negotiated: Negotiated,
  parts: { method: MethodInfo; options: WebHandlerOptions },
): RequestDecoder {
  const maxBytes = parts.options.maxMessageBytes ?? 4 * 1024 * 1024;
  const convert = negotiated.codec === "json" ? fromJson(parts.method) : undefined;
  const headers = exchange.headers;
  if (negotiated.protocol === "connect" && !negotiated.streaming) {
    const decompress = decompressor(headers["content-encoding"], maxBytes);
    return createConnectUnaryDecoder({ maxBytes, decompress, convert });
  }
  const encodingHeader = negotiated.protocol === "connect"
    ? headers["connect-content-encoding"]
    : headers["grpc-encoding"];
  const decompress = decompressor(encodingHeader, maxBytes);
  if (negotiated.protocol === "grpc-web") {
    return createGrpcWebDecoder({ text: negotiated.text, maxBytes, decompress, convert });
  }
  return createEnvelopeDecoder({ what: "request message", maxBytes, decompress, convert });
}

/** A Connect GET's request message, as binary proto. */
function getMessage(
  query: URLSearchParams,
  negotiated: Negotiated,
  method: MethodInfo,
  options: WebHandlerOptions,
): Uint8Array {
  const maxBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  let message = connectGetMessage(query);
  const decompress = decompressor(query.get("compression") ?? undefined, maxBytes);
  if (decompress !== undefined) message = decompress(message);
  return negotiated.codec === "json" ? fromJson(method)(message) : message;
}

/** How to compress answers, from the header where the protocol lists what the client accepts. */
function compressionFor(
  exchange: HttpExchange,
  negotiated: Negotiated,
  options: WebHandlerOptions,
): ResponseCompression | undefined {
  const header = negotiated.protocol !== "connect"
    ? "grpc-accept-encoding"
    : negotiated.streaming
    ? "connect-accept-encoding"
    : "accept-encoding";
  const encoding = pickEncoding(exchange.headers[header]);
  if (encoding === "identity") return undefined;
  return {
    name: encoding,
    compress: (data) => compress(encoding, data),
    minBytes: options.compressMinBytes ?? 1024,
  };
}

/** The responder for a negotiated protocol. */
function responderFor(
  exchange: HttpExchange,
  negotiated: Negotiated,
  parts: { method?: MethodInfo; target: RpcTarget; options: WebHandlerOptions },
): WebResponder {
  const extraHeaders = parts.target.extra;
  const compression = compressionFor(exchange, negotiated, parts.options);
  const toJson = negotiated.codec === "json" && parts.method !== undefined
    ? parts.method.responseToJson
    : undefined;
  switch (negotiated.protocol) {
    case "grpc-web":
      return createGrpcWebResponder({
        exchange,
        text: wantsText(exchange.headers),
        codec: negotiated.codec,
        toJson,
        extraHeaders,
        compression,
      });
    case "grpc":
      return createGrpcJsonResponder({
        exchange,
        toJson: toJson ?? ((b) => b),
        extraHeaders,
        compression,
      });
    case "connect":
      if (negotiated.streaming) {
        return createConnectStreamResponder({
          exchange,
          codec: negotiated.codec,
          toJson,
          extraHeaders,
          compression,
        });
      }
      return createConnectUnaryResponder({
        exchange,
        codec: negotiated.codec,
        toJson,
        extraHeaders,
        compression,
        successHeaders: negotiated.get
          ? { "cache-control": parts.options.getCacheControl ?? "public, max-age=3600" }
          : undefined,
      });
  }
}
