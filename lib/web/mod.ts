/**
 * The web protocols, served beside gRPC on the same port: gRPC-Web (binary
 * and text), the Connect protocol (unary, GET, streaming; proto and JSON),
 * gRPC with the JSON codec, CORS, `/healthz` and the page at `/`. Each web
 * call is translated at the stream level into a gRPC call that grpc-js
 * serves, so there is no second copy of any handler. `exchange.ts` is the
 * seam to the transports.
 *
 * May import: `node:` modules, `@bufbuild/protobuf`, and `lib/http2/` (to
 * take its streams as exchanges). It knows nothing of RouteGuide and never
 * imports a gRPC library.
 *
 * @module
 */

export type * from "./exchange.ts";
