import assert from "node:assert/strict";
import { runClientProcess, startServer } from "../_server.ts";

Deno.test("server starts on port 0 and the client's get works", async () => {
  await using server = await startServer();
  const r = await runClientProcess([
    "--target",
    server.target,
    "get",
    "40.7484",
    "-73.9857",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    name: "Empire State Building, New York, NY",
    location: { latitude: 407484000, longitude: -739857000 },
  });
});
