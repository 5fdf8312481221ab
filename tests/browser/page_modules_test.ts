/**
 * The page's own modules (`web/*.js`, plain ES modules) outside the browser:
 * the Connect envelope (connectrpc.com/docs/protocol: a flags byte, a 4-byte
 * big-endian length, the message; flag 0x02 ends the stream), the bounded
 * sample, one listing at a time, and errors as sentences.
 *
 * @module
 */

import assert from "node:assert/strict";
import { envelope, readEnvelopes } from "../../web/connect.js";
import { createLister, reservoirSlot } from "../../web/listing.js";
import { errorSentence } from "../../web/words.js";

/** A byte stream delivering `bytes` in pieces of `size`. */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at += size));
    },
  });
}

Deno.test("envelope() frames JSON behind a flags byte and a big-endian length", () => {
  const framed = envelope({ latitude: 1 });
  const json = new TextEncoder().encode('{"latitude":1}');
  assert.deepEqual([...framed.subarray(0, 5)], [0, 0, 0, 0, json.length]);
  assert.deepEqual(framed.subarray(5), json);
});

Deno.test("readEnvelopes() finds every message whatever the chunk boundaries", async () => {
  const end = new TextEncoder().encode("{}");
  const bytes = new Uint8Array([
    ...envelope({ name: "a" }),
    ...envelope({ name: "b".repeat(300) }),
    2,
    0,
    0,
    0,
    end.length,
    ...end,
  ]);
  for (const size of [1, 2, 5, 7, 64, bytes.length]) {
    const seen: string[] = [];
    for await (const batch of readEnvelopes(chunked(bytes, size))) {
      for (const { flags, data } of batch) {
        seen.push(`${flags}:${new TextDecoder().decode(data).slice(0, 12)}`);
      }
    }
    assert.deepEqual(seen, ['0:{"name":"a"}', '0:{"name":"bbb', "2:{}"], `chunks of ${size}`);
  }
});

Deno.test("readEnvelopes() refuses an answer that ends inside a message", async () => {
  const bytes = envelope({ name: "cut" }).subarray(0, 9);
  await assert.rejects(async () => {
    for await (const _ of readEnvelopes(chunked(bytes, 4))) { /* drain */ }
  }, /ended inside a message \(9 bytes\)/);
});

Deno.test("reservoirSlot() keeps the first items, then a uniform sample", () => {
  assert.equal(reservoirSlot(1, 3), 0);
  assert.equal(reservoirSlot(3, 3), 2);
  assert.equal(reservoirSlot(4, 3, () => 0.5), 2); // floor(0.5 × 4) = 2 < 3: replaces slot 2
  assert.equal(reservoirSlot(4, 3, () => 0.9), -1); // floor(0.9 × 4) = 3: dropped
  // Each of 1,000 items kept with probability 100/1000: the sample's mean is near the middle.
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const sample: number[] = [];
  for (let i = 1; i <= 1000; i++) {
    const slot = reservoirSlot(i, 100, random);
    if (slot >= 0) sample[slot] = i;
  }
  const mean = sample.reduce((a, b) => a + b, 0) / sample.length;
  assert.ok(mean > 400 && mean < 600, `mean ${mean}`);
});

Deno.test("a new listing aborts the one in progress; every feature is counted, a bounded number kept", async () => {
  const frames: number[] = [];
  // Deno has no animation frames: a timer stands in for one.
  const frameGlobals = globalThis as unknown as Record<string, unknown>;
  frameGlobals.requestAnimationFrame = (callback: (now: number) => void) =>
    setTimeout(() => callback(performance.now()), 0);
  frameGlobals.cancelAnimationFrame = (id: number) => clearTimeout(id);
  const signals: AbortSignal[] = [];
  // Ends the endless stream should it never be aborted, so the test fails instead of hanging.
  let secondEnded = false;
  const client = {
    async *stream(_method: string, requests: unknown[], options: { signal: AbortSignal }) {
      signals.push(options.signal);
      const endless = (requests[0] as { endless?: boolean }).endless;
      for (let i = 0; endless ? !secondEnded : i < 5000; i++) {
        if (options.signal.aborted) throw new DOMException("aborted", "AbortError");
        yield { name: `f${i}`, location: { latitude: i, longitude: 0 } };
        if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
    },
  };
  const lister = createLister(client, { limit: 50 });
  const ends: { count: number; aborted: boolean }[] = [];
  const kept = new Set<number>();
  const first = lister.list({ endless: true }, {
    onFrame: () => {},
    onEnd: (end: { count: number; aborted: boolean }) => ends.push(end),
  });
  while (signals.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  const second = lister.list({ endless: false }, {
    onFrame: ({ changed }: { changed: Map<number, unknown> }) => {
      frames.push(changed.size);
      for (const slot of changed.keys()) kept.add(slot);
    },
    onEnd: (end: { count: number; aborted: boolean }) => ends.push(end),
  });
  await second;
  secondEnded = true;
  await first;
  assert.equal(signals[0].aborted, true, "the first listing was aborted");
  assert.equal(ends[0].aborted, true);
  assert.deepEqual(ends[1], { count: 5000, error: undefined, aborted: false });
  assert.equal(kept.size, 50, "slots 0..49 only");
  assert.ok(Math.max(...kept) === 49);
});

Deno.test("errorSentence() turns codes into sentences", () => {
  assert.equal(
    errorSentence(
      { code: "invalid_argument", message: "latitude 950000000 is out of range" },
      "point",
    ),
    "The server refused this point: latitude 950000000 is out of range.",
  );
  assert.equal(
    errorSentence(
      { code: "unavailable", message: "Cannot reach the server at http://x.", network: true },
      "note",
    ),
    "Cannot reach the server at http://x.",
  );
  assert.match(
    errorSentence({ code: "internal", message: "boom" }, "route"),
    /^Something went wrong with this route \(internal\): boom\.$/,
  );
});
