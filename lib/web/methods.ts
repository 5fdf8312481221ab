/**
 * STAND-IN for the `webparts` branch's methods.ts (same API); replaced on merge.
 *
 * @module
 */

import {
  createFileRegistry,
  type DescMessage,
  fromBinary,
  fromJsonString,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";

/** The kind of an RPC method. */
export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

/** What the web protocols need to know of one method. */
export interface MethodInfo {
  /** `/package.Service/Method`. */
  readonly path: string;
  /** Its kind. */
  readonly kind: MethodKind;
  /** Marked `NO_SIDE_EFFECTS` (Connect GET allowed). */
  readonly noSideEffects: boolean;
  /** Canonical JSON request → binary. */
  requestFromJson(json: Uint8Array): Uint8Array;
  /** Binary response → canonical JSON. */
  responseToJson(binary: Uint8Array): Uint8Array;
  /** Binary request → canonical JSON. */
  requestToJson(binary: Uint8Array): Uint8Array;
  /** Canonical JSON response → binary. */
  responseFromJson(json: Uint8Array): Uint8Array;
}

/** Methods by path. */
export interface MethodTable {
  /** The method at `path`, if any. */
  lookup(path: string): MethodInfo | undefined;
}

/** JSON input that does not fit the message. */
export class JsonInputError extends Error {}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function fromJson(schema: DescMessage, json: Uint8Array): Uint8Array {
  try {
    return toBinary(
      schema,
      fromJsonString(schema, decoder.decode(json), { ignoreUnknownFields: true }),
    );
  } catch (error) {
    throw new JsonInputError(
      `cannot decode ${schema.typeName} from JSON: ${(error as Error).message}`,
    );
  }
}

function toJson(schema: DescMessage, binary: Uint8Array): Uint8Array {
  return encoder.encode(toJsonString(schema, fromBinary(schema, binary)));
}

/** The methods of every service in a FileDescriptorSet. */
export function loadMethodTable(descriptorSet: Uint8Array): MethodTable {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const methods = new Map<string, MethodInfo>();
  for (const file of registry.files) {
    for (const service of file.services) {
      for (const method of service.methods) {
        const path = `/${service.typeName}/${method.name}`;
        methods.set(path, {
          path,
          kind: method.methodKind,
          noSideEffects: method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS,
          requestFromJson: (json) => fromJson(method.input, json),
          responseToJson: (binary) => toJson(method.output, binary),
          requestToJson: (binary) => toJson(method.input, binary),
          responseFromJson: (json) => fromJson(method.output, json),
        });
      }
    }
  }
  return { lookup: (path) => methods.get(path) };
}
