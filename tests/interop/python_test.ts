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

import { assertPythonChecksPass, pythonTest } from "../_python.ts";
import { ROOT, startServer } from "../_server.ts";

const SCRIPT = `${ROOT}tests/interop/route_guide_check.py`;
const DB = `${ROOT}data/route_guide_db.json`;

pythonTest(
  "interop: Python grpcio client passes every check against our server",
  async (python) => {
    await using server = await startServer();
    await assertPythonChecksPass(python, [SCRIPT, "--target", server.target, "--db", DB], {
      summary: "python interop",
      context: () => `--- server stderr ---\n${server.stderr()}`,
    });
  },
);
