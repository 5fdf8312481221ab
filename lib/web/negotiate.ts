/**
 * Which protocol and codec a request on an RPC path speaks, from its method
 * and content type, and the HTTP answer when none fits: 415 naming the
 * accepted content types, 405 for GET on a method with side effects and
 * for any other HTTP method (as connect-es's `negotiateProtocol` answers).
 *
 * @module
 */

/** A web protocol. */
export type Protocol = "grpc-web" | "connect" | "grpc";

/** A message codec. */
export type Codec = "proto" | "json";

/** What a request speaks. */
export interface Negotiated {
  /** The protocol. */
  readonly protocol: Protocol;
  /** The codec of its messages. */
  readonly codec: Codec;
  /** gRPC-Web text (base64 bodies). */
  readonly text: boolean;
  /** Connect only: enveloped messages (`application/connect+…`), not one unary message. */
  readonly streaming: boolean;
  /** Connect only: a GET with the message in the query. */
  readonly get: boolean;
}

/** An HTTP answer for a request that fits no protocol. */
export interface Refusal {
  /** The HTTP status. */
  readonly status: number;
  /** Headers to send with it (`Allow`, `Accept-Post`). */
  readonly headers: Readonly<Record<string, string>>;
  /** A sentence saying why. */
  readonly message: string;
}

/** Content type (lower case, no parameters) → what it speaks. */
const CONTENT_TYPES: ReadonlyMap<string, Negotiated> = new Map(
  (
    [
      ["application/grpc-web", "grpc-web", "proto", false, false],
      ["application/grpc-web+proto", "grpc-web", "proto", false, false],
      ["application/grpc-web+json", "grpc-web", "json", false, false],
      ["application/grpc-web-text", "grpc-web", "proto", true, false],
      ["application/grpc-web-text+proto", "grpc-web", "proto", true, false],
      ["application/proto", "connect", "proto", false, false],
      ["application/json", "connect", "json", false, false],
      ["application/connect+proto", "connect", "proto", false, true],
      ["application/connect+json", "connect", "json", false, true],
      ["application/grpc+json", "grpc", "json", false, false],
    ] as const
  ).map(([type, protocol, codec, text, streaming]) => [
    type,
    { protocol, codec, text, streaming, get: false },
  ]),
);

/** The content types served on RPC paths, for 415 answers. */
export const ACCEPTED_CONTENT_TYPES: readonly string[] = [
  "application/grpc",
  "application/grpc+proto",
  ...CONTENT_TYPES.keys(),
];

/** A content type's media type: lower case, parameters dropped. */
export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return "";
  const semicolon = contentType.indexOf(";");
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** What a content type speaks, or `undefined` when no web protocol takes it. */
export function protocolOf(contentType: string | undefined): Negotiated | undefined {
  return CONTENT_TYPES.get(mediaType(contentType));
}

/** What {@linkcode negotiate} looks at. */
export interface NegotiateInput {
  /** The HTTP method. */
  readonly method: string;
  /** The `content-type` header. */
  readonly contentType?: string;
  /** Whether the method is known and side-effect-free; `undefined` when it is not known. */
  readonly noSideEffects?: boolean;
  /** The `encoding` query parameter of a GET. */
  readonly getEncoding?: string | null;
}

/** A refusal with a plain-text sentence. */
function refusal(status: number, message: string, headers: Record<string, string> = {}): Refusal {
  return { status, headers, message };
}

/** Negotiates a GET: Connect's GET form, for side-effect-free (or unknown) methods only. */
function negotiateGet(input: NegotiateInput): Negotiated | Refusal {
  if (input.noSideEffects === false) {
    return refusal(
      405,
      "this method has side effects: call it with POST (GET is for methods marked NO_SIDE_EFFECTS)",
      { allow: "POST" },
    );
  }
  const encoding = input.getEncoding;
  if (encoding !== "json" && encoding !== "proto") {
    return refusal(
      415,
      `a Connect GET needs the query parameter encoding=json or encoding=proto (got ${
        encoding == null ? "none" : JSON.stringify(encoding)
      })`,
    );
  }
  return { protocol: "connect", codec: encoding, text: false, streaming: false, get: true };
}

/** Which protocol a request on an RPC path speaks, or how to refuse it. */
export function negotiate(input: NegotiateInput): Negotiated | Refusal {
  if (input.method === "GET") return negotiateGet(input);
  if (input.method !== "POST") {
    const allow = input.noSideEffects === true ? "GET, POST" : "POST";
    return refusal(405, `RPC paths take ${allow}, not ${input.method}`, { allow });
  }
  const found = protocolOf(input.contentType);
  if (found !== undefined) return found;
  return refusal(
    415,
    `unsupported content type ${JSON.stringify(input.contentType ?? "")}: this path accepts ${
      ACCEPTED_CONTENT_TYPES.join(", ")
    }`,
    { "accept-post": ACCEPTED_CONTENT_TYPES.join(", ") },
  );
}

/** Whether `result` is a refusal. */
export function isRefusal(result: Negotiated | Refusal): result is Refusal {
  return "status" in result;
}
