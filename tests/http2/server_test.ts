/** Which requests lib/http2/server.ts hands to grpc-js raw: gRPC's own content types only. */

import assert from "node:assert/strict";
import { isPlainGrpc } from "../../lib/http2/server.ts";

Deno.test("isPlainGrpc(): application/grpc and application/grpc+proto, with or without parameters", () => {
  for (
    const type of [
      "application/grpc",
      "application/grpc+proto",
      "application/grpc;charset=utf-8",
      "application/grpc+proto; x=y",
    ]
  ) {
    assert.ok(isPlainGrpc(type), type);
  }
  for (
    const type of [
      "application/grpc-web",
      "application/grpc-web+proto",
      "application/grpc-web-text",
      "application/grpc+json",
      "application/grpc+protobuf",
      "application/grpcx",
      "application/json",
      "",
      undefined,
      42,
    ]
  ) {
    assert.ok(!isPlainGrpc(type), String(type));
  }
});
