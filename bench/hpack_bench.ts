/**
 * HPACK on the hot path of our HTTP/2 transport: decoding grpc-go request
 * header blocks and encoding gRPC response headers and trailers:
 * `deno bench bench/hpack_bench.ts`.
 */

import { type HeaderField, HpackDecoder, HpackEncoder } from "../lib/http2/hpack.ts";
import { seededRandom } from "../tests/_random.ts";

/** A unary call's request headers as grpc-go sends them (its encoder indexes every field and Huffman-codes literals, as ours does). */
function request(timeoutMicros: number): HeaderField[] {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/routeguide.RouteGuide/GetFeature"],
    [":authority", "localhost:50051"],
    ["content-type", "application/grpc"],
    ["user-agent", "grpc-go/1.75.0"],
    ["te", "trailers"],
    ["grpc-timeout", `${timeoutMicros}u`],
  ];
}

const random = seededRandom(1);
const BLOCKS = 100;
/** Request blocks of one connection, in order: the first all literals, then mostly indexed with a new grpc-timeout each. */
const requestBlocks = (() => {
  const encoder = new HpackEncoder();
  return Array.from(
    { length: BLOCKS },
    () => encoder.encode(request(4_000_000 + Math.floor(random() * 999_999))),
  );
})();

Deno.bench("decode the first grpc-go request block of a connection (Huffman literals)", {
  group: "decode",
  baseline: true,
}, () => {
  new HpackDecoder().decode(requestBlocks[0]);
});

Deno.bench(`decode ${BLOCKS} grpc-go request blocks of one connection (per iteration)`, {
  group: "decode",
}, () => {
  const decoder = new HpackDecoder();
  for (const block of requestBlocks) decoder.decode(block);
});

const RESPONSE: HeaderField[] = [
  [":status", "200"],
  ["content-type", "application/grpc"],
  ["grpc-accept-encoding", "identity,deflate,gzip"],
];
const TRAILERS: HeaderField[] = [["grpc-status", "0"], ["grpc-message", ""]];

Deno.bench("encode a gRPC response's headers and trailers on a new connection", {
  group: "encode",
  baseline: true,
}, () => {
  const encoder = new HpackEncoder();
  encoder.encode(RESPONSE);
  encoder.encode(TRAILERS);
});

const warm = new HpackEncoder();
warm.encode(RESPONSE);
warm.encode(TRAILERS);

Deno.bench("encode a gRPC response's headers and trailers, repeated on one connection", {
  group: "encode",
}, () => {
  warm.encode(RESPONSE);
  warm.encode(TRAILERS);
});
