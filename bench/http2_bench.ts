/**
 * The per-call cost of our HTTP/2 transport alone, without sockets or
 * grpc-js: 16 unary gRPC calls the way grpc-go sends them (Huffman-coded
 * headers, a `grpc-timeout` that enters the dynamic table each time, one
 * DATA frame each) answered with headers, one message and trailers, through
 * {@linkcode ServerConnection} (the sans-I/O core) and through
 * `Http2ServerSession` on a stand-in socket (the `node:http2`-like
 * layer grpc-js sees).
 *
 * `deno bench --allow-read bench/http2_bench.ts`
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { ServerConnection } from "../lib/http2/connection.ts";
import { type HeaderField, HpackEncoder } from "../lib/http2/hpack.ts";
import { Http2Server, type Http2ServerStream } from "../lib/http2/server.ts";

const CALLS = 16;
const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** One frame: header and payload. */
function frame(type: number, flags: number, streamId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = payload.length >>> 16;
  out[1] = (payload.length >>> 8) & 0xff;
  out[2] = payload.length & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, streamId);
  out.set(payload, 9);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A client's side: makes the bytes of `CALLS` requests at a time, stream ids going up. */
class Client {
  #encoder = new HpackEncoder();
  #nextId = 1;
  #timeout = 0;
  readonly message = concat([new Uint8Array([0, 0, 0, 0, 10]), new Uint8Array(10).fill(8)]);

  /** The connection preface and SETTINGS, then its ACK of ours. */
  start(): Uint8Array {
    return concat([PREFACE, frame(4, 0, 0, new Uint8Array()), frame(4, 1, 0, new Uint8Array())]);
  }

  /** HEADERS and DATA (END_STREAM) of `CALLS` unary calls, after a WINDOW_UPDATE for their replies. */
  requests(): Uint8Array {
    const increment = new Uint8Array(4);
    new DataView(increment.buffer).setUint32(0, CALLS * REPLY.length);
    const parts: Uint8Array[] = [frame(8, 0, 0, increment)];
    for (let i = 0; i < CALLS; i++) {
      const id = this.#nextId;
      this.#nextId += 2;
      const headers: HeaderField[] = [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/routeguide.RouteGuide/GetFeature"],
        [":authority", "127.0.0.1:50051"],
        ["content-type", "application/grpc"],
        ["user-agent", "grpc-go/1.33.0"],
        ["te", "trailers"],
        // A new value each call, as a deadline counting down is.
        ["grpc-timeout", `${9_999_000 - (this.#timeout++ % 1000)}u`],
      ];
      parts.push(frame(1, 4, id, this.#encoder.encode(headers)));
      parts.push(frame(0, 1, id, this.message));
    }
    return concat(parts);
  }
}

/** The reply message of every call (a gRPC message of 25 bytes). */
const REPLY = concat([new Uint8Array([0, 0, 0, 0, 25]), new Uint8Array(25).fill(7)]);

const RESPONSE: HeaderField[] = [
  [":status", "200"],
  ["content-type", "application/grpc+proto"],
  ["grpc-accept-encoding", "identity,deflate,gzip"],
];
const TRAILERS: HeaderField[] = [["grpc-status", "0"], ["grpc-message", ""]];

{
  const connection = new ServerConnection();
  const client = new Client();
  connection.receive(client.start());
  connection.takeEvents();
  connection.takeOutput();
  Deno.bench(`ServerConnection: ${CALLS} unary calls`, { group: "unary" }, () => {
    connection.receive(client.requests());
    for (const event of connection.takeEvents()) {
      if (event.type !== "request") continue;
      connection.respond(event.streamId, RESPONSE, { waitForTrailers: true });
      connection.sendData(event.streamId, REPLY, () => {});
      connection.end(event.streamId);
    }
    connection.takeOutput();
    for (const event of connection.takeEvents()) {
      if (event.type === "wantTrailers") connection.sendTrailers(event.streamId, TRAILERS);
    }
    const { bytes } = connection.takeOutput();
    if (bytes === undefined) throw new Error("no output");
  });
}

/** A stand-in for a connected `node:net` socket that takes whatever is written at once. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  writable = true;
  writableLength = 0;
  writableEnded = false;
  setNoDelay(): void {}
  write(_bytes: Uint8Array, callback?: () => void): boolean {
    callback?.();
    return true;
  }
  end(): void {}
  destroy(): void {}
}

{
  const server = new Http2Server();
  const socket = new FakeSocket();
  const client = new Client();
  let answered = 0;
  let allAnswered: () => void = () => {};
  // What grpc-js does with a unary call, in short.
  server.on("stream", (stream: Http2ServerStream) => {
    stream.once("close", () => {});
    stream.on("data", () => {});
    stream.on("end", () => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc+proto" },
        { waitForTrailers: true },
      );
      stream.write(REPLY, () => {
        stream.once("wantTrailers", () => {
          stream.sendTrailers({ "grpc-status": 0, "grpc-message": "" });
          if (++answered === CALLS) allAnswered();
        });
        stream.end();
      });
    });
  });
  server.accept(socket as unknown as Socket);
  socket.emit("data", client.start());
  Deno.bench(`Http2ServerSession: ${CALLS} unary calls`, { group: "unary" }, async () => {
    answered = 0;
    const done = new Promise<void>((resolve) => allAnswered = resolve);
    socket.emit("data", client.requests());
    await done;
    // The trailers leave at the flush already scheduled (or done): wait one turn after it.
    await new Promise((resolve) => setImmediate(resolve));
  });
}
