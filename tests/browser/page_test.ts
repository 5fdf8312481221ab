/**
 * The page at `/` in a real browser: headless Chromium, driven over the
 * DevTools protocol, against the real server on a free port. Expected values
 * come from the features file and the RouteGuide semantics (inclusive
 * rectangles; haversine with R = 6371000 m over E7/1e7 degrees, truncated),
 * never from the page's code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { boxOf, clickOn, fill, type Page, startChromium } from "../_cdp.ts";
import { decodePng, shareUnlikeBackground } from "../_png.ts";
import { makeTestCerts, tlsTest } from "../_certs.ts";
import { ROOT, startServer } from "../_server.ts";

interface Feature {
  name: string;
  location: { latitude: number; longitude: number };
}

const DB: Feature[] = JSON.parse(await Deno.readTextFile(`${ROOT}data/route_guide_db.json`));
const KNOWN = "Empire State Building, New York, NY";
const VIEWPORT = { width: 1280, height: 900 };
/** A generous bound on every wait: the suite runs in parallel on two busy cores. */
const WAIT_MS = 30_000;

/** Features inside the rectangle with corners `a` and `b`, in any order, edges included. */
function countWithin(a: Feature["location"], b: Feature["location"]): number {
  const [lat0, lat1] = [Math.min(a.latitude, b.latitude), Math.max(a.latitude, b.latitude)];
  const [lon0, lon1] = [Math.min(a.longitude, b.longitude), Math.max(a.longitude, b.longitude)];
  return DB.filter(({ location: { latitude, longitude } }) =>
    latitude >= lat0 && latitude <= lat1 && longitude >= lon0 && longitude <= lon1
  ).length;
}

/** Great-circle distance in metres: haversine, R = 6371000 m. */
function haversine(a: Feature["location"], b: Feature["location"]): number {
  const rad = (e7: number) => (e7 / 1e7) * Math.PI / 180;
  const dLat = rad(b.latitude) - rad(a.latitude);
  const dLon = rad(b.longitude) - rad(a.longitude);
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
}

const text = (page: Page, id: string) =>
  page.evaluate<string>(`document.getElementById(${JSON.stringify(id)}).textContent`);

/** Waits for a result paragraph to hold something other than its "…ing" placeholder. */
const settled = (page: Page, id: string, what: string) =>
  page.waitFor<string>(
    `(() => { const t = document.getElementById(${JSON.stringify(id)}).textContent;
      return t && !t.endsWith("…") ? t : ""; })()`,
    what,
    WAIT_MS,
  );

/** Waits until the listing in progress has ended and returns the count it shows. */
const listed = (page: Page, what: string) =>
  page.waitFor<number>(
    `document.getElementById("list-status").dataset.done === "true" &&
      Number(document.getElementById("list-status").dataset.count) + 1`,
    what,
    WAIT_MS,
  ).then((n) => n - 1);

const dotOf = (name: string) => `.layer-base circle[data-name=${JSON.stringify(name)}]`;

Deno.test("the page at / works in headless Chromium: features, lookup, rectangle, route, notes, errors", async (t) => {
  await using server = await startServer();
  await using browser = await startChromium({ viewport: VIEWPORT });
  const { page } = browser;
  const origin = `http://127.0.0.1:${server.port}`;
  await page.navigate(`${origin}/`);

  await t.step("it shows every feature of the database, with names", async () => {
    assert.equal(await listed(page, "the first listing"), DB.length);
    assert.equal(
      await page.evaluate(`document.querySelectorAll(".layer-base circle").length`),
      DB.length,
    );
    assert.ok(await page.evaluate(`!!document.querySelector(${JSON.stringify(dotOf(KNOWN))})`));
    const names = await page.evaluate<string[]>(
      `[...document.querySelectorAll("#feature-list button")].map((b) => b.textContent)`,
    );
    assert.ok(names.includes(KNOWN), `${KNOWN} is not in the list`);
    assert.equal(names.length, DB.filter((f) => f.name).length);
  });

  await t.step("a click on a feature looks it up and shows its name", async () => {
    await clickOn(page, dotOf(KNOWN));
    assert.match(
      await settled(page, "lookup-result", "the lookup"),
      /^Empire State Building, New York, NY/,
    );
  });

  await t.step("coordinates typed into the form look up a point", async () => {
    await fill(page, "#lookup-lat", "0.5");
    await fill(page, "#lookup-lon", "0.5");
    await clickOn(page, "#lookup-form button");
    assert.match(await settled(page, "lookup-result", "the lookup"), /^No feature here/);
  });

  await t.step(
    "a dragged rectangle streams its features into the page with the right count",
    async () => {
      const map = await boxOf(page, "#map");
      await page.drag(
        { x: map.x + map.width * 0.45, y: map.y + map.height * 0.3 },
        { x: map.x + map.width * 0.62, y: map.y + map.height * 0.6 },
      );
      const seen = await listed(page, "the rectangle's listing");
      const rect = await page.evaluate<Record<string, string>>(
        `({ ...document.querySelector(".layer-rectangle rect").dataset })`,
      );
      const expected = countWithin(
        { latitude: Number(rect.loLatitude), longitude: Number(rect.loLongitude) },
        { latitude: Number(rect.hiLatitude), longitude: Number(rect.hiLongitude) },
      );
      assert.ok(
        expected > 0 && expected < DB.length,
        `a rectangle over part of the map: ${expected}`,
      );
      assert.equal(seen, expected);
      assert.equal(
        await page.evaluate(`document.querySelectorAll(".layer-result circle").length`),
        expected,
      );
      assert.match(await text(page, "rect-result"), new RegExp(`^${expected} features`));
    },
  );

  await t.step("clicked points, recorded as a route, show the server's summary", async () => {
    await clickOn(page, 'input[name="mode"][value="route"]');
    const stops = [KNOWN, DB[1].name, DB[2].name];
    for (const name of stops) await clickOn(page, dotOf(name));
    const map = await boxOf(page, "#map");
    await page.click(map.x + 8, map.y + map.height - 8); // a corner: no feature there
    const points = await page.evaluate<Feature["location"][]>(
      `[...document.querySelectorAll("#route-points li")].map((li) =>
        ({ latitude: Number(li.dataset.latitude), longitude: Number(li.dataset.longitude) }))`,
    );
    assert.equal(points.length, 4);
    await clickOn(page, "#route-send");
    await settled(page, "route-result", "the route's summary");
    const value = (id: string) =>
      page.evaluate<number>(`Number(document.getElementById("${id}").dataset.value)`);
    const atFeature = points.filter((p) =>
      DB.some((f) =>
        f.name && f.location.latitude === p.latitude && f.location.longitude === p.longitude
      )
    ).length;
    assert.equal(atFeature, 3);
    let metres = 0;
    for (let i = 1; i < points.length; i++) {
      metres += haversine(points[i - 1], points[i]);
    }
    assert.equal(await value("summary-points"), 4);
    assert.equal(await value("summary-features"), atFeature);
    assert.equal(await value("summary-distance"), Math.trunc(metres));
    assert.ok((await value("summary-elapsed")) >= 0);
  });

  await t.step("a note left at a place shows the earlier notes there", async () => {
    await clickOn(page, 'input[name="mode"][value="note"]');
    const map = await boxOf(page, "#map");
    await page.click(map.x + map.width * 0.15, map.y + map.height * 0.2);
    for (const message of ["first note", "second note", "third note"]) {
      await fill(page, "#note-message", message);
      await clickOn(page, "#note-form button");
      await settled(page, "note-result", `the answer to "${message}"`);
    }
    assert.deepEqual(
      await page.evaluate(
        `[...document.querySelectorAll("#note-earlier li")].map((li) => li.textContent)`,
      ),
      ["first note", "second note"],
    );
    assert.match(await text(page, "note-result"), /joins 2 earlier notes/);
  });

  await t.step("an error reads as a sentence", async () => {
    await fill(page, "#lookup-lat", "95");
    await fill(page, "#lookup-lon", "10");
    await clickOn(page, "#lookup-form button");
    const said = await settled(page, "lookup-result", "the refused lookup");
    assert.ok(said.startsWith("The server refused this point: "), said);
    assert.match(said, /latitude/);
    assert.match(said, /950000000/, "the message names the value");
    assert.ok(said.endsWith("."), said);
  });

  await t.step("a screenshot is not blank", async () => {
    const image = decodePng(await page.screenshot());
    assert.equal(image.width, VIEWPORT.width);
    assert.equal(image.height, VIEWPORT.height);
    const share = shareUnlikeBackground(image);
    assert.ok(share >= 0.02, `only ${(share * 100).toFixed(2)}% of the pixels are not background`);
  });

  await t.step("a server that went away reads as a sentence", async () => {
    await server.stop();
    await fill(page, "#lookup-lat", "40");
    await fill(page, "#lookup-lon", "-74");
    await clickOn(page, "#lookup-form button");
    assert.equal(
      await settled(page, "lookup-result", "the failed lookup"),
      `Cannot reach the server at ${origin}.`,
    );
  });

  assert.deepEqual(
    await page.evaluate(
      // The lookup sent after the server stopped has no protocol: left out.
      `[...new Set(performance.getEntriesByType("resource").map((e) => e.nextHopProtocol))]
        .filter((p) => p !== "")`,
    ),
    ["http/1.1"],
    "a browser speaks HTTP/1.1 to a plaintext port",
  );
  assert.deepEqual(page.errors().filter((e) => !/Failed to load resource/.test(e)), []);
});

Deno.test("a blank page's screenshot is judged blank", async () => {
  await using browser = await startChromium({ viewport: { width: 320, height: 200 } });
  await browser.page.navigate("data:text/html,<body style='margin:0;background:%23f4f6f8'>");
  const image = decodePng(await browser.page.screenshot());
  assert.deepEqual([...image.pixels.subarray(0, 3)], [0xf4, 0xf6, 0xf8]);
  assert.equal(shareUnlikeBackground(image), 0);
});

/** The other origin's page: its script calls GetFeature on `target` and shows the outcome. */
const otherOriginPage = (target: string) =>
  `<!doctype html><title>elsewhere</title><p id="out">waiting</p>
<script type="module">
  const out = document.getElementById("out");
  try {
    const response = await fetch("${target}/routeguide.RouteGuide/GetFeature", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ latitude: 407484000, longitude: -739857000 }),
    });
    out.textContent = "answered: " + (await response.json()).name;
  } catch (error) {
    out.textContent = "refused: " + error.name;
  }
  out.dataset.done = "true";
</script>`;

/** Serves {@linkcode otherOriginPage} on a free port: another origin than the server's. */
function serveOtherOrigin(target: () => string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(otherOriginPage(target()), {
        headers: { "content-type": "text/html; charset=utf-8" },
      }),
  );
}

Deno.test("a page on another origin can call with --cors-origins and is refused without it", async () => {
  let target = "";
  const other = serveOtherOrigin(() => target);
  try {
    const otherOrigin = `http://127.0.0.1:${other.addr.port}`;
    await using browser = await startChromium();
    const outcome = async (args: string[]) => {
      await using server = await startServer({ args });
      target = `http://127.0.0.1:${server.port}`;
      await browser.page.navigate(`${otherOrigin}/`);
      return await browser.page.waitFor<string>(
        `document.getElementById("out").dataset.done && document.getElementById("out").textContent`,
        "the cross-origin call",
        WAIT_MS,
      );
    };
    assert.equal(await outcome(["--cors-origins", otherOrigin]), `answered: ${KNOWN}`);
    assert.equal(await outcome([]), "refused: TypeError");
    assert.equal(await outcome(["--cors-origins", "http://127.0.0.1:1"]), "refused: TypeError");
  } finally {
    await other.shutdown();
  }
});

tlsTest("the page works over HTTP/2 with TLS: features, a lookup and notes", async () => {
  await using certs = await makeTestCerts();
  await using server = await startServer({
    args: ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey],
  });
  // The test's own CA is not in Chromium's store; the protocol, not the trust, is under test.
  await using browser = await startChromium({ args: ["--ignore-certificate-errors"] });
  const { page } = browser;
  await page.navigate(`https://127.0.0.1:${server.port}/`);
  assert.equal(await listed(page, "the first listing over TLS"), DB.length);
  await clickOn(page, dotOf(KNOWN));
  assert.match(await settled(page, "lookup-result", "the lookup"), /^Empire State Building/);
  await clickOn(page, 'input[name="mode"][value="note"]');
  await clickOn(page, dotOf(KNOWN));
  for (const message of ["over h2", "again"]) {
    await fill(page, "#note-message", message);
    await clickOn(page, "#note-form button");
    await settled(page, "note-result", `the answer to "${message}"`);
  }
  assert.deepEqual(
    await page.evaluate(
      `[...document.querySelectorAll("#note-earlier li")].map((li) => li.textContent)`,
    ),
    ["over h2"],
  );
  const protocols = await page.evaluate<string[]>(
    `[...new Set(performance.getEntriesByType("resource").map((e) => e.nextHopProtocol))]`,
  );
  assert.deepEqual(protocols, ["h2"]);
});
