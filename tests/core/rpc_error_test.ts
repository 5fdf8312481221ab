import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { Code, codeName } from "../../lib/core/rpc_error.ts";

Deno.test("Code has every gRPC status code, with grpc-js's names and values", () => {
  const grpcJs = Object.fromEntries(
    Object.entries(status).filter(([name]) => Number.isNaN(Number(name))),
  );
  assert.deepEqual({ ...Code }, grpcJs);
  assert.equal(Object.keys(Code).length, 17);
});

Deno.test("codeName() names every code, and falls back to CODE_N past the table", () => {
  assert.equal(codeName(16), "UNAUTHENTICATED");
  assert.equal(codeName(15), "DATA_LOSS");
  assert.equal(codeName(0), "OK");
  assert.equal(codeName(17), "CODE_17");
});
