/**
 * Canonical proto3 JSON for one GetFeature through `lib/web/methods.ts`
 * (request JSON → binary, response binary → JSON), beside the same work done
 * the naive way, with a registry look-up and fresh options on every call:
 * `deno bench --allow-read bench/web_json_bench.ts`.
 */

import {
  createFileRegistry,
  fromBinary,
  fromJsonString,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { loadMethodTable } from "../lib/web/methods.ts";

const descriptorSet = Deno.readFileSync(new URL("../protos/route_guide.binpb", import.meta.url));
const method = loadMethodTable(descriptorSet).lookup("/routeguide.RouteGuide/GetFeature")!;
const requestJson = new TextEncoder().encode('{"latitude":409146138,"longitude":-746188906}');
const requestBinary = method.requestFromJson(requestJson);
const responseBinary = method.responseFromJson(
  new TextEncoder().encode(
    '{"name":"Berkshire Valley Management Area Trail, Jefferson, NJ, USA",' +
      '"location":{"latitude":409146138,"longitude":-746188906}}',
  ),
);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));

Deno.bench("GetFeature JSON: request decode + response encode (methods.ts)", {
  group: "getfeature",
  baseline: true,
}, () => {
  method.requestFromJson(requestJson);
  method.responseToJson(responseBinary);
});

Deno.bench(
  "GetFeature JSON: the same with per-call look-ups and options",
  { group: "getfeature" },
  () => {
    const point = registry.getMessage("routeguide.Point")!;
    const feature = registry.getMessage("routeguide.Feature")!;
    toBinary(
      point,
      fromJsonString(point, new TextDecoder().decode(requestJson), {
        registry,
        ignoreUnknownFields: true,
      }),
    );
    new TextEncoder().encode(
      toJsonString(feature, fromBinary(feature, responseBinary), { registry }),
    );
  },
);

Deno.bench("request decode only: Point JSON → binary", { group: "parts" }, () => {
  method.requestFromJson(requestJson);
});

Deno.bench("response encode only: Feature binary → JSON", { group: "parts" }, () => {
  method.responseToJson(responseBinary);
});

Deno.bench("request to JSON: Point binary → JSON", { group: "parts" }, () => {
  method.requestToJson(requestBinary);
});
