/**
 * Interop: an independent Python client (Debian's grpcio) drives the real
 * server through all four RPCs and checks the answers against the feature
 * database on its own. See `tests/interop/route_guide_check.py`.
 *
 * Needs `/usr/bin/python3` (or `python3` on the PATH) able to
 * `import grpc, grpc_tools`: `apt-get install python3-grpcio python3-grpc-tools`.
 * Without it the test is skipped, except under `CI=true`, where it fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { findPython, isCi, runPython } from "./_python.ts";
import { ROOT, startServer } from "./_server.ts";

const SCRIPT = `${ROOT}tests/interop/route_guide_check.py`;
const DB = `${ROOT}data/route_guide_db.json`;
const INSTALL_HINT = "apt-get install python3-grpcio python3-grpc-tools";
/** How long the Python client may run before it is killed. */
const PYTHON_TIMEOUT_MS = 60_000;

const found = findPython();
const TEST_NAME = "interop: Python grpcio client passes every check against our server";

if (found.python === undefined) {
  const message = `no Python with grpc and grpc_tools (${found.reason}); ` +
    `install them with \`${INSTALL_HINT}\``;
  if (isCi()) {
    Deno.test(TEST_NAME, () => {
      assert.fail(`CI=true but ${message}`);
    });
  } else {
    console.log(`skipping the Python interop test: ${message} to enable it`);
    Deno.test({ name: TEST_NAME, ignore: true, fn() {} });
  }
} else {
  const python = found.python;
  Deno.test(TEST_NAME, async () => {
    await using server = await startServer();
    const { code, stdout, stderr, timedOut } = await runPython(
      python,
      [SCRIPT, "--target", server.target, "--db", DB],
      PYTHON_TIMEOUT_MS,
    );
    const details = `${python} ${SCRIPT} --target ${server.target} --db ${DB}\n` +
      `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}\n` +
      `--- server stderr ---\n${server.stderr()}`;
    assert.ok(!timedOut, `the Python client was killed after ${PYTHON_TIMEOUT_MS} ms\n${details}`);
    assert.equal(code, 0, `the Python client exited with ${code}\n${details}`);
    assert.ok(
      /^python interop: \d+ passed, 0 failed$/m.test(stdout),
      `no "0 failed" summary line\n${details}`,
    );
  });
}
