import assert from "node:assert/strict";
import { GENERATED_DIR, generateTypes, listFiles } from "../../tools/gen_types.ts";
import { DESCRIPTOR_SET, generateDescriptorSet } from "../../tools/gen_descriptors.ts";
import { ROOT } from "../_server.ts";

Deno.test("lib/grpc/generated/ matches protos/route_guide.proto (run `deno task gen` if not)", async () => {
  const fresh = await Deno.makeTempDir({ prefix: "routeguide_gen_" });
  try {
    await generateTypes(fresh);
    const committed = `${ROOT}${GENERATED_DIR}`;
    const files = await listFiles(fresh);
    assert.deepEqual(await listFiles(committed), files, "the set of generated files differs");
    for (const file of files) {
      assert.equal(
        await Deno.readTextFile(`${committed}/${file}`),
        await Deno.readTextFile(`${fresh}/${file}`),
        `${GENERATED_DIR}/${file} is stale: run \`deno task gen\``,
      );
    }
  } finally {
    await Deno.remove(fresh, { recursive: true });
  }
});

Deno.test("protos/route_guide.binpb matches the protos it is built from (run `deno task gen` if not)", async () => {
  const fresh = await Deno.makeTempFile({ prefix: "routeguide_desc_", suffix: ".binpb" });
  try {
    await generateDescriptorSet(fresh);
    assert.deepEqual(
      await Deno.readFile(`${ROOT}${DESCRIPTOR_SET}`),
      await Deno.readFile(fresh),
      `${DESCRIPTOR_SET} is stale: run \`deno task gen\``,
    );
  } finally {
    await Deno.remove(fresh);
  }
});
