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
      return {
        messages: frames.map((f) => f.data),
        status: Number(trailers["grpc-status"]),
        message: trailers["grpc-message"],
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
      const codes: Record<string, number> = { invalid_argument: 3, unimplemented: 12 };
      return {
        messages: frames.map((f) => f.data),
        status: end.error === undefined ? 0 : codes[end.error.code] ?? -1,
        message: end.error?.message,
      };
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
