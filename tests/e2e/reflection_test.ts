/**
 * gRPC server reflection (npm:@grpc/reflection) against the real server
 * process, through a grpc-js reflection client built here from the
 * reflection protos that ship in that package, for both
 * `grpc.reflection.v1.ServerReflection` and
 * `grpc.reflection.v1alpha.ServerReflection`:
 *
 * - `list_services` names RouteGuide and Health;
 * - `file_containing_symbol` returns FileDescriptorProtos, decoded here with
 *   protobufjs' descriptor extension (reached through @grpc/proto-loader,
 *   which depends on protobufjs), in which RouteGuide has exactly its four
 *   methods with the right streaming flags;
 * - an unknown symbol gets an `error_response` with NOT_FOUND;
 * - and an independent client (Python grpcio and protobuf, no .proto file of
 *   ours, `tests/interop/reflection_check.py`) fetches every listed service's
 *   file and its imports over both versions, loads them into a protobuf
 *   DescriptorPool (which checks them as protoc would), and calls Health and
 *   RouteGuide through message classes built from them; the `--health-port`
 *   listener lists nothing it cannot describe.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { Code } from "../../lib/core/rpc_error.ts";
import { assertPythonChecksPass, pythonTest } from "../_python.ts";
import { ROOT, startServer, waitForStderr } from "../_server.ts";
import { STEP_MS } from "../_async.ts";

/** The `.proto` files inside the installed @grpc/reflection package. */
const REFLECTION_PROTO_DIR = fileURLToPath(
  new URL("../proto/", import.meta.resolve("@grpc/reflection")),
);
const VERSIONS = ["v1", "v1alpha"] as const;

const reflectionPackage = grpc.loadPackageDefinition(
  loadSync(VERSIONS.map((v) => `grpc/reflection/${v}/reflection.proto`), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
    includeDirs: [REFLECTION_PROTO_DIR],
  }),
  // deno-lint-ignore no-explicit-any
) as any;

/** `FileDescriptorProto` from protobufjs, as bundled with @grpc/proto-loader. */
interface MethodDescriptor {
  name: string;
  inputType: string;
  outputType: string;
  clientStreaming?: boolean;
  serverStreaming?: boolean;
}
interface FileDescriptor {
  name: string;
  package: string;
  service: { name: string; method: MethodDescriptor[] }[];
  messageType: { name: string }[];
}
const { FileDescriptorProto } = createRequire(
  fileURLToPath(import.meta.resolve("@grpc/proto-loader")),
)("protobufjs/ext/descriptor") as {
  FileDescriptorProto: { decode(bytes: Uint8Array): FileDescriptor };
};

/** A reflection request: exactly one of the `message_request` fields. */
type ReflectionRequest =
  | { list_services: string }
  | { file_containing_symbol: string }
  | { file_by_filename: string };

/** The response fields the tests read. */
interface ReflectionResponse {
  message_response: string;
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Uint8Array[] };
  error_response?: { error_code: number; error_message: string };
}

/** Sends the requests on one ServerReflectionInfo stream; resolves to the responses, in order. */
async function reflect(
  target: string,
  version: typeof VERSIONS[number],
  requests: ReflectionRequest[],
): Promise<ReflectionResponse[]> {
  const Client = reflectionPackage.grpc.reflection[version].ServerReflection;
  const client: grpc.Client = new Client(target, grpc.credentials.createInsecure());
  try {
    // deno-lint-ignore no-explicit-any
    const call: grpc.ClientDuplexStream<ReflectionRequest, ReflectionResponse> = (client as any)
      .ServerReflectionInfo({ deadline: Date.now() + STEP_MS });
    for (const request of requests) call.write(request);
    call.end();
    const responses: ReflectionResponse[] = [];
    for await (const response of call) responses.push(response);
    assert.equal(responses.length, requests.length, "one response per request");
    return responses;
  } finally {
    client.close();
  }
}

function decodeAll(response: ReflectionResponse): FileDescriptor[] {
  assert.equal(response.message_response, "file_descriptor_response", JSON.stringify(response));
  const files = response.file_descriptor_response!.file_descriptor_proto;
  assert.ok(files.length > 0, "no file descriptors");
  return files.map((bytes) => FileDescriptorProto.decode(bytes));
}

for (const version of VERSIONS) {
  const service = `grpc.reflection.${version}.ServerReflection`;

  Deno.test(`${service}: list_services names RouteGuide and Health`, async () => {
    await using server = await startServer();
    const [response] = await reflect(server.target, version, [{ list_services: "*" }]);
    assert.equal(response.message_response, "list_services_response", JSON.stringify(response));
    const names = response.list_services_response!.service.map((s) => s.name);
    assert.ok(names.includes("routeguide.RouteGuide"), names.join(", "));
    assert.ok(names.includes("grpc.health.v1.Health"), names.join(", "));
    assert.equal(new Set(names).size, names.length, `listed twice: ${names.join(", ")}`);
  });

  Deno.test({
    name: `${service}: list_services names the reflection services too`,
    // @grpc/reflection lists only the package it is given; lib/grpc/server.ts adds
    // the reflection protos to it, as grpc-go and grpc-java list themselves.
    async fn() {
      await using server = await startServer();
      const [response] = await reflect(server.target, version, [{ list_services: "*" }]);
      const names = response.list_services_response!.service.map((s) => s.name);
      for (const v of VERSIONS) {
        assert.ok(names.includes(`grpc.reflection.${v}.ServerReflection`), names.join(", "));
      }
    },
  });

  Deno.test(`${service}: file_containing_symbol describes RouteGuide's four methods`, async () => {
    await using server = await startServer();
    const [byService, byMethod, byMessage, health] = await reflect(server.target, version, [
      { file_containing_symbol: "routeguide.RouteGuide" },
      { file_containing_symbol: "routeguide.RouteGuide.RouteChat" },
      { file_containing_symbol: "routeguide.RouteSummary" },
      { file_containing_symbol: "grpc.health.v1.Health" },
    ]);
    const files = decodeAll(byService);
    const withService = files.filter((f) => f.service.some((s) => s.name === "RouteGuide"));
    assert.equal(withService.length, 1, files.map((f) => f.name).join(", "));
    const [file] = withService;
    assert.equal(file.package, "routeguide");
    assert.ok(file.name.endsWith(".proto"), file.name);
    assert.deepEqual(file.service.map((s) => s.name), ["RouteGuide"]);
    const methods = file.service[0].method.map((m) => ({
      name: m.name,
      input: m.inputType,
      output: m.outputType,
      clientStreaming: m.clientStreaming ?? false,
      serverStreaming: m.serverStreaming ?? false,
    }));
    assert.deepEqual(methods, [
      {
        name: "GetFeature",
        input: ".routeguide.Point",
        output: ".routeguide.Feature",
        clientStreaming: false,
        serverStreaming: false,
      },
      {
        name: "ListFeatures",
        input: ".routeguide.Rectangle",
        output: ".routeguide.Feature",
        clientStreaming: false,
        serverStreaming: true,
      },
      {
        name: "RecordRoute",
        input: ".routeguide.Point",
        output: ".routeguide.RouteSummary",
        clientStreaming: true,
        serverStreaming: false,
      },
      {
        name: "RouteChat",
        input: ".routeguide.RouteNote",
        output: ".routeguide.RouteNote",
        clientStreaming: true,
        serverStreaming: true,
      },
    ]);
    assert.deepEqual(
      file.messageType.map((m) => m.name).sort(),
      ["Feature", "Point", "Rectangle", "RouteNote", "RouteSummary"],
    );
    // A method's or a message's name finds the same file.
    for (const response of [byMethod, byMessage]) {
      assert.ok(
        decodeAll(response).some((f) => f.name === file.name && f.package === "routeguide"),
      );
    }
    // The health service is described too.
    const healthFiles = decodeAll(health);
    assert.ok(
      healthFiles.some((f) =>
        f.package === "grpc.health.v1" &&
        f.service.some((s) =>
          s.name === "Health" &&
          ["Check", "Watch"].every((name) => s.method.some((m) => m.name === name))
        )
      ),
      healthFiles.map((f) => `${f.name} (${f.package})`).join(", "),
    );
  });

  Deno.test(`${service}: an unknown symbol gets NOT_FOUND in an error_response`, async () => {
    await using server = await startServer();
    const [response, after] = await reflect(server.target, version, [
      { file_containing_symbol: "no.such.Service" },
      { list_services: "*" },
    ]);
    assert.equal(response.message_response, "error_response", JSON.stringify(response));
    assert.equal(response.error_response!.error_code, Code.NOT_FOUND);
    assert.match(response.error_response!.error_message, /no\.such\.Service/);
    // The stream carries on after an error response.
    assert.equal(after.message_response, "list_services_response");
  });
}

pythonTest(
  "reflection interop: a Python client describes and calls every listed service by reflection alone",
  async (python) => {
    await using server = await startServer({ args: ["--health-port", "0"] });
    const [, healthPort] = await waitForStderr(
      server,
      /health checks in plaintext on 127\.0\.0\.1:(\d+)/,
    );
    const script = `${ROOT}tests/interop/reflection_check.py`;
    const args = [script, "--target", server.target, "--health-target", `127.0.0.1:${healthPort}`];
    await assertPythonChecksPass(python, [...args, "--db", `${ROOT}data/route_guide_db.json`], {
      summary: "python reflection",
      context: () => `--- server stderr ---\n${server.stderr()}`,
    });
  },
);
