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
import { waitFor } from "../_async.ts";
import { HpackDecoder } from "../../lib/http2/hpack.ts";
import {
  concat,
  Flag,
  frame,
  FrameType,
  grpcMessage,
  grpcRequestHeaders,
  hpackLiterals,
  PREFACE,
  rawConnect,
  settingsFrame,
} from "../_h2.ts";

const identity = (b: Buffer) => b;

Deno.test("a call past its grpc-timeout: DEADLINE_EXCEEDED at the client, the handler cancelled, telemetry says DEADLINE_EXCEEDED", async () => {
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
  // A raw client that enforces no deadline of its own: a grpc-js client
  // cancels at its deadline too, and its RST_STREAM can reach the server
  // before the server's own deadline (later by the request's transit time),
  // which telemetry then rightly reports as the client's cancel.
  await using c = await rawConnect(port);
  try {
    await c.write(concat([
      PREFACE,
      settingsFrame(),
      frame(FrameType.SETTINGS, Flag.ACK, 0),
      frame(
        FrameType.HEADERS,
        Flag.END_HEADERS,
        1,
        hpackLiterals([...grpcRequestHeaders("/t.S/Never"), ["grpc-timeout", "300m"]]),
      ),
      frame(FrameType.DATA, Flag.END_STREAM, 1, grpcMessage(new Uint8Array([1]))),
    ]));
    const trailers = await c.waitFor(
      (f) => f.type === FrameType.HEADERS && f.streamId === 1 && (f.flags & Flag.END_STREAM) !== 0,
      10_000,
    );
    assert.ok(trailers, "no status within 10 s");
    const fields = new HpackDecoder().decode(trailers.payload);
    assert.deepEqual(
      fields.find(([name]) => name === "grpc-status"),
      ["grpc-status", String(grpc.status.DEADLINE_EXCEEDED)],
    );
    await waitFor(() => cancelled, "the handler was not cancelled");
    await waitFor(() => ended.length > 0, "telemetry saw no end");
    assert.deepEqual(ended, [grpc.status.DEADLINE_EXCEEDED]);
    // The transport keeps the deadline: grpc-js never saw grpc-timeout.
    assert.equal(deadlineSeen, Infinity);
  } finally {
    injector.destroy();
    server.forceShutdown();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});
