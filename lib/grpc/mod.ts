/**
 * Everything that knows the gRPC libraries (`@grpc/grpc-js`,
 * `@grpc/proto-loader`, `@grpc/reflection`, `grpc-health-check`,
 * protobufjs). On the server side a call flows: our HTTP/2 transport, hooked
 * into grpc-js at one seam (`native_transport.ts`) → the grpc-js server built
 * with health, reflection and the call observer (`server.ts`,
 * `reflection.ts`, `observe_calls.ts`) → the adapter (`adapter.ts`, with
 * `call_registry.ts`, `streams.ts`, `call_internals.ts`), which calls
 * `core`'s handlers as async functions and iterables. On the client side:
 * the typed client (`client.ts`) and lists of servers as one target
 * (`target_list.ts`, `target_list_resolver.ts`). `proto.ts` loads the
 * protobuf definition from the committed descriptor set; `generated/` holds its types.
 *
 * May import: `lib/core/`, `lib/http2/`, the gRPC libraries and `node:`
 * modules. Nothing outside this folder imports the gRPC libraries.
 *
 * @module
 */

export * from "./adapter.ts";
export * from "./server.ts";
export * from "./native_transport.ts";
export * from "./observe_calls.ts";
export * from "./client.ts";
export * from "./target_list.ts";
export * from "./proto.ts";
