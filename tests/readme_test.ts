import assert from "node:assert/strict";
import { SERVER_SETTINGS } from "../lib/server/config.ts";
import { ROOT } from "./_server.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);

Deno.test("the README documents every server flag with its variable", () => {
  for (const s of SERVER_SETTINGS) {
    assert.ok(README.includes(`\`--${s.flag}\``), `--${s.flag} is not in the README`);
    assert.ok(README.includes(`\`${s.env}\``), `${s.env} is not in the README`);
  }
});

Deno.test("the README lists every task in deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  for (const task of Object.keys(config.tasks)) {
    assert.ok(README.includes(`deno task ${task}`), `deno task ${task} is not in the README`);
  }
});

Deno.test("the README's pinned Deno matches .dvmrc", async () => {
  const pinned = (await Deno.readTextFile(`${ROOT}.dvmrc`)).trim();
  assert.ok(README.includes(`deno@${pinned}`), `README does not mention deno@${pinned}`);
  assert.ok(README.includes(`**Deno ${pinned}**`));
});
