/**
 * HTTP/1.x responses as bytes, without I/O (RFC 9112 §4, §6, §7): the
 * status line and headers, and a body framed by Content-Length, by chunks
 * (1.1), or by closing the connection (1.0, which has no chunking). A header
 * that cannot be written as given is a programming error and throws: nothing
 * is escaped or dropped silently.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** A response header value: one string, or several for a repeated field. */
export type ResponseHeaderValue = string | readonly string[];

/** What a response is answering, as far as its framing depends on it. */
export interface ResponseContext {
  /** The request's version. */
  version: "1.0" | "1.1";
  /** The request's method (`HEAD` answers carry headers only). */
  method: string;
  /** Whether the connection may carry another request after this one, as far as the request allows. */
  keepAlive: boolean;
  /** A `date` value to send unless the headers have one (RFC 9110 §6.6.1). */
  date?: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values are VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5): every other control is refused.
// deno-lint-ignore no-control-regex
const VALUE_BAD = /[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]/;

const REASONS: Readonly<Record<number, string>> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The framing chosen for a response body. */
export type BodyFraming = "none" | "length" | "chunked" | "close";

/** A serialised response head and how its body must be framed. */
export interface ResponseHead {
  /** The status line and header section, ending in the empty line. */
  readonly bytes: Uint8Array;
  /** How the body is framed. */
  readonly framing: BodyFraming;
  /** The Content-Length sent, when framing is `length`. */
  readonly length: number;
  /** Whether the connection stays open after this response. */
  readonly keepAlive: boolean;
}

/** Whether a status has no body whatever the method (RFC 9110 §6.4.1). */
function bodiless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/** Checks one header; throws a TypeError naming it when it cannot be written. */
function checkField(name: string, value: string): void {
  if (!TOKEN.test(name)) {
    throw new TypeError(`invalid response header name: ${JSON.stringify(name)}`);
  }
  if (VALUE_BAD.test(value)) {
    throw new TypeError(`response header ${name} has a control or non-Latin-1 character`);
  }
}

/**
 * Serialises a response head for `context`: chooses the body framing,
 * and adds `Transfer-Encoding: chunked` or the `Connection` field it needs.
 * Throws a TypeError on a header that cannot be written, a RangeError on a
 * status that is not three digits.
 */
export function serializeHead(
  status: number,
  headers: Readonly<Record<string, ResponseHeaderValue>>,
  context: ResponseContext,
): ResponseHead {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`invalid response status: ${status}`);
  }
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  let length = -1;
  let keepAlive = context.keepAlive;
  let date = context.date;
  for (const key in headers) {
    const name = key.toLowerCase();
    const value = headers[key];
    const values: readonly string[] = typeof value === "string" ? [value] : value;
    if (name === "transfer-encoding") {
      throw new TypeError("transfer-encoding is the transport's to set, not the handler's");
    }
    if (name === "content-length") length = contentLength(values);
    if (name === "date") date = undefined;
    if (name === "connection" && values.some((v) => /(^|,)\s*close\s*(,|$)/i.test(v))) {
      keepAlive = false;
      continue;
    }
    for (const v of values) {
      checkField(name, v);
      head += `${name}: ${v}\r\n`;
    }
  }
  const framing: BodyFraming = context.method === "HEAD" || bodiless(status)
    ? "none"
    : length >= 0
    ? "length"
    : context.version === "1.1"
    ? "chunked"
    : "close";
  if (date !== undefined) head += `date: ${date}\r\n`;
  if (framing === "chunked") head += "transfer-encoding: chunked\r\n";
  if (framing === "close") keepAlive = false;
  if (status >= 200) {
    if (!keepAlive) head += "connection: close\r\n";
    else if (context.version === "1.0") head += "connection: keep-alive\r\n";
  }
  head += "\r\n";
  return { bytes: latin1Bytes(head), framing, length: Math.max(length, 0), keepAlive };
}

/**
 * A string of characters up to U+00FF (checked above) as one byte each, by
 * hand: `Buffer.from(text, "latin1")` costs several times more in Deno.
 */
function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function contentLength(values: readonly string[]): number {
  if (values.length !== 1 || !/^\d{1,15}$/.test(values[0])) {
    throw new TypeError(`invalid response content-length: ${JSON.stringify(values)}`);
  }
  return Number(values[0]);
}

/** An interim `100 Continue` (RFC 9110 §15.2.1). */
export const CONTINUE: Uint8Array = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");

/** The last chunk of a chunked body, with no trailers. */
export const LAST_CHUNK: Uint8Array = Buffer.from("0\r\n\r\n", "latin1");

/** One chunk of a chunked body: its size line, the bytes, CRLF (RFC 9112 §7.1). */
export function chunkFrame(chunk: Uint8Array): Uint8Array[] {
  return [Buffer.from(`${chunk.length.toString(16)}\r\n`, "latin1"), chunk, CRLF];
}

const CRLF = Buffer.from("\r\n", "latin1");

/** A whole response with a short text/plain body and `Connection: close`, for errors the transport answers itself. */
export function plainErrorResponse(status: number, message: string, date?: string): Uint8Array {
  const body = Buffer.from(message.replace(/[\r\n]+/g, " ") + "\n", "utf8");
  const { bytes } = serializeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.length),
  }, { version: "1.1", method: "GET", keepAlive: false, date });
  return Buffer.concat([bytes, body]);
}
