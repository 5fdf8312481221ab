/**
 * Server reflection (`grpc.reflection.v1` and `v1alpha`) from the committed
 * descriptor set. @grpc/reflection answers the requests, but its
 * `addToServer()` parses its own `.proto` text twice (once per version) at
 * every start; the service definitions here come from the descriptor set
 * instead, and the requests go to the answering method of the package's
 * (private) v1 implementation: the one reach into @grpc/reflection, kept to
 * this module and checked by `tests/grpc/reflection_test.ts`.
 *
 * The messages decoded from the descriptor set keep the proto's snake_case
 * field names, and @grpc/reflection reads and writes camelCase ones: the
 * names are translated at this boundary ({@linkcode renameKeys}).
 *
 * The files it describes are protoc's own (`--include_imports`), so map
 * entries carry the names protoc gives them (`StatusesEntry`), which pools
 * that check what they load (grpcurl, buf curl) require.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import type { MessageTypeDefinition, PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { loadRouteGuidePackage } from "./proto.ts";

/**
 * How @grpc/reflection's messages are decoded (its `PROTO_LOADER_OPTS`,
 * bar the case of field names: a descriptor set keeps the proto's
 * snake_case names, whatever `keepCase` says; see {@linkcode renameKeys}).
 */
const REFLECTION_LOADER_OPTIONS = {
  longs: String,
  enums: String,
  bytes: Array,
  defaults: true,
  oneofs: true,
};

/** `list_services` → `listServices`. */
const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** `listServicesResponse` → `list_services_response`. */
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A copy of a decoded message (plain objects and arrays; bytes and other
 * values as they are) with every field name passed through `rename`, and
 * every string value that names a field (a oneof's case) too.
 *
 * @example
 * ```ts
 * import { renameKeys } from "./reflection.ts";
 * import assert from "node:assert/strict";
 * const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
 * assert.deepEqual(
 *   renameKeys({ file_by_filename: "a.proto", message_request: "file_by_filename" }, camel),
 *   { fileByFilename: "a.proto", messageRequest: "fileByFilename" },
 * );
 * ```
 */
export function renameKeys(value: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => renameKeys(item, rename));
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  const fields = new Set(Object.keys(value));
  for (const [key, item] of Object.entries(value)) {
    // A oneof's virtual field holds the name of the field that is set.
    const isCase = typeof item === "string" && fields.has(item);
    out[rename(key)] = isCase ? rename(item) : renameKeys(item, rename);
  }
  return out;
}

/** The reflection service of each version this server lists. */
const REFLECTION_SERVICES = ["grpc.reflection.v1", "grpc.reflection.v1alpha"].map((pkg) =>
  `${pkg}.ServerReflection`
);

/** Answers one reflection request (a decoded `ServerReflectionRequest`). */
export type ReflectionAnswer = (request: unknown) => unknown;

/**
 * Splits a serialized `FileDescriptorSet` into its serialized
 * `FileDescriptorProto`s (field 1, length-delimited), unchanged.
 *
 * @example
 * ```ts
 * import { descriptorSetFiles } from "./reflection.ts";
 * import assert from "node:assert/strict";
 * // Two files: tag 0x0a, length, bytes.
 * const set = new Uint8Array([0x0a, 2, 1, 2, 0x0a, 1, 3]);
 * assert.deepEqual(descriptorSetFiles(set).map((f) => [...f]), [[1, 2], [3]]);
 * ```
 */
export function descriptorSetFiles(descriptorSet: Uint8Array): Buffer[] {
  const files: Buffer[] = [];
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= descriptorSet.length) break;
      const byte = descriptorSet[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error(`descriptor set: a truncated or overlong varint at byte ${at}`);
  };
  while (at < descriptorSet.length) {
    const tag = varint();
    if (tag !== 0x0a) throw new Error(`descriptor set: unexpected field tag ${tag} at byte ${at}`);
    const length = varint();
    if (at + length > descriptorSet.length) {
      throw new Error(`descriptor set: a file of ${length} bytes runs past the end at byte ${at}`);
    }
    files.push(Buffer.from(descriptorSet.subarray(at, at + length)));
    at += length;
  }
  return files;
}

/**
 * The answering method of a {@linkcode ReflectionService}: its v1
 * implementation's `handleServerReflectionRequest` (v1alpha's is the same
 * method on the same files). Throws, naming what is missing, when an
 * @grpc/reflection upgrade moved it.
 */
export function reflectionAnswer(service: ReflectionService): ReflectionAnswer {
  const v1 = (service as unknown as { v1?: { handleServerReflectionRequest?: unknown } }).v1;
  const answer = v1?.handleServerReflectionRequest;
  if (typeof answer !== "function") {
    throw new Error(
      "@grpc/reflection has no ReflectionService.v1.handleServerReflectionRequest: " +
        "update lib/grpc/reflection.ts for this version",
    );
  }
  return (request) => answer.call(v1, request);
}

/**
 * What to describe: one entry carrying protoc's files. ReflectionService
 * reads only `fileDescriptorProtos`, and decodes them again for every entry
 * of a package definition (proto-loader puts the same files in each).
 */
function describedFiles(files: Buffer[], pkg: PackageDefinition): PackageDefinition {
  const message = Object.values(pkg).find((value): value is MessageTypeDefinition<object, object> =>
    "format" in value && "serialize" in value
  );
  if (message === undefined) throw new Error("descriptor set: no message type to carry its files");
  return { files: { ...message, fileDescriptorProtos: files } };
}

/**
 * Adds reflection v1 and v1alpha to `server`, describing every file of
 * `descriptorSet` (RouteGuide, health and reflection itself, as grpc-go's
 * and grpc-java's servers list themselves).
 */
export function addReflection(server: grpc.Server, descriptorSet: Uint8Array): void {
  const definitions = loadRouteGuidePackage(descriptorSet, REFLECTION_LOADER_OPTIONS);
  const answer = reflectionAnswer(
    new ReflectionService(describedFiles(descriptorSetFiles(descriptorSet), definitions)),
  );
  for (const name of REFLECTION_SERVICES) {
    server.addService(definitions[name] as grpc.ServiceDefinition, {
      // What @grpc/reflection's own addToServer() does: one answer per request.
      ServerReflectionInfo: (stream: grpc.ServerDuplexStream<unknown, unknown>) => {
        stream.on("end", () => stream.end());
        stream.on("data", (request) => {
          stream.write(renameKeys(answer(renameKeys(request, camel)), snake));
        });
      },
    });
  }
}
