/**
 * Message encoding and decoding through the service definition grpc-js
 * uses (protobufjs via @grpc/proto-loader): `deno task bench`.
 */

import { loadRouteGuidePackage } from "../lib/grpc/proto.ts";

const pkg = loadRouteGuidePackage();
const service = pkg["routeguide.RouteGuide"] as unknown as Record<string, {
  requestSerialize: (value: unknown) => Uint8Array;
  requestDeserialize: (bytes: Uint8Array) => unknown;
  responseSerialize: (value: unknown) => Uint8Array;
}>;
const feature = {
  name: "Brooklyn Bridge, New York, NY",
  location: { latitude: 407061000, longitude: -739969000 },
};
const point = { latitude: 407061000, longitude: -739969000 };
const pointBytes = service.GetFeature.requestSerialize(point);

Deno.bench("encode a Feature (GetFeature / ListFeatures reply)", () => {
  service.GetFeature.responseSerialize(feature);
});

Deno.bench("decode a Point (GetFeature request)", () => {
  service.GetFeature.requestDeserialize(pointBytes);
});

Deno.bench("encode a RouteNote", () => {
  service.RouteChat.responseSerialize({ location: point, message: "hello there" });
});
