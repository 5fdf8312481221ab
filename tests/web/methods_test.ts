/**
 * `lib/web/methods.ts`: the method table of `protos/route_guide.binpb`, and
 * the canonical proto3 JSON mapping (protobuf.dev/programming-guides/json):
 * lowerCamelCase names out, both names in, no default values written,
 * unknown fields ignored, wrong types refused with a message naming the
 * field and value. Wire bytes are written by hand from the encoding spec.
 *
 * @module
 */

import assert from "node:assert/strict";
import { JsonInputError, loadMethodTable, type MethodInfo } from "../../lib/web/methods.ts";

const table = loadMethodTable(
  Deno.readFileSync(new URL("../../protos/route_guide.binpb", import.meta.url)),
);
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The method at `path`, which must exist. */
function method(path: string): MethodInfo {
  const info = table.lookup(path);
  assert.ok(info, `${path} is in the table`);
  return info;
}

const GET_FEATURE = "/routeguide.RouteGuide/GetFeature";
// Point{latitude: 150, longitude: -1}: tag 0x08 varint 150 (0x96 0x01); tag 0x10,
// -1 as an int32 is sign-extended to a 10-byte varint.
const POINT_150_MINUS_1 = [0x08, 0x96, 0x01, 0x10, ...Array(9).fill(0xff), 0x01];

Deno.test("loadMethodTable() lists RouteGuide, health and both reflection services, with their kinds", () => {
  const kinds: Record<string, string> = {
    "/routeguide.RouteGuide/GetFeature": "unary",
    "/routeguide.RouteGuide/ListFeatures": "server_streaming",
    "/routeguide.RouteGuide/RecordRoute": "client_streaming",
    "/routeguide.RouteGuide/RouteChat": "bidi_streaming",
    "/grpc.health.v1.Health/Check": "unary",
    "/grpc.health.v1.Health/Watch": "server_streaming",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": "bidi_streaming",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": "bidi_streaming",
  };
  for (const [path, kind] of Object.entries(kinds)) {
    assert.equal(method(path).path, path);
    assert.equal(method(path).kind, kind, path);
  }
});

Deno.test("lookup() is exact: wrong case, a missing slash or an unknown method finds nothing", () => {
  for (
    const path of [
      "/routeguide.RouteGuide/getFeature",
      "routeguide.RouteGuide/GetFeature",
      "/routeguide.RouteGuide/Nope",
      "/RouteGuide/GetFeature",
      "/routeguide.RouteGuide/GetFeature/",
      "/",
      "",
    ]
  ) assert.equal(table.lookup(path), undefined, path);
});

Deno.test("only GetFeature is marked NO_SIDE_EFFECTS", () => {
  assert.equal(method(GET_FEATURE).noSideEffects, true);
  for (const name of ["ListFeatures", "RecordRoute", "RouteChat"]) {
    assert.equal(method(`/routeguide.RouteGuide/${name}`).noSideEffects, false, name);
  }
  assert.equal(method("/grpc.health.v1.Health/Check").noSideEffects, false);
});

Deno.test("requestFromJson() encodes the binary message the wire spec gives", () => {
  const binary = method(GET_FEATURE).requestFromJson(utf8('{"latitude":150,"longitude":-1}'));
  assert.deepEqual([...binary], POINT_150_MINUS_1);
  // Numbers may be given as strings, and default values encode to nothing.
  const quoted = method(GET_FEATURE).requestFromJson(utf8('{"latitude":"150","longitude":"-1"}'));
  assert.deepEqual([...quoted], POINT_150_MINUS_1);
  assert.deepEqual([...method(GET_FEATURE).requestFromJson(utf8('{"latitude":0}'))], []);
  assert.deepEqual([...method(GET_FEATURE).requestFromJson(utf8("{}"))], []);
});

Deno.test("requestFromJson() ignores unknown fields, and null means the default", () => {
  const binary = method(GET_FEATURE).requestFromJson(
    utf8('{"altitude":3,"latitude":150,"longitude":-1,"extra":{"a":[1]},"name":null}'),
  );
  assert.deepEqual([...binary], POINT_150_MINUS_1);
  assert.deepEqual([...method(GET_FEATURE).requestFromJson(utf8('{"latitude":null}'))], []);
});

Deno.test("both the lowerCamelCase and the original field names are accepted", () => {
  const recordRoute = method("/routeguide.RouteGuide/RecordRoute");
  const camel = recordRoute.responseFromJson(utf8('{"pointCount":3,"elapsedTime":4}'));
  const original = recordRoute.responseFromJson(utf8('{"point_count":3,"elapsed_time":4}'));
  // RouteSummary: point_count = 1, elapsed_time = 4.
  assert.deepEqual([...camel], [0x08, 3, 0x20, 4]);
  assert.deepEqual([...original], [0x08, 3, 0x20, 4]);
});

Deno.test("responseToJson() writes lowerCamelCase names and leaves default values out", () => {
  const recordRoute = method("/routeguide.RouteGuide/RecordRoute");
  // RouteSummary{point_count: 3, feature_count: 0, distance: 7, elapsed_time: 0}
  const summary = new Uint8Array([0x08, 3, 0x10, 0, 0x18, 7]);
  assert.equal(text(recordRoute.responseToJson(summary)), '{"pointCount":3,"distance":7}');
  // Feature{name: "", location: Point{0, 0}}: a set but empty message is written as {}.
  assert.equal(
    text(method(GET_FEATURE).responseToJson(new Uint8Array([0x12, 0]))),
    '{"location":{}}',
  );
  assert.equal(text(method(GET_FEATURE).responseToJson(new Uint8Array())), "{}");
  // Feature{name: "Hé", location: {150, -1}}
  const name = [...utf8("Hé")];
  const feature = [
    0x0a,
    name.length,
    ...name,
    0x12,
    POINT_150_MINUS_1.length,
    ...POINT_150_MINUS_1,
  ];
  assert.equal(
    text(method(GET_FEATURE).responseToJson(new Uint8Array(feature))),
    '{"name":"Hé","location":{"latitude":150,"longitude":-1}}',
  );
});

Deno.test("requestToJson() and responseFromJson() are the other directions", () => {
  assert.equal(
    text(method(GET_FEATURE).requestToJson(new Uint8Array(POINT_150_MINUS_1))),
    '{"latitude":150,"longitude":-1}',
  );
  const note = method("/routeguide.RouteGuide/RouteChat").responseFromJson(
    utf8('{"message":"hi","location":{"latitude":150,"longitude":-1}}'),
  );
  assert.deepEqual(
    [...note],
    [0x0a, POINT_150_MINUS_1.length, ...POINT_150_MINUS_1, 0x12, 2, ...utf8("hi")],
  );
});

Deno.test("a wrong type is a JsonInputError naming the message, field and value", () => {
  assert.throws(
    () => method(GET_FEATURE).requestFromJson(utf8('{"latitude":"north"}')),
    (error: unknown) => {
      assert.ok(error instanceof JsonInputError);
      assert.equal(
        error.message,
        'invalid JSON for routeguide.Point: field "latitude": expected an integer, got "north"',
      );
      return true;
    },
  );
  const cases: [string, string, RegExp][] = [
    [GET_FEATURE, '{"latitude":1.5}', /routeguide\.Point: field "latitude".*1\.5/],
    [GET_FEATURE, '{"longitude":true}', /routeguide\.Point: field "longitude".*true/],
    [GET_FEATURE, '{"latitude":3000000000}', /field "latitude".*int32.*3000000000/],
    [GET_FEATURE, '{"latitude":1e20}', /field "latitude".*int32/],
    [
      "/routeguide.RouteGuide/RouteChat",
      '{"location":{"latitude":"x"}}',
      /Point: field "latitude".*"x"/,
    ],
    ["/routeguide.RouteGuide/RouteChat", '{"message":5}', /RouteNote: field "message".*5/],
    ["/routeguide.RouteGuide/RouteChat", '{"location":5}', /routeguide\.RouteNote.*5/],
  ];
  for (const [path, json, pattern] of cases) {
    assert.throws(() => method(path).requestFromJson(utf8(json)), (error: unknown) => {
      assert.ok(error instanceof JsonInputError, `${json}: ${error}`);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("malformed JSON, a non-object and invalid UTF-8 are JsonInputErrors naming the message", () => {
  const inputs = [
    utf8('{"latitude'),
    utf8(""),
    utf8("[1]"),
    utf8("null"),
    utf8("5"),
    utf8('"text"'),
    new Uint8Array([0x7b, 0xff, 0x7d]),
  ];
  for (const input of inputs) {
    assert.throws(() => method(GET_FEATURE).requestFromJson(input), (error: unknown) => {
      assert.ok(error instanceof JsonInputError, `${input}: ${error}`);
      assert.match(error.message, /^invalid JSON for routeguide\.Point: /);
      return true;
    });
  }
});

Deno.test("a real U+FFFD in the JSON is accepted; only invalid UTF-8 is refused", () => {
  const chat = method("/routeguide.RouteGuide/RouteChat");
  const binary = chat.requestFromJson(utf8('{"message":"\uFFFD"}'));
  assert.deepEqual([...binary], [0x12, 3, 0xef, 0xbf, 0xbd]);
  assert.throws(
    () => chat.requestFromJson(Uint8Array.of(...utf8('{"message":"'), 0xc3, ...utf8('"}'))),
    JsonInputError,
  );
});

Deno.test("JsonInputError messages say exactly what was wrong, and keep the library's error as their cause", () => {
  const messageOf = (path: string, input: Uint8Array) => {
    try {
      method(path).requestFromJson(input);
    } catch (error) {
      assert.ok(error instanceof JsonInputError, String(error));
      return error;
    }
    assert.fail(`${text(input)} was accepted`);
  };
  const point = (json: string) => messageOf(GET_FEATURE, utf8(json)).message;
  const prefix = "invalid JSON for routeguide.Point: ";
  assert.equal(point("[1]"), `${prefix}expected an object, got an array`);
  assert.equal(point("null"), `${prefix}expected an object, got null`);
  assert.equal(point("5"), `${prefix}expected an object, got 5`);
  assert.equal(point('"text"'), `${prefix}expected an object, got "text"`);
  // JSON.parse's own words follow; never the "expected an object" of a value that was not read.
  assert.doesNotMatch(point('{"latitude'), /expected an object/);
  assert.doesNotMatch(
    messageOf(GET_FEATURE, Uint8Array.of(0x7b, 0xff, 0x7d)).message,
    /expected an object/,
  );
  const range = messageOf(GET_FEATURE, utf8('{"latitude":3000000000}'));
  assert.equal(
    range.message,
    `${prefix}field "latitude": expected an integer in the int32 range, got 3000000000`,
  );
  assert.ok(range.cause instanceof Error);
  const nested = messageOf("/routeguide.RouteGuide/RouteChat", utf8('{"location":5}'));
  assert.equal(
    nested.message,
    "invalid JSON for routeguide.RouteNote: routeguide.Point from JSON: 5",
  );
  assert.ok(nested.cause instanceof Error);
});

Deno.test("responseToJson(): enums by name, snake_case fields in lowerCamelCase (proto3 JSON mapping)", () => {
  // grpc.health.v1.HealthCheckResponse{status: SERVING (1)}; routeguide.RouteSummary{point_count: 3}.
  assert.equal(
    text(method("/grpc.health.v1.Health/Check").responseToJson(Uint8Array.of(0x08, 1))),
    '{"status":"SERVING"}',
  );
  assert.equal(
    text(method("/routeguide.RouteGuide/RecordRoute").responseToJson(Uint8Array.of(0x08, 3))),
    '{"pointCount":3}',
  );
});
