/**
 * Makes the file descriptors that @grpc/proto-loader hands out valid for
 * every descriptor pool, so that server reflection can describe all it lists.
 *
 * proto-loader builds its `fileDescriptorProtos` with protobufjs, which names
 * the message it makes for a `map<K, V> statuses` field `Statuses`. protoc
 * names it `StatusesEntry`, and the pools that check what they load (Go's
 * protodesc behind grpcurl and buf curl, the C++ and Python pools) reject a
 * file with any other name, and with it every service in that file: the
 * health proto's `HealthListResponse.statuses` made `grpc.health.v1.Health`
 * undescribable. Reported upstream as fullstorydev/grpcurl#519; protobufjs
 * 7.6.6 (and its 8.x line) still name entries this way.
 *
 * Depends on protobufjs's descriptor extension only; no grpc-js.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { PackageDefinition } from "@grpc/proto-loader";
import descriptor from "protobufjs/ext/descriptor/index.js";

/** `FieldDescriptorProto.Label.LABEL_REPEATED`. */
const LABEL_REPEATED = 3;
/** `FieldDescriptorProto.Type.TYPE_MESSAGE`. */
const TYPE_MESSAGE = 11;

/** The parts of a decoded `FieldDescriptorProto` read and changed here. */
interface FieldProto {
  name: string;
  label?: number;
  type?: number;
  typeName?: string;
}

/** The parts of a decoded `DescriptorProto` read and changed here. */
interface MessageProto {
  name: string;
  field: FieldProto[];
  nestedType: MessageProto[];
  options?: { mapEntry?: boolean } | null;
}

/** The parts of a decoded `FileDescriptorProto` read here. */
interface FileProto {
  package?: string;
  messageType: MessageProto[];
}

/**
 * The name protoc gives the entry message of a map field: the field name in
 * CamelCase (an underscore drops out and capitalizes the next letter), then
 * `Entry`.
 *
 * @example
 * ```ts
 * import { mapEntryName } from "./descriptors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mapEntryName("statuses"), "StatusesEntry");
 * assert.equal(mapEntryName("notes_by_place"), "NotesByPlaceEntry");
 * ```
 */
export function mapEntryName(fieldName: string): string {
  let name = "";
  let upper = true;
  for (const char of fieldName) {
    if (char === "_") {
      upper = true;
    } else {
      name += upper && char >= "a" && char <= "z" ? char.toUpperCase() : char;
      upper = false;
    }
  }
  return `${name}Entry`;
}

/**
 * Renames the map entries of `message` (fully qualified as `scope.name`) and
 * of the messages nested in it; says whether it changed anything.
 */
function renameMapEntries(message: MessageProto, scope: string): boolean {
  const fullName = `${scope}.${message.name}`;
  let changed = false;
  for (const field of message.field) {
    if (field.label !== LABEL_REPEATED || field.type !== TYPE_MESSAGE) continue;
    // protobufjs refers to the entry by its bare name; accept a full one too.
    const entry = message.nestedType.find((nested) =>
      nested.options?.mapEntry === true &&
      (field.typeName === nested.name || field.typeName === `${fullName}.${nested.name}`)
    );
    if (entry === undefined) continue;
    const name = mapEntryName(field.name);
    if (entry.name === name) continue;
    entry.name = name;
    field.typeName = `${fullName}.${name}`;
    changed = true;
  }
  for (const nested of message.nestedType) {
    if (renameMapEntries(nested, fullName)) changed = true;
  }
  return changed;
}

/** One serialized `FileDescriptorProto` with its map entries named as protoc names them. */
function withNamedMapEntries(bytes: Uint8Array): Buffer {
  const decoded = descriptor.FileDescriptorProto.decode(bytes);
  const file = decoded as unknown as FileProto;
  const scope = file.package ? `.${file.package}` : "";
  let changed = false;
  for (const message of file.messageType) {
    if (renameMapEntries(message, scope)) changed = true;
  }
  const out = changed ? descriptor.FileDescriptorProto.encode(decoded).finish() : bytes;
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * A copy of `definition` whose file descriptors (`fileDescriptorProtos`,
 * what @grpc/reflection serves) name map entry messages as protoc does, so
 * that any reflection client can load them. Everything else is shared with
 * `definition`, which is left as it was.
 *
 * @example
 * ```ts
 * import { loadSync } from "@grpc/proto-loader";
 * import { protoPath } from "grpc-health-check";
 * import { withStandardMapEntries } from "./descriptors.ts";
 * import assert from "node:assert/strict";
 * import descriptor from "protobufjs/ext/descriptor/index.js";
 *
 * const fixed = withStandardMapEntries(loadSync(protoPath, { keepCase: true }));
 * const { fileDescriptorProtos } = fixed["grpc.health.v1.HealthListResponse"] as {
 *   fileDescriptorProtos: Uint8Array[];
 * };
 * const file = descriptor.FileDescriptorProto.toObject(
 *   descriptor.FileDescriptorProto.decode(fileDescriptorProtos[0]),
 * );
 * const list = file.messageType.find((m: { name: string }) => m.name === "HealthListResponse");
 * assert.equal(list.nestedType[0].name, "StatusesEntry");
 * assert.equal(list.field[0].typeName, ".grpc.health.v1.HealthListResponse.StatusesEntry");
 * ```
 */
export function withStandardMapEntries(definition: PackageDefinition): PackageDefinition {
  // proto-loader shares one array of files among the types of a load.
  const done = new Map<Uint8Array, Buffer>();
  const fix = (bytes: Uint8Array) => {
    let fixed = done.get(bytes);
    if (fixed === undefined) {
      fixed = withNamedMapEntries(bytes);
      done.set(bytes, fixed);
    }
    return fixed;
  };
  return Object.fromEntries(
    Object.entries(definition).map(([name, value]) => {
      const files = (value as { fileDescriptorProtos?: unknown }).fileDescriptorProtos;
      return Array.isArray(files)
        ? [name, { ...value, fileDescriptorProtos: files.map(fix) }]
        : [name, value];
    }),
  );
}
