/**
 * A grpc-js server with a test service on our native transport, whose
 * `dispatch` serves bridged web calls: the bridge meets the real grpc-js.
 * Messages are opaque bytes both ways (identity serializers), so a JSON
 * message passes through unchanged.
 *
 * @module
 */

import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { useNativeTransport } from "../../lib/grpc/native_transport.ts";
import type { MethodInfo, MethodTable } from "../../lib/web/methods.ts";
import type { DispatchStream } from "../../lib/web/bridge.ts";

const identity = (b: Buffer) => b;

/** A method definition with identity serializers. */
function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/test.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

/** What the echo server saw. */
export interface EchoServer extends Disposable {
  dispatch: DispatchStream;
  methods: MethodTable;
  /** Resolves with the metadata of the next `Wait` call once it was cancelled. */
  cancelled: Promise<void>;
  /** Metadata of the last call. */
  lastMetadata(): grpc.Metadata | undefined;
}

/** Starts the echo server (no socket: calls come through `dispatch`). */
export function startEcho(): EchoServer {
  const server = new grpc.Server();
  const transport = useNativeTransport(server);
  let last: grpc.Metadata | undefined;
  let markCancelled!: () => void;
  const cancelled = new Promise<void>((r) => markCancelled = r);
  server.addService({
    Unary: method("Unary", false, false),
    Fail: method("Fail", false, false),
    Wait: method("Wait", false, false),
    Stream: method("Stream", false, true),
    Bidi: method("Bidi", true, true),
  }, {
    Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      last = call.metadata;
      const headers = new grpc.Metadata();
      headers.set("x-echo", String(call.metadata.get("x-custom")[0] ?? ""));
      const bin = call.metadata.get("x-data-bin")[0];
      if (bin !== undefined) headers.set("x-echo-bin", bin as Buffer);
      headers.set("x-protocol", String(call.metadata.get("routeguide-web-protocol")[0] ?? ""));
      call.sendMetadata(headers);
      const trailers = new grpc.Metadata();
      trailers.set("x-trail", "t");
      callback(null, call.request, trailers);
    },
    Fail(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      last = call.metadata;
      const trailers = new grpc.Metadata();
      trailers.set("x-trail", "t");
      const details = call.metadata.get("x-details-bin")[0];
      if (details !== undefined) trailers.set("grpc-status-details-bin", details as Buffer);
      callback({
        code: grpc.status.INVALID_ARGUMENT,
        details: "bad thing: 100%",
        metadata: trailers,
      });
    },
    Wait(call: grpc.ServerUnaryCall<Buffer, Buffer>, _callback: grpc.sendUnaryData<Buffer>) {
      last = call.metadata;
      call.on("cancelled", () => markCancelled());
    },
    Stream(call: grpc.ServerWritableStream<Buffer, Buffer>) {
      const count = call.request[0] ?? 0;
      for (let i = 0; i < count; i++) call.write(Buffer.from([i]));
      call.end();
    },
    Bidi(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
      call.on("data", (message: Buffer) => call.write(message));
      call.on("end", () => call.end());
    },
  });
  // grpc-js wires its 'stream' handler when it builds an injector.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const info = (path: string): MethodInfo => ({
    path,
    kind: "unary",
    noSideEffects: path.endsWith("/Unary"),
    requestFromJson: (json) => json,
    responseToJson: (binary) => binary,
    requestToJson: (binary) => binary,
    responseFromJson: (json) => json,
  });
  return {
    dispatch: (stream, headers) => transport.dispatch(stream, headers),
    methods: { lookup: (path) => path.startsWith("/test.Echo/") ? info(path) : undefined },
    cancelled,
    lastMetadata: () => last,
    [Symbol.dispose]() {
      injector.destroy();
      server.forceShutdown();
    },
  };
}
