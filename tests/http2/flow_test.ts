/**
 * The flow-control windows on their own (RFC 9113 §6.9): the 2^31 - 1
 * ceiling to the byte, and how received bytes are given back.
 */

import assert from "node:assert/strict";
import { InFlow, OutFlow } from "../../lib/http2/flow.ts";

/** The largest window RFC 9113 §6.9.1 allows. */
const MAX = 2 ** 31 - 1;

Deno.test("OutFlow: a window may reach 2^31 - 1 exactly, not one byte more", () => {
  const flow = new OutFlow(0);
  assert.equal(flow.add(MAX), true);
  assert.equal(flow.available, MAX);
  assert.equal(flow.add(1), false);
  assert.equal(flow.available, MAX, "a refused increment changed the window");
  flow.take(MAX);
  assert.equal(flow.available, 0);
  assert.equal(new OutFlow(10).add(MAX - 9), false);
});

Deno.test("OutFlow: a negative window (SETTINGS shrank it) grows back by deltas", () => {
  const flow = new OutFlow(5);
  flow.take(10);
  assert.equal(flow.available, -5);
  assert.equal(flow.add(7), true);
  assert.equal(flow.available, 2);
});

Deno.test("InFlow: receiving past the window is refused, exactly at it is not", () => {
  const flow = new InFlow(100);
  assert.equal(flow.receive(100), true);
  assert.equal(flow.available, 0);
  assert.equal(flow.receive(1), false);
  assert.equal(new InFlow(100).receive(101), false);
});

Deno.test("InFlow: bytes are given back once half the window is consumed or half is left", () => {
  const flow = new InFlow(100);
  flow.receive(40);
  assert.equal(flow.consume(40), 0, "40 of 100 consumed, 60 left: not worth a frame");
  flow.receive(10);
  assert.equal(flow.consume(10), 50, "half the window consumed: all of it goes back");
  assert.equal(flow.available, 100);
  flow.receive(51);
  assert.equal(flow.consume(1), 1, "under half left: even 1 byte goes back");
  assert.equal(flow.available, 50);
});

Deno.test("InFlow: under half the target window left, each consumed byte goes back at once", () => {
  const flow = new InFlow(100, 1000);
  flow.receive(10);
  assert.equal(flow.consume(10), 10);
  assert.equal(flow.available, 100);
  const full = new InFlow(100);
  assert.equal(full.consume(5), 0, "nothing received: the window is full, nothing to give");
});

Deno.test("InFlow: bytes consumed while the window is full are not held over to a later give-back", () => {
  const flow = new InFlow(100);
  assert.equal(flow.consume(30), 0, "the window is full: nothing to give");
  flow.receive(60);
  // 40 left, under half: the 10 consumed now go back, not 10 + the 30 from before.
  assert.equal(flow.consume(10), 10);
  assert.equal(flow.available, 50);
});

Deno.test("InFlow: exactly half the window left is enough to wait", () => {
  const flow = new InFlow(100);
  flow.receive(50);
  assert.equal(flow.consume(10), 0, "50 of 100 left and 10 consumed: not worth a frame yet");
  assert.equal(flow.available, 50);
});
