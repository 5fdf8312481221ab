/**
 * The request streams' event emitter on its own, held to what `node:events`'
 * `EventEmitter` documents for the same calls: listeners in the order added,
 * `once`, `off` removing the most recently added match, an unheard `'error'`
 * throwing, and an emission unchanged by listeners added or removed during it.
 */

import assert from "node:assert/strict";
import { LightEmitter } from "../../lib/http2/emitter.ts";

/** An emitter and a log of the calls its listeners made. */
function setup() {
  const emitter = new LightEmitter();
  const calls: string[] = [];
  const listener = (name: string) => (...args: unknown[]) =>
    calls.push(`${name}(${args.join(",")})`);
  return { emitter, calls, listener };
}

Deno.test("on/addListener: every listener in the order added, with the arguments, `this` the emitter", () => {
  const { emitter, calls, listener } = setup();
  let self: unknown;
  emitter.on("x", listener("a"));
  emitter.addListener("x", listener("b"));
  emitter.on("x", function (this: unknown) {
    self = this;
  });
  emitter.on("y", listener("y"));
  assert.equal(emitter.emit("x", 1, 2), true);
  assert.deepEqual(calls, ["a(1,2)", "b(1,2)"]);
  assert.equal(self, emitter);
  assert.equal(emitter.emit("none"), false);
});

Deno.test("one listener: `this` is the emitter, and emit returns true", () => {
  const emitter = new LightEmitter();
  let self: unknown;
  emitter.on("x", function (this: unknown) {
    self = this;
  });
  assert.equal(emitter.emit("x"), true);
  assert.equal(self, emitter);
});

Deno.test("listenerCount: 0, 1, several, per event", () => {
  const { emitter, listener } = setup();
  assert.equal(emitter.listenerCount("x"), 0);
  emitter.on("x", listener("a"));
  assert.equal(emitter.listenerCount("x"), 1);
  emitter.on("x", listener("b"));
  emitter.once("x", listener("c"));
  assert.equal(emitter.listenerCount("x"), 3);
  assert.equal(emitter.listenerCount("y"), 0);
});

Deno.test("once: heard once; off() with the listener removes it before it fires", () => {
  const { emitter, calls, listener } = setup();
  emitter.once("x", listener("once"));
  emitter.on("x", listener("on"));
  emitter.emit("x", 1);
  emitter.emit("x", 2);
  assert.deepEqual(calls, ["once(1)", "on(1)", "on(2)"]);
  const late = listener("late");
  emitter.once("y", late);
  emitter.off("y", late);
  assert.equal(emitter.emit("y"), false);
  const alone = listener("alone");
  emitter.once("z", listener("other"));
  emitter.once("z", alone);
  emitter.removeListener("z", alone);
  emitter.emit("z", 3);
  assert.deepEqual(calls, ["once(1)", "on(1)", "on(2)", "other(3)"]);
});

Deno.test("off/removeListener: only the matching listener, the most recently added instance", () => {
  const { emitter, calls, listener } = setup();
  const a = listener("a");
  const b = listener("b");
  const c = listener("c");
  emitter.on("x", a).on("x", b).on("x", a).on("x", c);
  emitter.off("x", a);
  emitter.emit("x");
  assert.deepEqual(calls, ["a()", "b()", "c()"]);
  emitter.removeListener("x", b);
  emitter.off("x", listener("never added"));
  emitter.off("other", a);
  calls.length = 0;
  emitter.emit("x");
  assert.deepEqual(calls, ["a()", "c()"]);
  emitter.off("x", c);
  assert.equal(emitter.listenerCount("x"), 1);
  calls.length = 0;
  emitter.emit("x");
  assert.deepEqual(calls, ["a()"]);
  emitter.off("x", listener("not it"));
  assert.equal(emitter.listenerCount("x"), 1);
  emitter.off("x", a);
  assert.equal(emitter.listenerCount("x"), 0);
  assert.equal(emitter.emit("x"), false);
});

Deno.test("off on an emitter that never had a listener does nothing", () => {
  const emitter = new LightEmitter();
  assert.equal(emitter.off("x", () => {}), emitter);
  assert.equal(emitter.listenerCount("x"), 0);
});

Deno.test("removeAllListeners: of one event, or of all", () => {
  const { emitter, calls, listener } = setup();
  emitter.on("x", listener("x1")).on("x", listener("x2")).on("y", listener("y"));
  emitter.removeAllListeners("x");
  assert.equal(emitter.emit("x"), false);
  assert.equal(emitter.emit("y"), true);
  emitter.removeAllListeners();
  assert.equal(emitter.emit("y"), false);
  assert.deepEqual(calls, ["y()"]);
  assert.equal(new LightEmitter().removeAllListeners("x").listenerCount("x"), 0);
});

Deno.test("an 'error' with no listener throws it (a non-Error wrapped); with one, it is heard", () => {
  const emitter = new LightEmitter();
  const error = new Error("boom");
  assert.throws(() => emitter.emit("error", error), (e) => e === error);
  assert.throws(
    () => emitter.emit("error", "text"),
    (e) => e instanceof Error && e.message === "text",
  );
  const heard: unknown[] = [];
  emitter.on("error", (e) => heard.push(e));
  assert.equal(emitter.emit("error", error), true);
  assert.deepEqual(heard, [error]);
});

Deno.test("listeners added or removed while an event is emitted do not change who hears it", () => {
  const { emitter, calls, listener } = setup();
  const b = listener("b");
  const c = listener("c");
  emitter.on("x", () => {
    calls.push("a");
    emitter.off("x", b);
    emitter.on("x", listener("added"));
  });
  emitter.on("x", b);
  emitter.on("x", c);
  emitter.emit("x");
  assert.deepEqual(calls, ["a", "b()", "c()"]);
  calls.length = 0;
  emitter.emit("x");
  assert.deepEqual(calls, ["a", "c()", "added()"]);
});
