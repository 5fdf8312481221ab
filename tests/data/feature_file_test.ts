import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadFeatureDb } from "../../lib/data/feature_file.ts";
import { pt, WORLD } from "../_geo.ts";

const DB_URL = new URL("../../data/route_guide_db.json", import.meta.url);

Deno.test("loadFeatureDb() reads the project's database", async () => {
  const entries = JSON.parse(await Deno.readTextFile(DB_URL)) as unknown[];
  const { db, duplicates, path } = await loadFeatureDb(DB_URL);
  assert.ok(path.endsWith("data/route_guide_db.json"), path);
  assert.equal(db.size + duplicates.length, entries.length);
  const all = [...db.within(WORLD)];
  assert.equal(all.length, db.size);
  const named = all.filter((f) => f.name !== "");
  const unnamed = all.filter((f) => f.name === "");
  assert.ok(named.length >= 100, `${named.length} named features`);
  assert.ok(unnamed.length >= 1 && unnamed.length <= 10, `${unnamed.length} unnamed features`);
  for (const { name, location } of all) {
    assert.ok(location.latitude >= 400000000 && location.latitude <= 420000000, name);
    assert.ok(location.longitude >= -750000000 && location.longitude <= -730000000, name);
  }
  assert.equal(db.get(pt(406892000, -740445000))?.name, "Statue of Liberty, Liberty Island, NY");
});

Deno.test("loadFeatureDb() accepts a path string as well as a URL", async () => {
  const path = fileURLToPath(DB_URL);
  const loaded = await loadFeatureDb(path);
  assert.equal(loaded.path, path);
  assert.equal(loaded.db.size, (await loadFeatureDb(DB_URL)).db.size);
});

Deno.test("loadFeatureDb() errors start with the path and say what is wrong", async () => {
  const dir = await Deno.makeTempDir({ prefix: "feature_db_test_" });
  try {
    const write = async (name: string, text: string) => {
      const path = `${dir}/${name}`;
      await Deno.writeTextFile(path, text);
      return path;
    };
    const cases: [string, RegExp][] = [
      [`${dir}/missing.json`, /: cannot read the feature database: no such file$/],
      [await write("invalid.json", "[{"), /: not valid JSON: /],
      [
        await write("object.json", '{"name": "x"}'),
        /: expected a JSON array of features, got object$/,
      ],
      [await write("number.json", "7"), /: expected a JSON array of features, got number$/],
      [
        await write(
          "bad_entry.json",
          JSON.stringify([{ name: "ok", location: pt(1, 1) }, {
            name: "bad",
            location: pt(900000001, 0),
          }]),
        ),
        /: Cannot read feature 1: location\.latitude is out of range/,
      ],
      [await write("null_entry.json", "[null]"), /: Cannot read feature 0: expected an object/],
    ];
    for (const [path, reason] of cases) {
      await assert.rejects(loadFeatureDb(path), (error) => {
        assert.ok(error instanceof Error);
        assert.ok(error.message.startsWith(`${path}: `), error.message);
        assert.match(error.message, reason);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFeatureDb() reads an empty array as an empty database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "feature_db_test_" });
  try {
    await Deno.writeTextFile(`${dir}/empty.json`, "[]");
    const { db, duplicates } = await loadFeatureDb(`${dir}/empty.json`);
    assert.equal(db.size, 0);
    assert.deepEqual(duplicates, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
