import assert from "node:assert/strict";
import { PINNED_DENO_VERSION, runtimeWarning } from "../../lib/server/runtime.ts";

Deno.test("the pinned Deno version matches .dvmrc", async () => {
  const dvmrc = await Deno.readTextFile(new URL("../../.dvmrc", import.meta.url));
  assert.equal(PINNED_DENO_VERSION, "2.9.3");
  assert.equal(dvmrc.trim(), PINNED_DENO_VERSION);
});

Deno.test("runtimeWarning() says nothing on the pinned version", () => {
  assert.equal(runtimeWarning("2.9.3"), undefined);
  assert.equal(runtimeWarning(PINNED_DENO_VERSION), undefined);
});

Deno.test("runtimeWarning() on a version known to abort names the abort and the Deno issue", () => {
  for (const version of ["2.9.4", "2.9.5", "2.9.6"]) {
    const warning = runtimeWarning(version);
    assert.ok(warning !== undefined, version);
    assert.match(warning, /^WARNING: /);
    assert.ok(warning.includes(`Deno ${version}`), warning);
    assert.match(warning, /abort/);
    assert.match(warning, /client\.ts/);
    assert.match(warning, /36788/);
    assert.doesNotMatch(warning, /untested/);
  }
});

Deno.test("runtimeWarning() on any other version says it is untested", () => {
  for (const version of ["2.7.14", "2.8.3", "2.9.2", "2.9.7", "3.0.0", "1.46.3"]) {
    const warning = runtimeWarning(version);
    assert.ok(warning !== undefined, version);
    assert.ok(warning.includes(`Deno ${version} is untested`), warning);
    assert.doesNotMatch(warning, /36788/);
  }
});

Deno.test("every runtimeWarning() names the pinned version and the npx command", () => {
  for (const version of ["2.7.14", "2.9.5", "2.9.4", "3.0.0", ""]) {
    const warning = runtimeWarning(version);
    assert.ok(warning !== undefined, version);
    assert.ok(warning.includes("2.9.3"), warning);
    assert.ok(warning.includes("npx -y deno@2.9.3 task server"), warning);
  }
});

Deno.test("runtimeWarning() is silent on the Deno running these tests only if it is the pinned one", () => {
  const warning = runtimeWarning(Deno.version.deno);
  assert.equal(warning === undefined, Deno.version.deno === PINNED_DENO_VERSION);
});
