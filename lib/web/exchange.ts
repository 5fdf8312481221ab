/**
 * One HTTP request and its response, whichever HTTP version carries it: the
 * seam between the transports (`lib/http1/`, and `lib/http2/` through
 * `from_http2.ts`) and the web protocols above them. A transport's exchange
 * satisfies this interface by its shape; it imports nothing from here.
 *
 * @module
 */

/** A response header value: one string, or several for a repeated field. */
export type HeaderValue = string | readonly string[];

/** One HTTP request and its response. */
export interface HttpExchange {
  /** The method as sent, upper case: `GET`, `POST`, `OPTIONS`, … */
  readonly method: string;
  /**
   * The request target's path and query (`/routeguide.RouteGuide/GetFeature?encoding=json`);
   * an absolute-form target is reduced to its path and query.
   */
  readonly path: string;
  /**
   * Request headers, names lower case; a repeated field's values joined by
   * `", "`. HTTP/2 pseudo-headers are left out, `:authority` reads as `host`.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The HTTP version the request came in. */
  readonly httpVersion: "1.0" | "1.1" | "2";
  /** Whether the connection is TLS. */
  readonly encrypted: boolean;
  /** The peer's address, when known. */
  readonly remoteAddress?: string;
  /** The peer's port, when known. */
  readonly remotePort?: number;
  /**
   * Aborted when the exchange ends before its response has: the client went
   * away or reset the stream, or the server dropped the connection.
   */
  readonly signal: AbortSignal;
  /**
   * Starts delivering the request body: `onData` for each piece as it
   * arrives (the receiver may keep it), then `onEnd` once. Called at most
   * once. Neither is called after `signal` aborts. An HTTP/1.1 request with
   * `Expect: 100-continue` gets its `100 Continue` here.
   */
  readBody(onData: (chunk: Uint8Array) => void, onEnd: () => void): void;
  /** Stops `onData` calls until {@linkcode resumeBody}; the transport then stops reading from the client. */
  pauseBody(): void;
  /** Resumes `onData` calls. */
  resumeBody(): void;
  /**
   * Sends the status and headers (names lower case). With `content-length`
   * exactly that many bytes follow; without it, HTTP/1.1 chunks the body and
   * HTTP/1.0 ends it by closing the connection. A `HEAD` request's answer
   * has its headers only, whatever is written.
   */
  respond(status: number, headers: Readonly<Record<string, HeaderValue>>): void;
  /**
   * Queues response bytes; `done` runs once they are handed to the socket.
   * Returns `false` when the caller should wait for `done` before writing more.
   */
  write(chunk: Uint8Array, done?: () => void): boolean;
  /**
   * Ends the response, after `chunk` when given, with `trailers` (names
   * lower case) when the transport can send them (see
   * {@linkcode trailersSupported}); otherwise trailers are dropped.
   */
  end(chunk?: Uint8Array, trailers?: Readonly<Record<string, HeaderValue>>): void;
  /**
   * Whether {@linkcode end} can send response trailers: true on HTTP/2
   * (which `application/grpc+json`, gRPC with real trailers, needs); absent
   * or false on HTTP/1.x.
   */
  readonly trailersSupported?: boolean;
  /**
   * Calls `expire` once, `ms` from now, unless the exchange has ended by
   * then: a call's deadline, on a timer the transport shares among its
   * exchanges (none set per call). Without it, the bridge leaves the
   * deadline to grpc-js, which sets a timer per call.
   */
  expireAfter?(ms: number, expire: () => void): void;
  /**
   * Ends the exchange at once, its response unfinished: an HTTP/2 stream is
   * reset, an HTTP/1.x connection closed. `signal` aborts.
   */
  abort(): void;
}
