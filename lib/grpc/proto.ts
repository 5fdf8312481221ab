/**
 * Loads the RouteGuide protobuf definition shared by the server adapter and
 * the client, from the descriptor set `deno task gen` compiles with protoc
 * (`protos/route_guide.binpb`, with the health and reflection protos the
 * server also serves), not from `.proto` text: decoding the set costs a
 * fraction of what protobufjs's parser does, and every server start pays it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  loadFileDescriptorSetFromBuffer,
  type Options,
  type PackageDefinition,
} from "@grpc/proto-loader";

/** Where the wire contract lives, found from this module, not the working directory. */
export const PROTO_PATH: string = fileURLToPath(
  new URL("../../protos/route_guide.proto", import.meta.url),
);

/** The descriptor set compiled from `PROTO_PATH` (and the health and reflection protos). */
export const DESCRIPTOR_SET_PATH: string = fileURLToPath(
  new URL("../../protos/route_guide.binpb", import.meta.url),
);

/**
 * How messages are turned into objects: proto field names (`point_count`),
 * plain numbers, and unset fields filled in, so an unset `Point` field
 * reads as 0. The generated types in `generated/` are made with the same
 * settings.
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The fully qualified name of the service. */
export const SERVICE_NAME = "routeguide.RouteGuide";

/** Reads the committed descriptor set (`protos/route_guide.binpb`). */
export function readDescriptorSet(): Uint8Array {
  return readFileSync(DESCRIPTOR_SET_PATH);
}

/**
 * A package definition of every type and service in a descriptor set
 * (by default the committed one), its messages as `options` say.
 */
export function loadRouteGuidePackage(
  descriptorSet: Uint8Array = readDescriptorSet(),
  options: Options = PROTO_LOADER_OPTIONS,
): PackageDefinition {
  const bytes = Buffer.from(descriptorSet.buffer, descriptorSet.byteOffset, descriptorSet.length);
  return loadFileDescriptorSetFromBuffer(bytes, options);
}
