/**
 * Backpressure both ways over loopback: a client that does not read holds
 * the handler's writes (write() returns false, its `done` waits for the
 * client), and a paused request body stops the server reading the socket,
 * so a fast upload is held back by TCP instead of buffered.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { RawClient, startServer } from "./_client.ts";
import { sleep, within } from "../_async.ts";

const MiB = 1024 * 1024;

Deno.test("Http1Server: a slow reader makes write() return false and holds done until it reads; queued bytes stay bounded", async () => {
  const chunk = new Uint8Array(16 * 1024).fill(0x61);
  const total = 32 * MiB;
  let written = 0;
  let falses = 0;
  let saturated!: () => void;
  const full = new Promise<void>((r) => saturated = r);
  const { port, stop } = await startServer((ex) => {
    ex.respond(200, { "content-length": String(total) });
    const more = () => {
      while (written < total) {
        written += chunk.length;
        if (!ex.write(chunk, more)) {
          falses++;
          saturated();
          return;
        }
      }
      ex.end();
    };
    more();
  }, { highWaterMark: 64 * 1024 });
  const client = new RawClient(port);
  try {
    client.socket.pause();
    client.write("GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    await within(full, 10_000, "write() returning false");
    // The writer goes on at each done until the kernel's buffers are full;
    // then a done waits for the client. Wait for that stall (generously).
    let before = -1;
    for (let i = 0; i < 100 && written !== before; i++) {
      before = written;
      await sleep(200);
    }
    assert.equal(written, before, "the writer never stalled");
    // What the server took is what the kernel buffers hold plus the
    // high-water mark, far below the 32 MiB answer.
    assert.ok(written < 16 * MiB, `${written} bytes taken while the client read nothing`);
    client.socket.resume();
    const r = await client.response();
    assert.equal(r.body.length, total);
    assert.ok(falses > 1);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: pauseBody() stops socket reads: a fast upload is held back, then arrives whole on resumeBody()", async () => {
  const total = 64 * MiB;
  let delivered = 0;
  let resume!: () => void;
  let firstChunk!: () => void;
  const started = new Promise<void>((r) => firstChunk = r);
  const { port, stop } = await startServer((ex) => {
    ex.readBody((c) => {
      if (delivered === 0) {
        ex.pauseBody();
        firstChunk();
      }
      delivered += c.length;
    }, () => {
      const body = Buffer.from(String(delivered));
      ex.respond(200, { "content-length": String(body.length) });
      ex.end(body);
    });
    resume = () => ex.resumeBody();
  });
  const client = new RawClient(port);
  try {
    client.write(`POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${total}\r\n\r\n`);
    const piece = new Uint8Array(256 * 1024);
    let pushed = 0;
    /** Writes the body on; false if a drain does not come within `stallMs` (the server stopped reading). */
    const push = async (stallMs?: number) => {
      while (pushed < total) {
        pushed += piece.length;
        if (!client.socket.write(piece)) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const drained = await new Promise<boolean>((resolve) => {
            client.socket.once("drain", () => resolve(true));
            if (stallMs !== undefined) timer = setTimeout(() => resolve(false), stallMs);
          });
          clearTimeout(timer);
          if (!drained) return false;
        }
      }
      return true;
    };
    const pushing = push(1000);
    await within(started, 10_000, "the first body chunk");
    // The client stalls (its writes wait) long before it has pushed everything.
    assert.equal(
      await pushing,
      false,
      `the client pushed all ${total} bytes while the body was paused`,
    );
    assert.ok(delivered <= 256 * 1024, `${delivered} bytes delivered while paused`);
    assert.ok(pushed < total / 2, `${pushed} bytes pushed while paused`);
    resume();
    await push();
    const r = await client.response();
    assert.equal(r.body, String(total));
  } finally {
    client.socket.destroy();
    await stop();
  }
});
