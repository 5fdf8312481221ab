/**
 * `lib/grpc/request_framing.ts`: the message splitter cuts a request stream
 * into gRPC's length-prefixed messages (a 1-byte flag, a 4-byte big-endian
 * length, the body: PROTOCOL-HTTP2.md, "Length-Prefixed-Message") however
 * the bytes are chunked, reports between messages as grpc-js's decoder does
 * (state 0), refuses a message over the limit with grpc-js's words; and the
 * seam: on a server from `createGrpcServer`, every call's grpc-js decoder is
 * replaced (this fails when a grpc-js upgrade moves it).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { framingFault, MessageSplitter } from "../../lib/grpc/request_framing.ts";
import { createGrpcServer } from "../../lib/grpc/server.ts";
import { bindRouteGuide } from "../../lib/grpc/adapter.ts";
import { type BaseCall, baseCallFrom } from "../../lib/grpc/call_internals.ts";
import { createRouteGuideClient } from "../../lib/grpc/client.ts";
import { createFeatureDb } from "../../lib/core/feature_index.ts";
import { createRouteGuideHandlers } from "../../lib/core/handlers.ts";
import { createMemoryNotesStore } from "../../lib/notes/memory.ts";

/** One length-prefixed message: flag 0, the length big-endian, the body. */
function framed(body: number[]): number[] {
  const n = body.length;
  return [0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff, ...body];
}

/** A seeded generator (xorshift32), so that a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

Deno.test("MessageSplitter: the same messages however the stream is cut, state 0 exactly between them", () => {
  const next = random(11);
  for (let round = 0; round < 300; round++) {
    const bodies = Array.from(
      { length: 1 + Math.floor(next() * 6) },
      () => Array.from({ length: Math.floor(next() ** 2 * 300) }, () => Math.floor(next() * 256)),
    );
    const messages = bodies.map(framed);
    const stream = messages.flat();
    const boundaries = new Set<number>();
    messages.reduce((at, message) => (boundaries.add(at + message.length), at + message.length), 0);
    const splitter = new MessageSplitter(-1);
    const out: number[][] = [];
    let at = 0;
    while (at < stream.length) {
      const end = Math.min(stream.length, at + 1 + Math.floor(next() * (next() < 0.5 ? 8 : 400)));
      for (const message of splitter.write(Buffer.from(stream.slice(at, end)))) {
        out.push([...message]);
      }
      at = end;
      assert.equal(splitter.readState === 0, boundaries.has(at), `state at byte ${at}`);
    }
    assert.deepEqual(out, messages);
  }
});

Deno.test("MessageSplitter: several whole messages in one chunk are views of it, a split one is copied", () => {
  const splitter = new MessageSplitter(-1);
  const chunk = Buffer.from([...framed([1, 2]), ...framed([]), ...framed([3])]);
  const [a, b, c] = splitter.write(chunk);
  assert.deepEqual([[...a], [...b], [...c]], [framed([1, 2]), framed([]), framed([3])]);
  assert.equal(a.buffer, chunk.buffer);
  assert.equal(c.byteOffset, chunk.byteOffset + 12);
  const whole = framed([4, 5, 6]);
  assert.deepEqual(splitter.write(Buffer.from(whole.slice(0, 6))), []);
  const second = Buffer.from(whole.slice(6));
  const [d] = splitter.write(second);
  assert.deepEqual([...d], whole);
  assert.notEqual(d.buffer, second.buffer);
});

Deno.test("MessageSplitter: a length over the limit is refused as grpc-js refuses it, whole or split", () => {
  assert.throws(
    () => new MessageSplitter(4).write(Buffer.from(framed([1, 2, 3, 4, 5]))),
    { message: "Received message larger than max (5 vs 4)" },
  );
  const split = new MessageSplitter(4);
  assert.deepEqual(split.write(Buffer.from([0, 0, 0])), []);
  assert.throws(() => split.write(Buffer.from([0, 5])), {
    message: "Received message larger than max (5 vs 4)",
  });
  assert.equal(new MessageSplitter(4).write(Buffer.from(framed([1, 2, 3, 4]))).length, 1);
  // The largest length there is, 2^32 - 1, with no limit: waits for its body.
  const big = new MessageSplitter(-1);
  assert.throws(
    () => new MessageSplitter(2 ** 31).write(Buffer.from([0, 0xff, 0xff, 0xff, 0xff])),
    { message: `Received message larger than max (${2 ** 32 - 1} vs ${2 ** 31})` },
  );
  assert.deepEqual(big.write(Buffer.from([0, 0, 0, 1, 0, 7])), []);
  assert.equal(big.readState, 2);
});

Deno.test("grpc-js seam: every call of a createGrpcServer server reads through a MessageSplitter", async () => {
  const seen: string[] = [];
  const spy: grpc.ServerInterceptor = (_method, call) => {
    const base = baseCallFrom(call as unknown as BaseCall) as object | undefined;
    seen.push(base === undefined ? "no base call" : framingFault(base) ?? base.constructor.name);
    const decoder = (base as { decoder?: object } | undefined)?.decoder;
    seen.push(decoder instanceof MessageSplitter ? "splitter" : "grpc-js's decoder");
    return call as grpc.ServerInterceptingCall;
  };
  const handlers = createRouteGuideHandlers({
    db: createFeatureDb([]).db,
    notes: createMemoryNotesStore(),
  });
  const server = createGrpcServer(bindRouteGuide(handlers), { interceptors: [spy] });
  const listener = net.createServer((socket) => server.injectConnection(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const client = createRouteGuideClient(
    `127.0.0.1:${(listener.address() as net.AddressInfo).port}`,
  );
  try {
    const points = [{ latitude: 1, longitude: 2 }, { latitude: 3, longitude: 4 }];
    const summary = await client.recordRoute(points, { deadline: Date.now() + 10_000 });
    assert.equal(summary.point_count, 2);
    assert.equal(seen.length, 2);
    assert.equal(seen[1], "splitter", seen.join("; "));
  } finally {
    client.close();
    server.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});

Deno.test("grpc-js seam: framingFault names what is missing", () => {
  assert.match(framingFault({})!, /no decoder with write\(\) and readState/);
  assert.match(
    framingFault({ decoder: { write() {}, readState: 0 } })!,
    /no maxReceiveMessageSize/,
  );
  assert.equal(
    framingFault({ decoder: { write() {}, readState: 0 }, maxReceiveMessageSize: -1 }),
    undefined,
  );
});
