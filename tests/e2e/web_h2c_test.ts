/**
 * The web protocols over h2c, end to end against the real server on a free
 * port: every protocol × codec for each of the four RPC kinds, with the
 * bytes written and read by hand from PROTOCOL-WEB.md, the Connect spec and
 * the gRPC spec.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { serveTwoFeatures } from "../_server.ts";
import { serve } from "../../lib/server/serve.ts";
import { createFeatureDb } from "../../lib/core/feature_index.ts";
import { createLogger } from "../../lib/server/telemetry.ts";
import { waitFor } from "../_async.ts";
import {
  envelope,
  envelopes,
  featureName,
  h2c,
  h2request,
  noteProto,
  parseTrailerBlock,
  pointProto,
  protoFields,
  type RawResponse,
  rectangleProto,
} from "../web/_http.ts";

/** One protocol and codec as a client speaks it. */
interface Speaker {
  name: string;
  contentType: string;
  json: boolean;
  /** Frames request messages into a body. */
  body(messages: Uint8Array[]): Uint8Array | string;
  /** The messages and status of an answer. */
  read(response: RawResponse): { messages: Uint8Array[]; status: number; message?: string };
}

const text = new TextEncoder();

/** gRPC-Web, binary. */
function grpcWeb(json: boolean): Speaker {
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
const grpcWebText: Speaker = {
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
function connectStream(json: boolean): Speaker {
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
const grpcJson: Speaker = {
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

const SPEAKERS = [
  grpcWeb(false),
  grpcWeb(true),
  grpcWebText,
  connectStream(false),
  connectStream(true),
  grpcJson,
];

/** The JSON of a message. */
const parse = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

Deno.test("web protocols over h2c: every protocol and codec serves all four RPC kinds", async () => {
  const server = await serveTwoFeatures();
  try {
    await using session = h2c(server.port);
    const call = async (speaker: Speaker, method: string, messages: (Uint8Array | object)[]) => {
      const body = speaker.body(
        messages.map((m) => m instanceof Uint8Array ? m : text.encode(JSON.stringify(m))),
      );
      const response = await h2request(session, {
        path: `/routeguide.RouteGuide/${method}`,
        headers: { "content-type": speaker.contentType },
        body,
      });
      return speaker.read(response);
    };
    for (const s of SPEAKERS) {
      const unary = await call(
        s,
        "GetFeature",
        [s.json ? { latitude: 10, longitude: 10 } : pointProto(10, 10)],
      );
      assert.equal(unary.status, 0, `${s.name} GetFeature: ${unary.message}`);
      assert.deepEqual(
        unary.messages.map((m) => s.json ? parse(m).name : featureName(m)),
        ["A"],
        s.name,
      );

      const list = await call(s, "ListFeatures", [
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

      const route = await call(
        s,
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

      // Each speaker leaves its notes at its own place: earlier ones come back.
      const place = SPEAKERS.indexOf(s) + 1;
      const chat = await call(
        s,
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
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("the call log records each web call's protocol, codec and HTTP version", async () => {
  const lines: Record<string, unknown>[] = [];
  const server = await serve({
    db: createFeatureDb([{ name: "A", location: { latitude: 10, longitude: 10 } }]).db,
    host: "127.0.0.1",
    port: 0,
    logger: createLogger({
      level: "info",
      format: "json",
      write: (line) => lines.push(JSON.parse(line)),
    }),
  });
  try {
    await using session = h2c(server.port);
    await h2request(session, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { "content-type": "application/json", "routeguide-web-protocol": "forged+x HTTP/9" },
      body: '{"latitude":10,"longitude":10}',
    });
    await h2request(session, {
      path: "/routeguide.RouteGuide/GetFeature",
      headers: { "content-type": "application/grpc-web-text" },
      body: Buffer.from(envelope(0, pointProto(10, 10))).toString("base64"),
    });
    const calls = () => lines.filter((l) => l.msg === "call");
    await waitFor(() => calls().length === 2, () => JSON.stringify(lines));
    assert.deepEqual(
      calls().map((c) => [c.protocol, c.codec, c.http, c.status]),
      [["connect", "json", "2", "OK"], ["grpc-web-text", "proto", "2", "OK"]],
    );
  } finally {
    await server.shutdown(1000);
  }
});
