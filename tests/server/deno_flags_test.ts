/**
 * The server task in deno.json is the one source of the server's Deno flags:
 * launchers read it through lib/server/deno_flags.ts, and the copy that
 * cannot (the systemd unit) is checked against it here.
 */

import assert from "node:assert/strict";
import {
  denoRunFlags,
  serverDenoFlags,
  taskDenoFlags,
  withoutRunPermission,
} from "../../lib/server/deno_flags.ts";

/** deno.json's task, read as a file (not through the module's import). */
function taskCommand(task: string): string {
  return JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url))).tasks[task]
    .command;
}

Deno.test("serverDenoFlags() are the words between `deno run` and `server.ts` of deno.json's server task", () => {
  const words = taskCommand("server").split(" ");
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  assert.equal(words.at(-1), "server.ts");
  assert.deepEqual(serverDenoFlags(), words.slice(2, -1));
  assert.ok(serverDenoFlags().length > 0);
});

Deno.test("taskDenoFlags('client') are the words between `deno run` and `client.ts` of the client task", () => {
  assert.deepEqual(taskDenoFlags("client"), taskCommand("client").split(" ").slice(2, -1));
});

Deno.test("denoRunFlags() takes deno or a path to it, and refuses other shapes naming the command", () => {
  assert.deepEqual(denoRunFlags("deno run -A x.ts", "x.ts"), ["-A"]);
  assert.deepEqual(denoRunFlags("  /usr/local/bin/deno  run\t--allow-net x.ts ", "x.ts"), [
    "--allow-net",
  ]);
  assert.deepEqual(denoRunFlags("deno run x.ts", "x.ts"), []);
  for (
    const command of [
      "deno test --allow-net x.ts",
      "node run x.ts",
      "/usr/bin/nodeno run x.ts",
      "deno run --allow-net y.ts",
      "deno run --allow-net x.ts --port 1",
      "",
    ]
  ) {
    assert.throws(() => denoRunFlags(command, "x.ts"), {
      name: "TypeError",
      message: `not "deno run FLAGS x.ts": ${JSON.stringify(command)}`,
    });
  }
});

Deno.test("withoutRunPermission() drops --allow-run and --allow-run=LIST, and nothing else", () => {
  assert.deepEqual(
    withoutRunPermission([
      "--allow-net",
      "--allow-run",
      "--allow-read",
      "--allow-run=deno",
      "--allow-running",
    ]),
    ["--allow-net", "--allow-read", "--allow-running"],
  );
});

Deno.test("docs/routeguide.service runs server.ts with the server task's flags, less --allow-run", () => {
  const unit = Deno.readTextFileSync(new URL("../../docs/routeguide.service", import.meta.url));
  const execStarts = unit.split("\n").filter((line) => line.startsWith("ExecStart="));
  assert.equal(execStarts.length, 1, execStarts.join("\n"));
  const unitFlags = denoRunFlags(execStarts[0].slice("ExecStart=".length), "server.ts");
  // Deliberate: the unit serves from one process, and --allow-run (which
  // only --workers needs) amounts to every permission.
  assert.ok(serverDenoFlags().includes("--allow-run"), "the server task has --allow-run");
  assert.ok(!unitFlags.some((f) => f.startsWith("--allow-run")), "the unit has no --allow-run");
  const expected = withoutRunPermission(serverDenoFlags());
  assert.deepEqual(
    unitFlags,
    expected,
    `make the unit's line:\nExecStart=/usr/local/bin/deno run ${expected.join(" ")} server.ts`,
  );
});
