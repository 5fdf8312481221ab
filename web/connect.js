/**
 * A small client for the Connect protocol with the JSON codec
 * (connectrpc.com/docs/protocol), written for this page so that it needs no
 * bundler and no library: unary calls are one `application/json` POST;
 * streaming calls are `application/connect+json` with 5-byte envelopes and an
 * end-of-stream message.
 *
 * Browsers cannot stream a request body over HTTP/1.1 (and fetch needs
 * `duplex: "half"` and HTTP/2 for it at all), so every streaming call here
 * sends its whole request stream as one body, then reads the answers as they
 * arrive.
 *
 * @module
 */

/** Envelope flag: the message is compressed (never sent by this client). */
const FLAG_COMPRESSED = 0x01;
/** Envelope flag: the end-of-stream message, JSON `{error?, metadata?}`. */
const FLAG_END_STREAM = 0x02;

/** Connect error codes by HTTP status, for answers that carry no Connect error body. */
const CODE_BY_STATUS = {
  400: "internal",
  401: "unauthenticated",
  403: "permission_denied",
  404: "unimplemented",
  408: "deadline_exceeded",
  429: "unavailable",
  502: "unavailable",
  503: "unavailable",
  504: "unavailable",
};

/** An RPC that ended with a Connect error code, or never reached the server (`code` "unavailable", `network` true). */
export class ConnectError extends Error {
  /**
   * @param {string} code a Connect code: "invalid_argument", "unimplemented", …
   * @param {string} message the server's message
   * @param {{network?: boolean, status?: number}} [options]
   */
  constructor(code, message, options = {}) {
    super(message);
    this.name = "ConnectError";
    this.code = code;
    this.network = options.network === true;
    /** The HTTP status, when the answer had no Connect error in it. */
    this.status = options.status;
  }
}

/**
 * Frames one message: a flags byte, its length as 4 bytes big-endian, then
 * the UTF-8 JSON.
 * @param {unknown} message
 * @returns {Uint8Array}
 */
export function envelope(message) {
  const payload = new TextEncoder().encode(JSON.stringify(message));
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/**
 * Reads envelopes out of a byte stream as they complete, whatever the chunk
 * boundaries: one batch per chunk read, so that a million small messages
 * cost a few thousand awaits rather than a million.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<{flags: number, data: Uint8Array}[]>}
 */
export async function* readEnvelopes(body) {
  const reader = body.getReader();
  let buffer = new Uint8Array(0);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer = concat(buffer, value);
      const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      const batch = [];
      let offset = 0;
      while (buffer.length - offset >= 5) {
        const length = view.getUint32(offset + 1);
        if (buffer.length - offset - 5 < length) break;
        batch.push({
          flags: buffer[offset],
          data: buffer.subarray(offset + 5, offset + 5 + length),
        });
        offset += 5 + length;
      }
      buffer = buffer.subarray(offset);
      if (batch.length > 0) yield batch;
    }
  } finally {
    reader.releaseLock();
  }
  if (buffer.length > 0) {
    throw new ConnectError(
      "internal",
      `the answer ended inside a message (${buffer.length} bytes)`,
    );
  }
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function concat(a, b) {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * A client for one service at `baseUrl` (e.g. `location.origin`).
 * @param {{baseUrl: string, service: string, timeoutMs?: number}} options
 *   `timeoutMs` (default 10000) is sent as `connect-timeout-ms` on unary calls.
 */
export function createConnectClient(options) {
  const base = `${options.baseUrl.replace(/\/$/, "")}/${options.service}/`;
  const timeoutMs = options.timeoutMs ?? 10_000;

  /** fetch, with a failure to connect turned into a ConnectError. */
  async function post(method, contentType, body, signal, extraHeaders = {}) {
    try {
      return await fetch(base + method, {
        method: "POST",
        headers: { "content-type": contentType, "connect-protocol-version": "1", ...extraHeaders },
        body,
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ConnectError("unavailable", `Cannot reach the server at ${options.baseUrl}.`, {
        network: true,
      });
    }
  }

  return {
    /**
     * One request, one answer.
     * @param {string} method
     * @param {unknown} request
     * @param {{signal?: AbortSignal}} [callOptions]
     */
    async unary(method, request, callOptions = {}) {
      const response = await post(
        method,
        "application/json",
        JSON.stringify(request),
        callOptions.signal,
        { "connect-timeout-ms": String(timeoutMs) },
      );
      const text = await response.text();
      if (response.status === 200) return JSON.parse(text);
      throw errorFromBody(response.status, text);
    },

    /**
     * Sends every request message in one body and yields each answer as it
     * arrives; throws the end-of-stream error, if any, at the end.
     * @param {string} method
     * @param {unknown[]} requests
     * @param {{signal?: AbortSignal}} [callOptions]
     */
    async *stream(method, requests, callOptions = {}) {
      const body = new Blob(requests.map(envelope));
      const response = await post(method, "application/connect+json", body, callOptions.signal);
      if (response.status !== 200 || response.body === null) {
        throw errorFromBody(response.status, await response.text());
      }
      const decoder = new TextDecoder();
      let ended = false;
      for await (const batch of readEnvelopes(response.body)) {
        for (const { flags, data } of batch) {
          if (ended) {
            throw new ConnectError("internal", "a message arrived after the end of the stream");
          }
          const json = decoder.decode(data);
          if (flags & FLAG_COMPRESSED) {
            throw new ConnectError(
              "internal",
              "the server compressed a message it was not asked to",
            );
          }
          if (flags & FLAG_END_STREAM) {
            ended = true;
            const end = json === "" ? {} : JSON.parse(json);
            if (end.error) throw toError(end.error);
            continue;
          }
          yield JSON.parse(json);
        }
      }
      if (!ended) {
        throw new ConnectError("internal", "the answer ended without an end-of-stream message");
      }
    },
  };
}

/** A ConnectError from a Connect error object `{code, message}`. */
function toError(error) {
  return new ConnectError(String(error.code ?? "unknown"), String(error.message ?? ""));
}

/** A ConnectError from a non-200 answer: its JSON error body, else its HTTP status. */
function errorFromBody(status, text) {
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed.code === "string") return toError(parsed);
  } catch { /* not a Connect error body */ }
  const code = CODE_BY_STATUS[status] ?? "unknown";
  return new ConnectError(code, `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`, {
    status,
  });
}
