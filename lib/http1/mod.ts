/**
 * Our HTTP/1.1 (and 1.0) server (RFC 9112), on the sockets the server's
 * listener hands it when a connection does not open with the HTTP/2
 * preface: a strict parser without I/O (bytes in, request heads and body
 * pieces out: `parser.ts`), responses as bytes (`response.ts`), the
 * exchange handlers see (`exchange.ts`), and the
 * socket glue that serves one request at a time per connection with
 * keep-alive, pipelining, and limits on the request head (`server.ts`).
 *
 * Why not `node:http`: probed on Deno 2.9.3 with sockets handed over by
 * `emit('connection')` (as our listener must, to share the port with
 * HTTP/2), it parses strictly (CL+TE gets 400) but closes every connection
 * after the first response it writes, while sending `Connection:
 * keep-alive` (two pipelined requests in one packet are answered, then the
 * socket closes), and `headersTimeout` (1 s, checked every 200 ms) never
 * closed a half-sent head within 5 s, although it does on a server that
 * listens itself.
 *
 * May import: `node:` modules only. It knows nothing of gRPC or RouteGuide.
 *
 * @module
 */

export type { Http1Exchange } from "./exchange.ts";
export * from "./parser.ts";
export * from "./response.ts";
export * from "./server.ts";
