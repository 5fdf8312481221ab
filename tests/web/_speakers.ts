/**
 * Each web protocol and codec as a client speaks it, written from the
 * specs (PROTOCOL-WEB.md, the Connect protocol, gRPC): how to frame request
 * messages, and how to read messages and status from an answer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  envelope,
  envelopes,
  featureName,
  noteProto,
  parseTrailerBlock,
  pointProto,
  protoFields,
  type RawResponse,
  rectangleProto,
} from "./_http.ts";

/** One protocol and codec as a client speaks it. */
export interface Speaker {
  name: string;
  contentType: string;
  json: boolean;
  /** Frames request messages into a body. */
  body(messages: Uint8Array[]): Uint8Array | string;
  /** The messages and status of an answer. */
  read(response: RawResponse): { messages: Uint8Array[]; status: number; message?: string };
}

/**
 * Each Connect error code's gRPC number and the HTTP status a Connect unary
 * error answer carries, as the Connect protocol's table of error codes gives
 * them (connectrpc.com/docs/protocol#error-codes).
 */
export const CONNECT_CODES: Readonly<Record<string, { code: number; http: number }>> = {
  canceled: { code: 1, http: 499 },
  unknown: { code: 2, http: 500 },
  invalid_argument: { code: 3, http: 400 },
  deadline_exceeded: { code: 4, http: 504 },
  not_found: { code: 5, http: 404 },
  already_exists: { code: 6, http: 409 },
  permission_denied: { code: 7, http: 403 },
  resource_exhausted: { code: 8, http: 429 },
  failed_precondition: { code: 9, http: 400 },
  aborted: { code: 10, http: 409 },
  out_of_range: { code: 11, http: 400 },
  unimplemented: { code: 12, http: 501 },
  internal: { code: 13, http: 500 },
  unavailable: { code: 14, http: 503 },
  data_loss: { code: 15, http: 500 },
  unauthenticated: { code: 16, http: 401 },
};

/** A Connect error code's gRPC number; -1 for a name the spec does not have. */
function connectCode(name: string): number {
  return CONNECT_CODES[name]?.code ?? -1;
}

/** gRPC-Web, binary. */
export function grpcWeb(json: boolean): Speaker {
  return {
    name: `grpc-web+${json ? "json" : "proto"}`,
    contentType: `application/grpc-web+${json ? "json" : "proto"}`,
    json,
    body: (messages) => Buffer.concat(messages.map((m) => envelope(0, m))),
    read(response) {
      assert.equal(response.status, 200);
      const frames = envelopes(response.body);
      const last = frames.pop()!;
      assert.equal(last.flags, 0x80, "the last frame carries the trailers");
      const trailers = parseTrailerBlock(last.data);
      const message = trailers["grpc-message"];
      return {
        messages: frames.map((f) => f.data),
        status: Number(trailers["grpc-status"]),
        // Percent-encoded, as in gRPC over HTTP/2 (PROTOCOL-HTTP2.md).
        message: message === undefined ? undefined : decodeURIComponent(message),
      };
    },
  };
}

/** gRPC-Web text: base64 each way. */
export const grpcWebText: Speaker = {
  name: "grpc-web-text",
  contentType: "application/grpc-web-text",
  json: false,
  body: (messages) => Buffer.concat(messages.map((m) => envelope(0, m))).toString("base64"),
  read(response) {
    assert.equal(response.headers["content-type"], "application/grpc-web-text+proto");
    // Each chunk is padded on its own: decode group by group.
    const raw = new TextDecoder().decode(response.body);
    const parts = raw.match(/[^=]*=*/g)!.filter((p) => p !== "");
    const bytes = Buffer.concat(parts.map((p) => Buffer.from(p, "base64")));
    return grpcWeb(false).read({ ...response, body: bytes });
  },
};

/** Connect streaming. */
export function connectStream(json: boolean): Speaker {
  return {
    name: `connect+${json ? "json" : "proto"}`,
    contentType: `application/connect+${json ? "json" : "proto"}`,
    json,
    body: (messages) => Buffer.concat(messages.map((m) => envelope(0, m))),
    read(response) {
      assert.equal(response.status, 200);
      const frames = envelopes(response.body);
      const last = frames.pop()!;
      assert.equal(last.flags, 0x02, "the last frame is the end-of-stream message");
      const end = JSON.parse(new TextDecoder().decode(last.data));
      return {
        messages: frames.map((f) => f.data),
        status: end.error === undefined ? 0 : connectCode(end.error.code),
        message: end.error?.message,
      };
    },
  };
}

/**
 * Connect unary: one bare message each way (so one request message only);
 * an error is a JSON body whose HTTP status must be the one the spec gives
 * its code.
 */
export function connectUnary(json: boolean): Speaker {
  return {
    name: `connect unary ${json ? "json" : "proto"}`,
    contentType: `application/${json ? "json" : "proto"}`,
    json,
    body(messages) {
      assert.equal(messages.length, 1, "Connect unary carries one request message");
      return messages[0];
    },
    read(response) {
      if (response.status === 200) return { messages: [response.body], status: 0 };
      assert.match(String(response.headers["content-type"]), /^application\/json/);
      const error = JSON.parse(response.text());
      const status = connectCode(error.code);
      assert.equal(
        response.status,
        CONNECT_CODES[error.code]?.http,
        `the HTTP status of a Connect ${error.code} error`,
      );
      return { messages: [], status, message: error.message };
    },
  };
}

/** gRPC with the JSON codec: real trailers. */
export const grpcJson: Speaker = {
  name: "grpc+json",
  contentType: "application/grpc+json",
  json: true,
  body: (messages) => Buffer.concat(messages.map((m) => envelope(0, m))),
  read(response) {
    assert.equal(response.status, 200);
    const status = response.trailers["grpc-status"] ?? response.headers["grpc-status"];
    return { messages: envelopes(response.body).map((f) => f.data), status: Number(status) };
  },
};

/** Every protocol and codec. */
export const SPEAKERS = [
  grpcWeb(false),
  grpcWeb(true),
  grpcWebText,
  connectStream(false),
  connectStream(true),
  grpcJson,
];

/** The JSON of a message. */
const parse = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

/** Sends a body to a RouteGuide method, as the caller's transport does. */
export type SendBody = (method: string, body: Uint8Array | string) => Promise<RawResponse>;

/**
 * Checks the four RPC kinds against a server with features "A" at (10, 10)
 * and "B" at (20, 20) (E7), speaking `s`; RouteChat notes go to (place, place).
 */
export async function checkFourKinds(
  s: Speaker,
  place: number,
  send: SendBody,
  kinds: readonly string[] = ["GetFeature", "ListFeatures", "RecordRoute", "RouteChat"],
): Promise<void> {
  const call = async (method: string, messages: (Uint8Array | object)[]) => {
    const body = s.body(
      messages.map((m) =>
        m instanceof Uint8Array ? m : new TextEncoder().encode(JSON.stringify(m))
      ),
    );
    return s.read(await send(method, body));
  };
  if (kinds.includes("GetFeature")) {
    const unary = await call(
      "GetFeature",
      [s.json ? { latitude: 10, longitude: 10 } : pointProto(10, 10)],
    );
    assert.equal(unary.status, 0, `${s.name} GetFeature: ${unary.message}`);
    assert.deepEqual(
      unary.messages.map((m) => s.json ? parse(m).name : featureName(m)),
      ["A"],
      s.name,
    );
  }

  if (kinds.includes("ListFeatures")) {
    const list = await call("ListFeatures", [
      s.json
        ? { lo: { latitude: 0, longitude: 0 }, hi: { latitude: 30, longitude: 30 } }
        : rectangleProto(pointProto(0, 0), pointProto(30, 30)),
    ]);
    assert.equal(list.status, 0, `${s.name} ListFeatures: ${list.message}`);
    assert.deepEqual(
      list.messages.map((m) => s.json ? parse(m).name : featureName(m)).sort(),
      ["A", "B"],
      s.name,
    );
  }

  if (kinds.includes("RecordRoute")) {
    const route = await call(
      "RecordRoute",
      s.json
        ? [{ latitude: 10, longitude: 10 }, { latitude: 20, longitude: 20 }]
        : [pointProto(10, 10), pointProto(20, 20)],
    );
    assert.equal(route.status, 0, `${s.name} RecordRoute: ${route.message}`);
    assert.equal(route.messages.length, 1);
    const summary = s.json
      ? parse(route.messages[0])
      : { pointCount: protoFields(route.messages[0]).get(1)?.[0] };
    assert.equal(summary.pointCount, 2, s.name);
  }

  if (kinds.includes("RouteChat")) {
    // Each speaker leaves its notes at its own place: earlier ones come back.
    const chat = await call(
      "RouteChat",
      s.json
        ? [
          { location: { latitude: place, longitude: place }, message: "first" },
          { location: { latitude: place, longitude: place }, message: "second" },
        ]
        : [noteProto(place, place, "first"), noteProto(place, place, "second")],
    );
    assert.equal(chat.status, 0, `${s.name} RouteChat: ${chat.message}`);
    assert.deepEqual(
      chat.messages.map((m) =>
        s.json
          ? parse(m).message
          : new TextDecoder().decode(protoFields(m).get(2)?.[0] as Uint8Array)
      ),
      ["first"],
      s.name,
    );
  }
}
