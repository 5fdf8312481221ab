/**
 * `lib/grpc/feature_bytes.ts` and its use in `lib/grpc/adapter.ts`: the
 * encode-once serializer gives, for every feature of the shipped database,
 * exactly the bytes of the normal serializer (the web bridge reads these
 * bytes off the wire), keeps each feature's bytes once, stays within its
 * budget, and never hands a stored feature's bytes to another reply.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { type Feature, parseFeatureDb } from "../../lib/core/feature_index.ts";
import { createFeatureBytes } from "../../lib/grpc/feature_bytes.ts";
import { bindRouteGuide } from "../../lib/grpc/adapter.ts";
import { loadRouteGuidePackage } from "../../lib/grpc/proto.ts";
import { createRouteGuideHandlers } from "../../lib/core/handlers.ts";
import { createMemoryNotesStore } from "../../lib/notes/memory.ts";

const SHIPPED_DB = new URL("../../data/route_guide_db.json", import.meta.url);

/** The normal `Feature` serializer: grpc-js's, from proto-loader. */
function normalSerializer(): (feature: Feature) => Buffer {
  const pkg = grpc.loadPackageDefinition(loadRouteGuidePackage());
  const service = ((pkg.routeguide as grpc.GrpcObject)
    .RouteGuide as grpc.ServiceClientConstructor).service;
  return (service.GetFeature as grpc.MethodDefinition<unknown, Feature>).responseSerialize;
}

/** The shipped database. */
function shippedDb() {
  return parseFeatureDb(Deno.readTextFileSync(SHIPPED_DB), "route_guide_db.json").db;
}

Deno.test("feature bytes: the normal serializer's bytes for every shipped feature, first and later calls", () => {
  const db = shippedDb();
  const normal = normalSerializer();
  const bytes = createFeatureBytes({ db, encode: normal });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < db.size; i++) {
      const feature = db.at(i);
      const got = bytes.encode(feature);
      assert.ok(Buffer.isBuffer(got), "grpc-js copies the reply with Buffer#copy");
      assert.deepEqual(
        [...got],
        [...normal(feature)],
        `feature ${i} (${feature.name}), round ${round}`,
      );
    }
  }
});

Deno.test("feature bytes: the wire encoding of a Feature, from the protobuf spec", () => {
  const { db } = parseFeatureDb(
    '[{"name": "A", "location": {"latitude": 1, "longitude": 2}}]',
    "inline",
  );
  const bytes = createFeatureBytes({ db, encode: normalSerializer() });
  // name (field 1, length-delimited) "A"; location (field 2, length-delimited)
  // { latitude (1, varint) 1, longitude (2, varint) 2 }.
  const expected = [0x0a, 0x01, 0x41, 0x12, 0x04, 0x08, 0x01, 0x10, 0x02];
  assert.deepEqual([...bytes.encode(db.at(0))], expected);
  assert.deepEqual([...bytes.encode(db.at(0))], expected, "kept bytes");
});

Deno.test("feature bytes: each feature is encoded once", () => {
  const db = shippedDb();
  let encoded = 0;
  const normal = normalSerializer();
  const bytes = createFeatureBytes({
    db,
    encode: (feature) => (encoded++, normal(feature)),
    chunkBytes: 256, // many chunks, so chunk boundaries are crossed
  });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < db.size; i++) bytes.encode(db.at(i));
  }
  assert.equal(encoded, db.size);
  assert.ok(bytes.keptBytes > 0);
});

Deno.test("feature bytes: past the budget features are encoded every time, still right", () => {
  const db = shippedDb();
  const normal = normalSerializer();
  let encoded = 0;
  const bytes = createFeatureBytes({
    db,
    encode: (feature) => (encoded++, normal(feature)),
    maxBytes: 1000,
    chunkBytes: 300,
  });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < db.size; i++) {
      assert.deepEqual([...bytes.encode(db.at(i))], [...normal(db.at(i))], `feature ${i}`);
    }
  }
  assert.ok(bytes.keptBytes <= 1000, `kept ${bytes.keptBytes} bytes`);
  assert.ok(encoded > db.size, "features past the budget are encoded again");
  assert.ok(encoded < 2 * db.size, "features within the budget are not");
});

Deno.test("feature bytes: replies that are not a stored feature are encoded as they are", () => {
  const db = shippedDb();
  const normal = normalSerializer();
  const bytes = createFeatureBytes({ db, encode: normal });
  const stored = db.at(0);
  bytes.encode(stored);
  const renamed = { name: "another name", location: stored.location };
  assert.deepEqual([...bytes.encode(renamed)], [...normal(renamed)]);
  const echo = { name: "", location: { latitude: 1, longitude: 1 } };
  assert.equal(db.indexOf(1, 1), -1);
  assert.deepEqual([...bytes.encode(echo)], [...normal(echo)]);
});

Deno.test("adapter: with `features`, GetFeature and ListFeatures serialize through the kept bytes", () => {
  const db = shippedDb();
  const handlers = createRouteGuideHandlers({ db, notes: createMemoryNotesStore() });
  const plain = bindRouteGuide(handlers).definition;
  const once = bindRouteGuide(handlers, { features: db }).definition;
  for (const method of ["GetFeature", "ListFeatures"]) {
    const a = plain[method] as grpc.MethodDefinition<unknown, Feature>;
    const b = once[method] as grpc.MethodDefinition<unknown, Feature>;
    assert.notEqual(b.responseSerialize, a.responseSerialize, `${method} uses encode-once`);
    for (let i = 0; i < db.size; i++) {
      const feature = db.at(i);
      assert.deepEqual([...b.responseSerialize(feature)], [...a.responseSerialize(feature)]);
      assert.deepEqual([...b.responseSerialize(feature)], [...a.responseSerialize(feature)]);
    }
  }
  for (const method of ["RecordRoute", "RouteChat"]) {
    assert.equal(
      (once[method] as grpc.MethodDefinition<unknown, unknown>).path,
      (plain[method] as grpc.MethodDefinition<unknown, unknown>).path,
    );
  }
});
