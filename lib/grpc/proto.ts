/**
 * Loads the RouteGuide protobuf definition shared by the server adapter and
 * the client.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { loadSync, type Options, type PackageDefinition } from "@grpc/proto-loader";

/** Where the wire contract lives, found from this module, not the working directory. */
export const PROTO_PATH: string = fileURLToPath(
  new URL("../../protos/route_guide.proto", import.meta.url),
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

/** Loads `protos/route_guide.proto` into a package definition. */
export function loadRouteGuidePackage(): PackageDefinition {
  return loadSync(PROTO_PATH, PROTO_LOADER_OPTIONS);
}
