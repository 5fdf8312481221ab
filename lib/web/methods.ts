/**
 * The method table of the services a descriptor set describes, and the
 * canonical proto3 JSON mapping (https://protobuf.dev/programming-guides/json/)
 * of each method's messages, through `@bufbuild/protobuf`: the web protocols'
 * JSON codecs turn JSON into the binary messages grpc-js serves, and back.
 *
 * The caller reads the descriptor set (`protos/route_guide.binpb`) and passes
 * its bytes: this module reads no files.
 *
 * @example Looking up a method and converting its request
 * ```ts ignore
 * const table = loadMethodTable(await Deno.readFile("protos/route_guide.binpb"));
 * const method = table.lookup("/routeguide.RouteGuide/GetFeature")!;
 * const binary = method.requestFromJson(new TextEncoder().encode('{"latitude":1}'));
 * ```
 *
 * @module
 */

import {
  createFileRegistry,
  type DescMessage,
  type DescMethod,
  fromBinary,
  fromJson,
  type JsonReadOptions,
  type JsonValue,
  type JsonWriteStringOptions,
  type Registry,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { isFieldError } from "@bufbuild/protobuf/reflect";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** The four RPC kinds, named as `@bufbuild/protobuf` and connect-es name them. */
export type MethodKind = "unary" | "server_streaming" | "client_streaming" | "bidi_streaming";

/** One RPC method: its path, kind, and the JSON ↔ binary converters of its messages. */
export interface MethodInfo {
  /** The HTTP path gRPC and the web protocols call it by: `/routeguide.RouteGuide/GetFeature`. */
  readonly path: string;
  /** Which of the four RPC kinds it is. */
  readonly kind: MethodKind;
  /** Whether it is marked `idempotency_level = NO_SIDE_EFFECTS` (Connect may serve it over GET). */
  readonly noSideEffects: boolean;
  /** Request JSON (UTF-8; both name forms, unknown fields ignored) → binary; throws {@linkcode JsonInputError}. */
  requestFromJson(json: Uint8Array): Uint8Array;
  /** Response binary → canonical JSON (lowerCamelCase names, no default values). */
  responseToJson(binary: Uint8Array): Uint8Array;
  /** Request binary → canonical JSON. */
  requestToJson(binary: Uint8Array): Uint8Array;
  /** Response JSON → binary; throws {@linkcode JsonInputError}. */
  responseFromJson(json: Uint8Array): Uint8Array;
}

/** The methods of every service in a descriptor set, by path. */
export interface MethodTable {
  /** The method at `path` (`/package.Service/Method`), or `undefined`. */
  lookup(path: string): MethodInfo | undefined;
}

/**
 * JSON that does not map to the message: malformed JSON, a wrong type, an
 * out-of-range integer. The message names the message type, field and value;
 * the web protocols answer it with `invalid_argument`.
 */
export class JsonInputError extends Error {
  /** Makes the error; `name` reads `JsonInputError`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JsonInputError";
  }
}

// Built once and shared by every call: the options objects are read-only to
// the library, and making them per call would cost an allocation each.
const JSON_READ: Partial<JsonReadOptions> = { ignoreUnknownFields: true };
const JSON_WRITE: Partial<JsonWriteStringOptions> = {
  alwaysEmitImplicit: false,
  useProtoFieldName: false,
  enumAsInteger: false,
};
// Unknown fields cannot be written as JSON, so keeping them is wasted work.
const BINARY_READ = { readUnknownFields: false };

const encoder = new TextEncoder();
// A fatal decoder costs about as much as the rest of a small request's
// decoding; the lenient one marks bad bytes with U+FFFD, and only then does
// the fatal one look (a real U+FFFD in the JSON is rare and still accepted).
const lenientDecoder = new TextDecoder("utf-8");
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Loads the table from a serialized `google.protobuf.FileDescriptorSet` (built with `--include_imports`). */
export function loadMethodTable(descriptorSet: Uint8Array): MethodTable {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const methods = new Map<string, MethodInfo>();
  for (const type of registry) {
    if (type.kind !== "service") continue;
    for (const method of type.methods) {
      const info = methodInfo(method, registry);
      methods.set(info.path, info);
    }
  }
  return { lookup: (path) => methods.get(path) };
}

/** One method's entry, its schemas resolved once so that each call does no look-up. */
function methodInfo(method: DescMethod, registry: Registry): MethodInfo {
  const readOptions = { ...JSON_READ, registry };
  const writeOptions = { ...JSON_WRITE, registry };
  const { input, output } = method;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    kind: method.methodKind,
    // IdempotencyLevel.NO_SIDE_EFFECTS is 1 in descriptor.proto.
    noSideEffects: method.idempotency === 1,
    requestFromJson: (json) => jsonToBinary(input, json, readOptions),
    responseToJson: (binary) => binaryToJson(output, binary, writeOptions),
    requestToJson: (binary) => binaryToJson(input, binary, writeOptions),
    responseFromJson: (json) => jsonToBinary(output, json, readOptions),
  };
}

/** JSON bytes → binary message of `schema`; every failure a {@linkcode JsonInputError}. */
function jsonToBinary(
  schema: DescMessage,
  json: Uint8Array,
  options: Partial<JsonReadOptions>,
): Uint8Array {
  let value: JsonValue;
  try {
    const text = lenientDecoder.decode(json);
    if (text.includes("\uFFFD")) strictDecoder.decode(json);
    value = JSON.parse(text);
  } catch (error) {
    throw new JsonInputError(`invalid JSON for ${schema.typeName}: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const got = Array.isArray(value) ? "an array" : JSON.stringify(value);
    throw new JsonInputError(`invalid JSON for ${schema.typeName}: expected an object, got ${got}`);
  }
  try {
    return toBinary(schema, fromJson(schema, value, options));
  } catch (error) {
    throw jsonInputError(schema, error);
  }
}

/** The library's error, reworded to name the message, field and value. */
function jsonInputError(schema: DescMessage, error: unknown): JsonInputError {
  const cause = error instanceof Error ? error.cause : undefined;
  if (isFieldError(cause)) {
    const field = cause.field();
    return new JsonInputError(
      `invalid JSON for ${field.parent.typeName}: field "${field.name}": ${
        readableReason(cause.message)
      }`,
      { cause: error },
    );
  }
  // A nested message given as a non-object reads "cannot decode message X from JSON: 5".
  const reason = (error as Error).message.replace(/^cannot decode (message )?/, "");
  return new JsonInputError(`invalid JSON for ${schema.typeName}: ${reason}`, { cause: error });
}

/** `expected number (int32), got "x"` → `expected an integer, got "x"`: words a person reads. */
function readableReason(reason: string): string {
  return reason
    .replace(
      /^expected number \((?:u?int|sint|s?fixed)(?:32|64)\), got /,
      "expected an integer, got ",
    )
    .replace(
      /^expected number \(((?:u?int|sint|s?fixed)(?:32|64))\): (.*) out of range$/,
      "expected an integer in the $1 range, got $2",
    );
}

/** Binary message of `schema` → canonical JSON bytes. */
function binaryToJson(
  schema: DescMessage,
  binary: Uint8Array,
  options: Partial<JsonWriteStringOptions>,
): Uint8Array {
  return encoder.encode(toJsonString(schema, fromBinary(schema, binary, BINARY_READ), options));
}
