/**
 * The descriptor set half of `deno task gen`: compiles `protos/route_guide.proto`,
 * with the health and reflection protos the server also serves, into one
 * `FileDescriptorSet` (`protos/route_guide.binpb`) with Debian's `protoc`
 * (`--include_imports`, so every type resolves, and with the `json_name` of
 * every field that proto-loader's descriptors lack). The web protocols read
 * it to map canonical proto3 JSON to the binary messages grpc-js serves.
 *
 * `tests/grpc/generated_test.ts` builds it again into a temporary folder and
 * fails when the committed file differs.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

const ROOT_PATH = fileURLToPath(new URL("../", import.meta.url));

/** The committed descriptor set, relative to the project root. */
export const DESCRIPTOR_SET = "protos/route_guide.binpb";

/** The folder holding a package's proto, resolved through the import map. */
function protoRoot(specifier: string, relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.resolve(specifier)));
}

/** The `-I` folders and the files protoc compiles, in a fixed order. */
function protocInputs(): { includes: string[]; files: string[] } {
  // Each package's proto keeps the path it has in the package (protoc names
  // files by their path under -I).
  const health = protoRoot("grpc-health-check", "../../proto/");
  const reflection = protoRoot("@grpc/reflection", "../proto/");
  return {
    includes: [`${ROOT_PATH}protos`, health, reflection],
    files: [
      "route_guide.proto",
      "health/v1/health.proto",
      "grpc/reflection/v1/reflection.proto",
      "grpc/reflection/v1alpha/reflection.proto",
    ],
  };
}

/** Runs protoc and writes the descriptor set to `outFile` (absolute, or relative to the root). */
export async function generateDescriptorSet(outFile: string): Promise<void> {
  const out = outFile.startsWith("/") ? outFile : `${ROOT_PATH}${outFile}`;
  const { includes, files } = protocInputs();
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("protoc", {
      args: [
        ...includes.map((dir) => `-I${dir}`),
        "--include_imports",
        `--descriptor_set_out=${out}`,
        ...files,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error("protoc is not installed: apt-get install protobuf-compiler");
  }
  if (result.code !== 0) {
    throw new Error(`protoc failed:\n${new TextDecoder().decode(result.stderr)}`);
  }
}

if (import.meta.main) {
  await generateDescriptorSet(DESCRIPTOR_SET);
  console.log(`regenerated ${DESCRIPTOR_SET}`);
}
