/** `lib/server/worker_readiness.ts`: ready lines and the signals held until a worker is ready. */
import assert from "node:assert/strict";
import {
  firstNotReady,
  HeldSignals,
  readReady,
  type WorkerReady,
} from "../../lib/server/worker_readiness.ts";

Deno.test("HeldSignals holds signals (each once) until the process is ready, then sends at once", () => {
  const sent: Deno.Signal[] = [];
  const signals = new HeldSignals({ kill: (signal) => sent.push(signal) });
  assert.equal(signals.ready, false);
  signals.send("SIGHUP");
  signals.send("SIGHUP");
  signals.send("SIGUSR1");
  assert.deepEqual(sent, []);
  signals.markReady();
  assert.equal(signals.ready, true);
  assert.deepEqual(sent, ["SIGHUP", "SIGUSR1"]);
  signals.send("SIGHUP");
  assert.deepEqual(sent, ["SIGHUP", "SIGUSR1", "SIGHUP"]);
});

Deno.test("readReady() passes other lines on and resolves with the ready line", async () => {
  const output: string[] = [];
  async function* lines() {
    yield "warming up";
    yield "listening on 127.0.0.1:5 (2 features)";
    yield "after";
  }
  const ready = await readReady({ lines: lines() }, (line) => output.push(line));
  assert.deepEqual(ready, { address: "127.0.0.1:5", features: 2 });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(output, ["warming up", "after"]);
});

Deno.test("readReady() resolves to undefined when the lines end without a ready line", async () => {
  async function* lines() {
    yield "error: no such file";
  }
  assert.equal(await readReady({ lines: lines() }, () => {}), undefined);
});

Deno.test("firstNotReady() names the first worker found not ready, or -1 when all are", async () => {
  const ready: WorkerReady = { address: "a", features: 1 };
  assert.equal(await firstNotReady([Promise.resolve(ready), Promise.resolve(ready)]), -1);
  const never = new Promise<WorkerReady | undefined>(() => {});
  assert.equal(await firstNotReady([never, Promise.resolve(undefined)]), 1);
});
