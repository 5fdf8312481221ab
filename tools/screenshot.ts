/**
 * `deno task screenshot`: serves RouteGuide with the page on a free loopback
 * port (in this process), opens the page in headless Chromium at a fixed
 * size, looks up a feature, records a short route and drags a rectangle, then
 * writes `docs/screenshot.png` for the README.
 *
 * Usage: `deno task screenshot [--out docs/screenshot.png]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { loadFeatureDb } from "../lib/data/feature_file.ts";
import { serve } from "../lib/server/serve.ts";
import { launchChromium, type Page } from "./chromium.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The README shows the page at this size, CSS pixels. */
const VIEWPORT = { width: 1280, height: 900 };

const dot = (name: string) => `.layer-base circle[data-name^=${JSON.stringify(name)}]`;

/** Drives the page into a state worth showing: a route, a rectangle, a lookup. */
export async function stage(page: Page): Promise<void> {
  await page.waitFor(
    `document.getElementById("list-status").dataset.done === "true"`,
    "the features",
  );
  await page.clickOn('input[name="mode"][value="route"]');
  for (
    const name of [
      "Empire State Building",
      "Lyndhurst Mansion",
      "Storm King Mountain summit",
      "Slide Mountain summit",
    ]
  ) {
    await page.clickOn(dot(name));
  }
  await page.clickOn("#route-send");
  await page.waitFor(`!document.getElementById("route-summary").hidden`, "the route's summary");
  await page.clickOn('input[name="mode"][value="lookup"]');
  const box = await page.evaluate<{ x: number; y: number; width: number; height: number }>(
    `(() => { const r = document.getElementById("map").getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`,
  );
  await page.drag(
    { x: box.x + box.width * 0.33, y: box.y + box.height * 0.3 },
    { x: box.x + box.width * 0.45, y: box.y + box.height * 0.48 },
  );
  await page.waitFor(
    `document.getElementById("list-status").dataset.done === "true"`,
    "the rectangle's features",
  );
  await page.clickOn(dot("Empire State Building"));
  await page.waitFor(
    `/Empire/.test(document.getElementById("lookup-result").textContent)`,
    "the lookup",
  );
  // Clicks scrolled their targets into view: the picture starts at the top.
  await page.evaluate(`window.scrollTo({ top: 0, behavior: "instant" })`);
}

/** Writes the screenshot; resolves to its path. */
export async function main(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string", default: `${ROOT}docs/screenshot.png` } },
  });
  const { db } = await loadFeatureDb(`${ROOT}data/route_guide_db.json`);
  const server = await serve({ db, host: "127.0.0.1", port: 0 });
  try {
    await using browser = await launchChromium({ viewport: VIEWPORT });
    await browser.page.navigate(`http://127.0.0.1:${server.port}/`);
    await stage(browser.page);
    await Deno.writeFile(values.out!, await browser.page.screenshot());
    const errors = browser.page.errors();
    if (errors.length > 0) console.error(`the page reported:\n${errors.join("\n")}`);
  } finally {
    await server.shutdown(0);
  }
  return values.out!;
}

if (import.meta.main) console.log(`wrote ${await main(Deno.args)}`);
