/**
 * Our HTTP/2 server (RFC 9113, RFC 7541), on the sockets the server's
 * listener accepts. From the bytes up: `frames.ts` (one frame reader, one
 * writer), `flow.ts` (flow-control windows), `huffman.ts` and `hpack.ts`
 * (header compression), `connection.ts` (one connection without I/O: bytes
 * in, events and bytes out) and `server.ts` (the socket glue, and the small
 * part of `node:http2`'s server API that grpc-js uses).
 *
 * May import: `node:` modules only. It knows nothing of gRPC libraries or of
 * RouteGuide; `lib/grpc/native_transport.ts` hands it to grpc-js.
 *
 * @module
 */

export * from "./connection.ts";
export * from "./server.ts";
