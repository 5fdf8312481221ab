/**
 * `lib/grpc/reflection.ts`: the reach into @grpc/reflection (its v1
 * implementation's answering method) works with the pinned version and fails
 * loudly, naming what is missing, when an upgrade moves it; the committed
 * descriptor set splits into protoc's files unchanged; field names cross
 * the snake_case/camelCase boundary both ways. The services over the wire
 * are in `tests/e2e/reflection_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { ReflectionService } from "@grpc/reflection";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { descriptorSetFiles, reflectionAnswer, renameKeys } from "../../lib/grpc/reflection.ts";
import { readDescriptorSet } from "../../lib/grpc/proto.ts";

/** The four files `deno task gen` compiles, in its order (tools/gen_descriptors.ts). */
const FILES = [
  "route_guide.proto",
  "health/v1/health.proto",
  "grpc/reflection/v1/reflection.proto",
  "grpc/reflection/v1alpha/reflection.proto",
];

/** A package definition carrying `files`, as reflection.ts hands them to ReflectionService. */
function carrying(files: Buffer[]) {
  return {
    files: {
      format: "Protocol Buffer 3 DescriptorProto" as const,
      type: {},
      fileDescriptorProtos: files,
      serialize: () => new Uint8Array(),
      deserialize: () => ({}),
    },
  };
}

Deno.test("descriptorSetFiles: the committed set's four files, each byte for byte as in the set", () => {
  const set = readDescriptorSet();
  const files = descriptorSetFiles(set);
  assert.deepEqual(
    files.map((file) =>
      (descriptor.FileDescriptorProto.decode(file) as unknown as { name: string }).name
    ),
    FILES,
  );
  // Together they are the set less one tag and one length per file.
  const decoded = descriptor.FileDescriptorSet.decode(set) as unknown as { file: unknown[] };
  assert.equal(decoded.file.length, 4);
  const total = files.reduce((sum, file) => sum + file.length, 0);
  assert.ok(set.length - total >= 2 * 4 && set.length - total <= 4 * 4);
  // protoc names the health map's entry `StatusesEntry` (protobufjs would say `Statuses`).
  assert.ok(new TextDecoder().decode(files[1]).includes("StatusesEntry"));
});

Deno.test("descriptorSetFiles: a truncated set or another field is an error naming the byte", () => {
  assert.throws(
    () => descriptorSetFiles(new Uint8Array([0x0a, 5, 1, 2])),
    /5 bytes runs past the end at byte 2/,
  );
  assert.throws(
    () => descriptorSetFiles(new Uint8Array([0x12, 0])),
    /unexpected field tag 18 at byte 1/,
  );
  assert.throws(
    () => descriptorSetFiles(new Uint8Array([0x0a, 0x80])),
    /truncated or overlong varint/,
  );
  assert.deepEqual(descriptorSetFiles(new Uint8Array()), []);
});

Deno.test("@grpc/reflection seam: the v1 answer lists the services of the files it was given", () => {
  const service = new ReflectionService(carrying(descriptorSetFiles(readDescriptorSet())));
  const answer = reflectionAnswer(service);
  const reply = answer({ host: "", listServices: "*", messageRequest: "listServices" }) as {
    listServicesResponse?: { service: { name: string }[] };
  };
  assert.deepEqual(reply.listServicesResponse?.service.map((s) => s.name).sort(), [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "routeguide.RouteGuide",
  ]);
});

Deno.test("@grpc/reflection seam: fails loudly, naming the method, when an upgrade moves it", () => {
  const moved = new ReflectionService(carrying([]));
  delete (moved as unknown as { v1?: unknown }).v1;
  assert.throws(
    () => reflectionAnswer(moved),
    /ReflectionService\.v1\.handleServerReflectionRequest/,
  );
  const renamed = new ReflectionService(carrying([]));
  (renamed as unknown as { v1: object }).v1 = {};
  assert.throws(() => reflectionAnswer(renamed), /update lib\/grpc\/reflection\.ts/);
});

Deno.test("renameKeys: nested objects and arrays renamed, a oneof's case too, bytes left whole", () => {
  const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const bytes = new Uint8Array([1, 2]);
  const out = renameKeys({
    message_request: "file_containing_extension",
    file_containing_extension: { containing_type: "a.B", extension_number: 7 },
    list: [{ error_code: 5 }],
    file_descriptor_proto: [bytes],
    host: "",
  }, camel) as Record<string, unknown>;
  assert.deepEqual(out, {
    messageRequest: "fileContainingExtension",
    fileContainingExtension: { containingType: "a.B", extensionNumber: 7 },
    list: [{ errorCode: 5 }],
    fileDescriptorProto: [bytes],
    host: "",
  });
  assert.equal((out.fileDescriptorProto as Uint8Array[])[0], bytes);
});
