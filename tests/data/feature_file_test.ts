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

Deno.test("loadFeatureDb() reads a large file in the usual shape as the general parser does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "feature_db_test_" });
  try {
    // Several of the scanner's 64 KiB chunks, one feature a line as the peers' make_db.py writes.
    const entries = Array.from({ length: 5000 }, (_, i) => ({
      name: i % 10 === 0 ? "" : `Place ${i}, "quoted" é`,
      location: pt(400000000 + i * 137, -740000000 - (i % 97) * 1009),
    }));
    const text = "[" + entries.map((e, i) =>
      `${i ? "," : ""}\n{"name": ${
        JSON.stringify(e.name)
      }, "location": {"latitude": ${e.location.latitude}, "longitude": ${e.location.longitude}}}`
    ).join("") + "\n]\n";
    const path = `${dir}/usual.json`;
    await Deno.writeTextFile(path, text);
    const { db, duplicates } = await loadFeatureDb(path);
    assert.equal(db.size, entries.length);
    assert.deepEqual(duplicates, []);
    for (let i = 0; i < entries.length; i++) {
      assert.deepEqual(db.at(i), entries[i]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFeatureDb() names a bad entry deep in a large file by its index", async () => {
  const dir = await Deno.makeTempDir({ prefix: "feature_db_test_" });
  try {
    const line = (i: number, latitude: number) =>
      `{"name": "f${i}", "location": {"latitude": ${latitude}, "longitude": ${-i}}}`;
    const lines = Array.from({ length: 4000 }, (_, i) => line(i, i));
    lines[3999] = line(3999, 900000001);
    const outOfRange = `${dir}/out_of_range.json`;
    await Deno.writeTextFile(outOfRange, `[\n${lines.join(",\n")}\n]\n`);
    await assert.rejects(
      loadFeatureDb(outOfRange),
      new RegExp(
        `^Error: ${outOfRange}: Cannot read feature 3999: location\\.latitude is out of range`,
      ),
    );
    lines[3999] = `{"name": "f3999", "location": {"latitude": 1.5, "longitude": 0}}`;
    const fraction = `${dir}/fraction.json`;
    await Deno.writeTextFile(fraction, `[\n${lines.join(",\n")}\n]\n`);
    await assert.rejects(
      loadFeatureDb(fraction),
      new RegExp(`^Error: ${fraction}: Cannot read feature 3999: location\\.latitude`),
    );
    lines.length = 3999;
    const cut = `${dir}/cut.json`;
    await Deno.writeTextFile(cut, `[\n${lines.join(",\n")}\n`);
    await assert.rejects(loadFeatureDb(cut), new RegExp(`^Error: ${cut}: not valid JSON: `));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFeatureDb() reads other valid shapes through the general parser", async () => {
  const dir = await Deno.makeTempDir({ prefix: "feature_db_test_" });
  try {
    const path = `${dir}/other.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify([
        { location: { longitude: 2, latitude: 1 }, name: "keys reordered" },
        { name: "no location" },
        { name: "exponent", location: { latitude: 5e2, longitude: 0 } },
      ]),
    );
    const { db } = await loadFeatureDb(path);
    assert.equal(db.get(pt(1, 2))?.name, "keys reordered");
    assert.equal(db.get(pt(0, 0))?.name, "no location");
    assert.equal(db.get(pt(500, 0))?.name, "exponent");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFeatureDb() says why it cannot read a directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "feature_db_test_" });
  try {
    await assert.rejects(
      loadFeatureDb(dir),
      new RegExp(`^Error: ${dir}: cannot read the feature database: .+`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
