/**
 * `lib/grpc/call_registry.ts`: the lifecycle of one call (running, then
 * cancelled by the client, failed by the server, or settled) and the
 * registry that shutdown works through.
 */
import assert from "node:assert/strict";
import { CallRegistry, type CallStatus } from "../../lib/grpc/call_registry.ts";
import { Code, RpcError } from "../../lib/core/rpc_error.ts";

/** A registry with one admitted call, and the statuses the call sent. */
function oneCall() {
  const registry = new CallRegistry();
  const sent: CallStatus[] = [];
  const call = registry.admit((status) => sent.push(status));
  return { registry, call, sent };
}

Deno.test("CallLifecycle: a running call that settles sends its outcome and leaves the registry", () => {
  const { registry, call, sent } = oneCall();
  assert.equal(call.state, "running");
  assert.equal(registry.size, 1);
  let completed = 0;
  call.settle(() => completed++);
  assert.equal(completed, 1);
  assert.equal(call.state, "settled");
  assert.equal(registry.size, 0);
  assert.deepEqual(sent, []);
  call.settle(() => completed++);
  assert.equal(completed, 1, "a settled call does not complete twice");
});

Deno.test("CallLifecycle: a client cancel aborts the handler and drops its outcome", () => {
  const { registry, call, sent } = oneCall();
  call.clientCancelled();
  assert.equal(call.state, "cancelled-by-client");
  assert.ok(call.signal.aborted);
  assert.ok(call.signal.reason instanceof RpcError);
  assert.equal(call.signal.reason.code, Code.CANCELLED);
  assert.equal(registry.size, 1, "the call counts until its handler ends");
  call.settle(() => assert.fail("the outcome of a cancelled call was sent"));
  assert.equal(call.state, "settled");
  assert.equal(registry.size, 0);
  assert.deepEqual(sent, []);
});

Deno.test("CallLifecycle: a cancel reported after the call settled changes nothing", () => {
  const { call } = oneCall();
  call.settle(() => {});
  call.clientCancelled();
  assert.equal(call.state, "settled");
  assert.equal(call.signal.aborted, false);
});

Deno.test("CallRegistry.cancelAll() fails running calls once and drops their outcome", () => {
  const { registry, call, sent } = oneCall();
  const gone = registry.admit(() => assert.fail("a status went to a client that is gone"));
  gone.clientCancelled();
  assert.equal(registry.cancelAll("going away"), 2);
  assert.deepEqual(sent, [{ code: Code.UNAVAILABLE, details: "going away" }]);
  assert.equal(call.state, "failed-by-server");
  assert.equal(gone.state, "cancelled-by-client");
  assert.equal(call.signal.reason.code, Code.UNAVAILABLE);
  call.clientCancelled();
  assert.equal(call.state, "failed-by-server");
  assert.equal(registry.cancelAll("again"), 2, "calls count until their handlers end");
  assert.equal(sent.length, 1, "a failed call gets one status");
  call.settle(() => assert.fail("the outcome of a failed call was sent"));
  gone.settle(() => assert.fail("the outcome of a cancelled call was sent"));
  assert.equal(registry.size, 0);
});

Deno.test("CallRegistry.idle() resolves when the last call settles, or when the signal aborts", async () => {
  const registry = new CallRegistry();
  await registry.idle();
  const first = registry.admit(() => {});
  const second = registry.admit(() => {});
  let idle = false;
  const waiting = registry.idle().then(() => idle = true);
  first.settle(() => {});
  await Promise.resolve();
  assert.equal(idle, false);
  second.settle(() => {});
  await waiting;
  assert.equal(idle, true);
  registry.admit(() => {});
  const controller = new AbortController();
  const stopped = registry.idle(controller.signal);
  controller.abort();
  await stopped;
  assert.equal(registry.size, 1);
});

Deno.test("CallRegistry.refuseNewCalls() is a switch that stays on", () => {
  const registry = new CallRegistry();
  assert.equal(registry.refusingNewCalls, false);
  registry.refuseNewCalls();
  assert.equal(registry.refusingNewCalls, true);
});
