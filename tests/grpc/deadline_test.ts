/**
 * gRPC deadlines with our transport under grpc-js (`lib/http2/server.ts`
 * keeps them, not grpc-js's timer per call): a call past its deadline ends
 * with DEADLINE_EXCEEDED at the client, its handler is cancelled, and the
 * telemetry interceptor (`lib/grpc/observe_calls.ts`) reports
 * DEADLINE_EXCEEDED, not a client's cancel.
 *
 * @module
 */

import assert from "node:assert/strict";
import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { useNativeTransport } from "../../lib/grpc/native_transport.ts";
import { observeCalls } from "../../lib/grpc/observe_calls.ts";
import { waitFor, within } from "../_async.ts";

const identity = (b: Buffer) => b;

Deno.test("a grpc-js call past its deadline: DEADLINE_EXCEEDED at the client, the handler cancelled, telemetry says DEADLINE_EXCEEDED", async () => {
  const ended: number[] = [];
  const server = new grpc.Server({
    interceptors: [observeCalls({ start: () => ({ end: (code) => ended.push(code) }) })],
  });
  useNativeTransport(server);
  let cancelled = false;
  let deadlineSeen: grpc.Deadline | undefined;
  server.register<Buffer, Buffer>(
    "/t.S/Never",
    (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
      deadlineSeen = call.getDeadline();
      call.on("cancelled", () => cancelled = true);
    },
    identity,
    identity,
    "unary",
  );
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const listener = net.createServer((socket) => injector.injectConnection(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as net.AddressInfo).port;
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const error = await within(
      new Promise<grpc.ServiceError>((resolve) =>
        client.makeUnaryRequest<Buffer, Buffer>(
          "/t.S/Never",
          identity,
          identity,
          Buffer.from([1]),
          { deadline: Date.now() + 300 },
          (e) => resolve(e!),
        )
      ),
      10_000,
      "the call to end",
    );
    assert.equal(error.code, grpc.status.DEADLINE_EXCEEDED);
    await waitFor(() => cancelled, "the handler was not cancelled");
    await waitFor(() => ended.length > 0, "telemetry saw no end");
    assert.deepEqual(ended, [grpc.status.DEADLINE_EXCEEDED]);
    // The transport keeps the deadline: grpc-js never saw grpc-timeout.
    assert.equal(deadlineSeen, Infinity);
  } finally {
    client.close();
    injector.destroy();
    server.forceShutdown();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});
