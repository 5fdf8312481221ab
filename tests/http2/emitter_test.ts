/**
 * The request streams' light emitter, against what `node:events`'
 * `EventEmitter` does for the same calls (the contract grpc-js relies on):
 * order of listeners, `once`, `off` of the last match, removal during an
 * emission, `listenerCount`, and an unheard `'error'` throwing.
 */

import assert from "node:assert/strict";
import { LightEmitter } from "../../lib/http2/emitter.ts";

Deno.test("LightEmitter: listeners are called in the order added, with the arguments and the emitter as this", () => {
  const emitter = new LightEmitter();
  const calls: string[] = [];
  const thisValues: unknown[] = [];
  emitter.on("e", function (this: unknown, a: number, b: string) {
    thisValues.push(this);
    calls.push(`first ${a} ${b}`);
  });
  assert.equal(emitter.emit("e", 1, "x"), true);
  emitter.addListener("e", (a: number, b: string) => calls.push(`second ${a} ${b}`));
  emitter.on("e", (a: number, b: string) => calls.push(`third ${a} ${b}`));
  assert.equal(emitter.emit("e", 2, "y"), true);
  assert.deepEqual(calls, ["first 1 x", "first 2 y", "second 2 y", "third 2 y"]);
  assert.deepEqual(thisValues, [emitter, emitter]);
  assert.equal(emitter.emit("other"), false, "an event without listeners emits false");
  assert.equal(new LightEmitter().emit("e"), false);
});

Deno.test("LightEmitter: listenerCount counts none, one and several", () => {
  const emitter = new LightEmitter();
  assert.equal(emitter.listenerCount("e"), 0);
  emitter.on("e", () => {});
  assert.equal(emitter.listenerCount("e"), 1);
  emitter.on("e", () => {});
  emitter.on("e", () => {});
  assert.equal(emitter.listenerCount("e"), 3);
  assert.equal(emitter.listenerCount("f"), 0);
});

Deno.test("LightEmitter: once listeners run at most once, and off removes them by the listener given", () => {
  const emitter = new LightEmitter();
  const calls: string[] = [];
  const single = (v: number) => calls.push(`once ${v}`);
  emitter.once("e", single);
  emitter.emit("e", 1);
  emitter.emit("e", 2);
  assert.deepEqual(calls, ["once 1"]);
  assert.equal(emitter.listenerCount("e"), 0);

  // Among others: removed after its call, the others stay.
  const other = (v: number) => calls.push(`on ${v}`);
  emitter.on("e", other);
  emitter.once("e", single);
  emitter.emit("e", 3);
  emitter.emit("e", 4);
  assert.deepEqual(calls, ["once 1", "on 3", "once 3", "on 4"]);
  assert.equal(emitter.listenerCount("e"), 1);

  // off() with the function given to once() removes the wrapper, alone or among others.
  const never = () => calls.push("never");
  emitter.once("f", never);
  emitter.off("f", never);
  assert.equal(emitter.listenerCount("f"), 0);
  emitter.on("f", other);
  emitter.once("f", never);
  emitter.removeListener("f", never);
  assert.equal(emitter.listenerCount("f"), 1);
  emitter.emit("f", 5);
  assert.deepEqual(calls, ["once 1", "on 3", "once 3", "on 4", "on 5"]);
});

Deno.test("LightEmitter: off removes the last matching listener only; unknown ones change nothing", () => {
  const emitter = new LightEmitter();
  const calls: string[] = [];
  const a = () => calls.push("a");
  const b = () => calls.push("b");
  const c = () => calls.push("c");
  assert.equal(emitter.off("e", a), emitter, "off on an emitter with no listeners");
  emitter.on("e", a);
  emitter.off("e", b);
  emitter.off("other", a);
  assert.equal(emitter.listenerCount("e"), 1, "off of a listener never added removed one");
  emitter.off("e", a);
  assert.equal(emitter.listenerCount("e"), 0);
  assert.equal(emitter.emit("e"), false);

  // a b a c: removing a takes the last a (as EventEmitter does).
  emitter.on("e", a).on("e", b).on("e", a).on("e", c);
  emitter.off("e", d);
  assert.equal(emitter.listenerCount("e"), 4);
  emitter.off("e", a);
  assert.equal(emitter.listenerCount("e"), 3);
  emitter.emit("e");
  assert.deepEqual(calls, ["a", "b", "c"]);
  // The first one of several, then the one left after that.
  calls.length = 0;
  emitter.off("e", a);
  emitter.emit("e");
  assert.deepEqual(calls, ["b", "c"]);
  emitter.off("e", c);
  assert.equal(emitter.listenerCount("e"), 1);
  calls.length = 0;
  emitter.emit("e");
  assert.deepEqual(calls, ["b"]);
  // Once back to one listener, adding makes two again (not an array holding an array).
  emitter.on("e", c);
  calls.length = 0;
  emitter.emit("e");
  assert.deepEqual(calls, ["b", "c"]);
  function d() {
    calls.push("d");
  }
});

Deno.test("LightEmitter: listeners added or removed during an emission do not change who hears it", () => {
  const emitter = new LightEmitter();
  const calls: string[] = [];
  const late = () => calls.push("late");
  const second = () => calls.push("second");
  emitter.on("e", () => {
    calls.push("first");
    emitter.off("e", second);
    emitter.on("e", late);
  });
  emitter.on("e", second);
  emitter.emit("e");
  assert.deepEqual(calls, ["first", "second"]);
  calls.length = 0;
  emitter.emit("e");
  assert.deepEqual(calls, ["first", "late"]);
});

Deno.test("LightEmitter: removeAllListeners of one event, or of all", () => {
  const emitter = new LightEmitter();
  emitter.on("a", () => {}).on("a", () => {}).on("b", () => {});
  assert.equal(emitter.removeAllListeners("a"), emitter);
  assert.equal(emitter.listenerCount("a"), 0);
  assert.equal(emitter.listenerCount("b"), 1);
  emitter.on("a", () => {});
  emitter.removeAllListeners();
  assert.equal(emitter.listenerCount("a"), 0);
  assert.equal(emitter.listenerCount("b"), 0);
  // On an emitter that never had a listener.
  const fresh = new LightEmitter();
  assert.equal(fresh.removeAllListeners("x"), fresh);
});

Deno.test("LightEmitter: an 'error' nobody listens to throws (the Error itself, or one naming the value)", () => {
  const emitter = new LightEmitter();
  const error = new Error("boom");
  assert.throws(() => emitter.emit("error", error), (e) => e === error);
  assert.throws(() => emitter.emit("error", "bad thing"), /bad thing/);
  const heard: unknown[] = [];
  emitter.on("error", (e: unknown) => heard.push(e));
  assert.equal(emitter.emit("error", error), true);
  assert.deepEqual(heard, [error]);
  // Another event without listeners does not throw.
  assert.equal(emitter.emit("warning", error), false);
});
