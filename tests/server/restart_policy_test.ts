/** `lib/server/restart_policy.ts`: the supervisor's back-off between restarts. */
import assert from "node:assert/strict";
import { RestartPolicy } from "../../lib/server/restart_policy.ts";

Deno.test("RestartPolicy.delayMs() doubles from restartDelayMs up to maxRestartDelayMs", () => {
  const policy = new RestartPolicy({ restartDelayMs: 10, maxRestartDelayMs: 50 });
  assert.deepEqual([1, 2, 3, 4, 5, 60].map((n) => policy.delayMs(n)), [10, 20, 40, 50, 50, 50]);
});

Deno.test("RestartPolicy defaults: 100 ms first, 30 s at most", () => {
  const policy = new RestartPolicy();
  assert.equal(policy.delayMs(1), 100);
  assert.equal(policy.delayMs(100), 30_000);
});

Deno.test("RestartPolicy.deathsInARow() counts on, and starts again after a stable run", () => {
  const policy = new RestartPolicy({ stableMs: 1000 });
  assert.equal(policy.deathsInARow(999, 0), 1);
  assert.equal(policy.deathsInARow(999, 3), 4);
  assert.equal(policy.deathsInARow(1000, 3), 1);
  assert.equal(new RestartPolicy().deathsInARow(59_999, 2), 3, "stableMs defaults to 60 s");
  assert.equal(new RestartPolicy().deathsInARow(60_000, 2), 1);
});
