/**
 * Test helpers for a real browser: headless Chromium over the DevTools
 * protocol (the client itself is `tools/chromium.ts`, which
 * `deno task screenshot` uses too), a launcher that fails with what to install
 * when Chromium is missing, and element-level mouse helpers.
 *
 * @module
 */

import {
  type Browser,
  CHROMIUM_PATH,
  chromiumInstalled,
  launchChromium,
  type LaunchOptions,
  type Page,
  type Point,
} from "../tools/chromium.ts";

export { type Browser, type Page, type Point };

/**
 * Launches headless Chromium; when it is not installed, fails saying how to
 * install it (never skips: CI installs it through `.ci/run`).
 */
export function startChromium(options: LaunchOptions = {}): Promise<Browser> {
  const path = options.path ?? CHROMIUM_PATH;
  if (!chromiumInstalled(path)) {
    throw new Error(
      `the browser tests need Chromium at ${path}: apt-get install --no-install-recommends ` +
        "chromium fonts-dejavu-core (.ci/run does this in CI)",
    );
  }
  return launchChromium(options);
}

/** The centre of the first element matching `selector`, scrolled into view, in viewport pixels. */
export function centreOf(page: Page, selector: string): Promise<Point> {
  return page.centreOf(selector);
}

/** A mouse click on the centre of the first element matching `selector`. */
export function clickOn(page: Page, selector: string): Promise<void> {
  return page.clickOn(selector);
}

/** The bounding box of the first element matching `selector`, in viewport pixels. */
export async function boxOf(
  page: Page,
  selector: string,
): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.evaluate<{ x: number; y: number; width: number; height: number } | null>(
    `(() => {
      const element = document.querySelector(${JSON.stringify(selector)});
      if (!element) return null;
      const r = element.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    })()`,
  );
  if (box === null) throw new Error(`no element matches ${selector}`);
  return box;
}

/** Sets a form field's value as typing would (an `input` event follows). */
export async function fill(page: Page, selector: string, value: string): Promise<void> {
  await page.evaluate(`(() => {
    const input = document.querySelector(${JSON.stringify(selector)});
    input.value = ${JSON.stringify(value)};
    input.dispatchEvent(new Event("input", { bubbles: true }));
  })()`);
}
