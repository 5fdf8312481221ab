/**
 * `lib/grpc/descriptors.ts`: map entry messages in proto-loader's file
 * descriptors get the names protoc gives them, at any depth, in files with
 * and without a package, and nothing else changes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { mapEntryName, withStandardMapEntries } from "../../lib/grpc/descriptors.ts";
import { PROTO_LOADER_OPTIONS } from "../../lib/grpc/proto.ts";

/** A decoded `DescriptorProto`, as plain data, as far as the tests read it. */
interface Message {
  name: string;
  field?: { name: string; label: number; typeName?: string }[];
  nestedType?: Message[];
  options?: { mapEntry?: boolean };
}

/** A decoded `FileDescriptorProto`, as plain data, as far as the tests read it. */
interface File {
  name: string;
  package?: string;
  messageType: Message[];
}

const MAPS_PROTO = `syntax = "proto3";
package demo.v1;

enum Colour { RED = 0; GREEN = 1; }

message Outer {
  map<string, int32> counts = 1;
  map<int64, Inner> inner_by_id = 2;
  repeated Inner items = 3;
  message Inner {
    map<string, Colour> colour_of = 1;
  }
}
`;

const NO_PACKAGE_PROTO = `syntax = "proto3";

message Loose {
  map<string, string> labels = 1;
}
`;

const PLAIN_PROTO = `syntax = "proto3";
package plain;

message Point { int32 x = 1; repeated int32 more = 2; }

service Points { rpc Get(Point) returns (Point); }
`;

/** Loads proto sources (name → text) into one package definition. */
async function load(sources: Record<string, string>): Promise<PackageDefinition> {
  const dir = await Deno.makeTempDir({ prefix: "descriptors_test_" });
  try {
    for (const [name, text] of Object.entries(sources)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    return loadSync(Object.keys(sources), { ...PROTO_LOADER_OPTIONS, includeDirs: [dir] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The files of a definition's type `name`, decoded, by file name
 * (proto-loader names a file after its package: `demo_v1.proto`, or
 * `root.proto` for a file without one).
 */
function files(definition: PackageDefinition, name: string): Map<string, File> {
  const bytes = (definition[name] as { fileDescriptorProtos: Uint8Array[] }).fileDescriptorProtos;
  return new Map(bytes.map((b) => {
    const file = descriptor.FileDescriptorProto.toObject(
      descriptor.FileDescriptorProto.decode(b),
    ) as File;
    return [file.name, file];
  }));
}

function message(parent: { messageType?: Message[]; nestedType?: Message[] }, name: string) {
  const found = (parent.messageType ?? parent.nestedType ?? []).find((m) => m.name === name);
  assert.ok(found, `no message ${name}`);
  return found;
}

function field(parent: Message, name: string) {
  const found = parent.field?.find((f) => f.name === name);
  assert.ok(found, `no field ${name} in ${parent.name}`);
  return found;
}

Deno.test("mapEntryName() follows protoc: CamelCase of the field name, then Entry", () => {
  assert.equal(mapEntryName("statuses"), "StatusesEntry");
  assert.equal(mapEntryName("inner_by_id"), "InnerByIdEntry");
  assert.equal(mapEntryName("colour_of"), "ColourOfEntry");
  // Only a letter after an underscore (or at the start) is capitalized.
  assert.equal(mapEntryName("already_Camel"), "AlreadyCamelEntry");
  assert.equal(mapEntryName("x_1y"), "X1yEntry");
  assert.equal(mapEntryName("a__b"), "ABEntry");
});

Deno.test("withStandardMapEntries() names map entries as protoc does, nested ones too", async () => {
  const definition = await load({ "maps.proto": MAPS_PROTO, "loose.proto": NO_PACKAGE_PROTO });
  const before = files(definition, "demo.v1.Outer");
  // What protobufjs makes, and the reason for this module.
  assert.deepEqual(
    message(message(before.get("demo_v1.proto")!, "Outer"), "Counts").options,
    { mapEntry: true },
  );

  const after = files(withStandardMapEntries(definition), "demo.v1.Outer");
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  const outer = message(after.get("demo_v1.proto")!, "Outer");
  assert.deepEqual(outer.nestedType!.map((m) => m.name).sort(), [
    "CountsEntry",
    "Inner",
    "InnerByIdEntry",
  ]);
  for (const [fieldName, entry] of [["counts", "CountsEntry"], ["inner_by_id", "InnerByIdEntry"]]) {
    const f = field(outer, fieldName);
    assert.equal(f.typeName, `.demo.v1.Outer.${entry}`);
    assert.equal(f.label, 3, "a map field stays repeated");
    assert.deepEqual(message(outer, entry).options, { mapEntry: true });
  }
  // Nothing else changes: the entries' own fields (so the value type is
  // still found from the entry), a repeated field that is not a map, and
  // the rest of the message.
  const outerBefore = message(before.get("demo_v1.proto")!, "Outer");
  // protobufjs names the entries after the field with its first letter raised.
  for (const [was, is] of [["Counts", "CountsEntry"], ["Inner_by_id", "InnerByIdEntry"]]) {
    assert.deepEqual(message(outer, is).field, message(outerBefore, was).field);
  }
  assert.deepEqual(field(outer, "items"), field(outerBefore, "items"));
  assert.deepEqual(
    message(outer, "Inner").field,
    message(outerBefore, "Inner").field!.map((f) =>
      f.name === "colour_of" ? { ...f, typeName: ".demo.v1.Outer.Inner.ColourOfEntry" } : f
    ),
  );
  // A map in a nested message.
  const inner = message(outer, "Inner");
  assert.equal(field(inner, "colour_of").typeName, ".demo.v1.Outer.Inner.ColourOfEntry");
  assert.deepEqual(
    message(inner, "ColourOfEntry").field,
    message(message(outerBefore, "Inner"), "Colour_of").field,
  );
  // A file without a package.
  const loose = message(after.get("root.proto")!, "Loose");
  assert.equal(field(loose, "labels").typeName, ".Loose.LabelsEntry");
  assert.equal(message(loose, "LabelsEntry").options?.mapEntry, true);

  // The definition given is left as it was.
  const again = files(definition, "demo.v1.Outer").get("demo_v1.proto")!;
  assert.deepEqual(again, before.get("demo_v1.proto"));
});

Deno.test("withStandardMapEntries() leaves files without maps, and other types, as they were", async () => {
  const definition = await load({ "plain.proto": PLAIN_PROTO, "maps.proto": MAPS_PROTO });
  const fixed = withStandardMapEntries(definition);
  assert.deepEqual(Object.keys(fixed), Object.keys(definition));
  const bytes = (d: PackageDefinition) =>
    (d["plain.Point"] as { fileDescriptorProtos: Uint8Array[] }).fileDescriptorProtos;
  const plainBefore = bytes(definition).findIndex((b) =>
    descriptor.FileDescriptorProto.decode(b).toJSON().name === "plain.proto"
  );
  assert.ok(plainBefore >= 0);
  assert.deepEqual(
    new Uint8Array(bytes(fixed)[plainBefore]),
    new Uint8Array(bytes(definition)[plainBefore]),
  );
  // Everything but the file descriptors is shared: the message's own type and format.
  const { fileDescriptorProtos: _a, ...restFixed } = fixed["plain.Point"] as Record<
    string,
    unknown
  >;
  const { fileDescriptorProtos: _b, ...restBefore } = definition["plain.Point"] as Record<
    string,
    unknown
  >;
  assert.deepEqual(restFixed, restBefore);
  assert.equal(restFixed.type, restBefore.type);
  // A service's definition has no files and comes through as it was.
  assert.equal(fixed["plain.Points"], definition["plain.Points"]);
});
