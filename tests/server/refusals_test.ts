/**
 * `lib/server/refusals.ts`: refused connections become one summary line
 * with counts at most once an interval, driven here by a hand-fired timer.
 */
import assert from "node:assert/strict";
import { createRefusalLog } from "../../lib/server/refusals.ts";
import { createLogger } from "../../lib/server/telemetry.ts";

/** A refusal log writing JSON lines, with a timer the test fires. */
function setup() {
  const lines: Record<string, unknown>[] = [];
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const log = createRefusalLog({
    logger: createLogger({ format: "json", write: (l) => lines.push(JSON.parse(l)) }),
    maxConnections: 50,
    silentMs: 10_000,
    schedule: (fn, ms) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => timer.cancelled = true;
    },
  });
  return { log, lines, timers };
}

Deno.test("createRefusalLog() writes one line per interval with every count of it", () => {
  const { log, lines, timers } = setup();
  for (let i = 0; i < 150; i++) log.count("cap");
  for (let i = 0; i < 12; i++) log.count("silent");
  for (let i = 0; i < 3; i++) log.count("handshake");
  assert.equal(lines.length, 0);
  assert.equal(timers.length, 1, "one timer for the whole interval");
  assert.equal(timers[0].ms, 1000);
  timers[0].fn();
  assert.equal(lines.length, 1);
  const { time: _, ...line } = lines[0];
  assert.deepEqual(line, {
    level: "warn",
    msg: "connections refused: 150 at the cap (--max-connections 50), 12 silent for 10 s, " +
      "3 failed TLS handshakes",
    at_cap: 150,
    silent: 12,
    failed_handshakes: 3,
  });
});

Deno.test("createRefusalLog() names only the kinds seen, and starts afresh after each line", () => {
  const { log, lines, timers } = setup();
  log.count("silent");
  timers[0].fn();
  log.count("handshake");
  log.count("handshake");
  assert.equal(timers.length, 2);
  timers[1].fn();
  assert.deepEqual(lines.map((l) => l.msg), [
    "connections refused: 1 silent for 10 s",
    "connections refused: 2 failed TLS handshakes",
  ]);
  assert.deepEqual(lines.map((l) => [l.at_cap, l.silent, l.failed_handshakes]), [
    [0, 1, 0],
    [0, 0, 2],
  ]);
});

Deno.test("createRefusalLog().close() writes what is counted and stops the timer", () => {
  const { log, lines, timers } = setup();
  log.close();
  assert.equal(lines.length, 0, "nothing counted, nothing written");
  log.count("cap");
  log.close();
  assert.equal(timers[0].cancelled, true);
  assert.deepEqual(lines.map((l) => l.msg), [
    "connections refused: 1 at the cap (--max-connections 50)",
  ]);
});
