/**
 * Headless Chromium driven over the DevTools protocol (CDP) with Deno's
 * built-in WebSocket: launch on a fresh profile, open a page, evaluate,
 * wait for conditions, click and drag with the mouse, take screenshots.
 * Shared by `deno task screenshot` (`tools/screenshot.ts`) and the browser
 * tests (through `tests/_cdp.ts`); it knows nothing of RouteGuide.
 *
 * Debian's `chromium` is used as installed; npm's puppeteer would download a
 * browser of its own, which these machines cannot reach.
 *
 * @module
 */

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Options for {@linkcode launchChromium}. */
export interface LaunchOptions {
  /**
   * The browser executable.
   * @default {CHROMIUM_PATH}
   */
  path?: string;
  /**
   * The viewport, CSS pixels.
   * @default {{width: 1280, height: 800}}
   */
  viewport?: { width: number; height: number };
  /**
   * More command-line switches, e.g. `--ignore-certificate-errors` for a
   * test's own certificate.
   * @default {[]}
   */
  args?: string[];
  /**
   * How long to wait for the browser to start, ms.
   * @default {30000}
   */
  startTimeoutMs?: number;
}

/** A running headless Chromium with one page open. */
export interface Browser extends AsyncDisposable {
  /** The page (one tab) every call drives. */
  page: Page;
  /** The tail of what the browser wrote to stderr, for failure messages. */
  stderr(): string;
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

/** One tab. */
export interface Page {
  /** Loads `url` and resolves once its load event fired. */
  navigate(url: string, timeoutMs?: number): Promise<void>;
  /** The value of a JavaScript expression in the page (promises awaited). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /**
   * Polls `expression` until it is truthy and resolves to its value; fails
   * after `timeoutMs` with `what` and the page's console errors.
   */
  waitFor<T = unknown>(expression: string, what: string, timeoutMs?: number): Promise<T>;
  /** A left click at viewport coordinates (CSS pixels). */
  click(x: number, y: number): Promise<void>;
  /** The centre of the first element matching `selector`, scrolled into view first. */
  centreOf(selector: string): Promise<Point>;
  /** A left click on the centre of the first element matching `selector`. */
  clickOn(selector: string): Promise<void>;
  /** A left-button drag from one point to another in `steps` moves. */
  drag(from: Point, to: Point, steps?: number): Promise<void>;
  /** A PNG of the viewport. */
  screenshot(): Promise<Uint8Array>;
  /** Console errors and uncaught exceptions seen so far. */
  errors(): string[];
}

/** Viewport coordinates, CSS pixels. */
export interface Point {
  x: number;
  y: number;
}

/** Whether the browser executable is there. */
export function chromiumInstalled(path: string = CHROMIUM_PATH): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Starts headless Chromium on a fresh profile and opens one page. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const path = options.path ?? CHROMIUM_PATH;
  const viewport = options.viewport ?? { width: 1280, height: 800 };
  if (!chromiumInstalled(path)) {
    throw new Error(
      `Chromium is not installed at ${path}: install Debian's chromium package ` +
        "(apt-get install --no-install-recommends chromium fonts-dejavu-core)",
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "routeguide-chromium-" });
  const child = new Deno.Command(path, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--hide-scrollbars",
      "--mute-audio",
      `--window-size=${viewport.width},${viewport.height}`,
      `--user-data-dir=${profile}`,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      ...(options.args ?? []),
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = keepTail(child.stderr);
  const cleanup = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await stderr.done;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  try {
    const endpoint = await readEndpoint(profile, child, options.startTimeoutMs ?? 30_000);
    const connection = await connect(endpoint);
    const page = await openPage(connection, viewport);
    let closed: Promise<void> | undefined;
    const close = () =>
      closed ??= (async () => {
        await connection.send("Browser.close").catch(() => {});
        connection.close();
        await cleanup();
      })();
    return { page, stderr: stderr.text, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await cleanup();
    throw new Error(`${(error as Error).message}\nchromium stderr:\n${stderr.text()}`);
  }
}

/** Collects the last few KiB a stream writes, draining it so the writer never blocks. */
function keepTail(stream: ReadableStream<Uint8Array>): { text(): string; done: Promise<void> } {
  let tail = "";
  const done = (async () => {
    for await (const piece of stream.pipeThrough(new TextDecoderStream())) {
      tail = (tail + piece).slice(-4096);
    }
  })().catch(() => {});
  return { text: () => tail, done };
}

/** The browser's WebSocket address, from the DevToolsActivePort file Chromium writes at start. */
async function readEndpoint(
  profile: string,
  child: Deno.ChildProcess,
  timeoutMs: number,
): Promise<string> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (exited) throw new Error("Chromium exited at start");
    try {
      const [port, path] = (await Deno.readTextFile(`${profile}/DevToolsActivePort`)).split("\n");
      if (port && path) return `ws://127.0.0.1:${port.trim()}${path.trim()}`;
    } catch { /* not written yet */ }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Chromium did not open its DevTools port within ${timeoutMs} ms`);
}

/** A CDP connection: commands with ids, answers matched to them, events to listeners. */
interface Connection {
  send<T = Record<string, unknown>>(
    method: string,
    params?: Record<string, unknown>,
    sessionId?: string,
  ): Promise<T>;
  on(listener: (method: string, params: Record<string, unknown>, sessionId?: string) => void): void;
  close(): void;
}

async function connect(url: string): Promise<Connection> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`cannot open the DevTools socket ${url}`));
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners: ((m: string, p: Record<string, unknown>, s?: string) => void)[] = [];
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.id !== undefined) {
      const call = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) call?.reject(new Error(`CDP: ${JSON.stringify(message.error)}`));
      else call?.resolve(message.result);
    } else {
      for (const listener of listeners) listener(message.method, message.params, message.sessionId);
    }
  };
  socket.onclose = () => {
    for (const call of pending.values()) call.reject(new Error("the DevTools socket closed"));
    pending.clear();
  };
  return {
    send(method, params = {}, sessionId) {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params, sessionId }));
      return new Promise((resolve, reject) =>
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      );
    },
    on(listener) {
      listeners.push(listener);
    },
    close() {
      socket.close();
    },
  };
}

/** Opens a tab, attaches to it (flat sessions) and enables what the Page calls use. */
async function openPage(
  connection: Connection,
  viewport: { width: number; height: number },
): Promise<Page> {
  const { targetId } = await connection.send<{ targetId: string }>("Target.createTarget", {
    url: "about:blank",
  });
  const { sessionId } = await connection.send<{ sessionId: string }>("Target.attachToTarget", {
    targetId,
    flatten: true,
  });
  const send = <T = Record<string, unknown>>(method: string, params?: Record<string, unknown>) =>
    connection.send<T>(method, params, sessionId);
  const errors: string[] = [];
  let loads = 0;
  connection.on((method, params, session) => {
    if (session !== sessionId) return;
    if (method === "Page.loadEventFired") loads++;
    if (method === "Runtime.exceptionThrown") {
      const details = params.exceptionDetails as {
        text: string;
        exception?: { description?: string };
      };
      errors.push(details.exception?.description ?? details.text);
    }
    if (method === "Runtime.consoleAPICalled" && params.type === "error") {
      errors.push(
        (params.args as { value?: unknown; description?: string }[])
          .map((a) => a.value ?? a.description).join(" "),
      );
    }
    if (method === "Log.entryAdded") {
      const entry = params.entry as { level: string; text: string; url?: string };
      if (entry.level === "error") {
        errors.push(`${entry.text}${entry.url ? ` (${entry.url})` : ""}`);
      }
    }
  });
  await send("Page.enable");
  await send("Runtime.enable");
  await send("Log.enable");
  await send("Emulation.setDeviceMetricsOverride", {
    ...viewport,
    deviceScaleFactor: 1,
    mobile: false,
  });
  return createPage(send, { errors, loads: () => loads });
}

/** The centre of the first element matching `selector`, after scrolling it into view. */
async function centreOf(
  evaluate: <T>(expression: string) => Promise<T>,
  selector: string,
): Promise<Point> {
  const point = await evaluate<Point | null>(`(() => {
    const element = document.querySelector(${JSON.stringify(selector)});
    if (!element) return null;
    element.scrollIntoView({ block: "center", behavior: "instant" });
    const r = element.getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  })()`);
  if (point === null) throw new Error(`the page has no element matching ${selector}`);
  return point;
}

function createPage(
  send: <T = Record<string, unknown>>(
    method: string,
    params?: Record<string, unknown>,
  ) => Promise<T>,
  seen: { errors: string[]; loads(): number },
): Page {
  const evaluate = async <T>(expression: string): Promise<T> => {
    const answer = await send<{
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (answer.exceptionDetails) {
      const { text, exception } = answer.exceptionDetails;
      throw new Error(
        `in the page: ${exception?.description ?? text}\n  evaluating: ${expression}`,
      );
    }
    return answer.result.value as T;
  };
  const poll = async (condition: () => boolean | Promise<boolean>, what: string, ms: number) => {
    const deadline = performance.now() + ms;
    while (!(await condition())) {
      if (performance.now() > deadline) {
        throw new Error(
          `timed out after ${ms} ms: ${what}\npage errors: ${seen.errors.join("\n")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const mouse = (type: string, p: Point, buttons: number) =>
    send("Input.dispatchMouseEvent", {
      type,
      x: p.x,
      y: p.y,
      button: type === "mouseMoved" && buttons === 0 ? "none" : "left",
      buttons,
      clickCount: type === "mouseMoved" ? 0 : 1,
    });
  return {
    async navigate(url, timeoutMs = 30_000) {
      const before = seen.loads();
      const answer = await send<{ errorText?: string }>("Page.navigate", { url });
      if (answer.errorText) throw new Error(`cannot load ${url}: ${answer.errorText}`);
      await poll(() => seen.loads() > before, `the load event of ${url}`, timeoutMs);
    },
    evaluate,
    async waitFor<T>(expression: string, what: string, timeoutMs = 15_000): Promise<T> {
      let value: T | undefined;
      await poll(async () => Boolean(value = await evaluate<T>(expression)), what, timeoutMs);
      return value as T;
    },
    async click(x, y) {
      await mouse("mouseMoved", { x, y }, 0);
      await mouse("mousePressed", { x, y }, 1);
      await mouse("mouseReleased", { x, y }, 0);
    },
    centreOf: (selector) => centreOf(evaluate, selector),
    async clickOn(selector) {
      const { x, y } = await centreOf(evaluate, selector);
      await this.click(x, y);
    },
    async drag(from, to, steps = 8) {
      await mouse("mouseMoved", from, 0);
      await mouse("mousePressed", from, 1);
      for (let i = 1; i <= steps; i++) {
        const t = i / steps;
        await mouse("mouseMoved", {
          x: from.x + (to.x - from.x) * t,
          y: from.y + (to.y - from.y) * t,
        }, 1);
      }
      await mouse("mouseReleased", to, 0);
    },
    async screenshot() {
      const { data } = await send<{ data: string }>("Page.captureScreenshot", { format: "png" });
      return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    },
    errors: () => [...seen.errors],
  };
}
