import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import { writeAll } from "../../lib/grpc/streams.ts";

/** A stream that takes every message at once, as a socket does when its reader keeps up. */
class EagerStream extends EventEmitter {
  written = 0;
  write(_message: unknown): boolean {
    this.written++;
    return true;
  }
}

/** `count` messages, each ready as soon as asked for. */
async function* messages(count: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) yield i;
}

type Writable = grpc.ServerWritableStream<unknown, number>;

Deno.test("writeAll() lets the event loop take turns while a fast reader takes everything at once", async () => {
  const stream = new EagerStream();
  const count = 2_000_000;
  let writtenAtFirstTurn: number | undefined;
  // A macrotask: it runs only when the writer yields to the event loop.
  setTimeout(() => writtenAtFirstTurn = stream.written, 0);
  await writeAll(stream as unknown as Writable, messages(count), new AbortController().signal);
  assert.equal(stream.written, count, "every message is written");
  assert.notEqual(writtenAtFirstTurn, undefined, "the event loop got a turn");
  assert.ok(
    writtenAtFirstTurn! < count,
    "the event loop got no turn before the whole stream was written",
  );
});

Deno.test("writeAll() stops at the first turn after its signal aborts", async () => {
  const stream = new EagerStream();
  const controller = new AbortController();
  // Aborted from a macrotask, as a socket's 'close' is.
  setTimeout(() => controller.abort(), 0);
  await writeAll(stream as unknown as Writable, messages(50_000_000), controller.signal);
  assert.ok(stream.written < 50_000_000, `wrote ${stream.written} messages after the abort`);
});
