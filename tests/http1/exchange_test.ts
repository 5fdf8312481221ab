/**
 * Http1Exchange has the shape of lib/web/'s HttpExchange, the seam the web
 * protocols are written against (lib/http1/ itself imports nothing from
 * lib/web/); and a socket with bytes unshifted into it is served from them.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import net from "node:net";
import type { HttpExchange } from "../../lib/web/exchange.ts";
import type { Http1Exchange } from "../../lib/http1/mod.ts";
import { Http1Server } from "../../lib/http1/mod.ts";
import { answer, RawClient, startServer } from "./_client.ts";
import { waitFor, within } from "../_async.ts";
import { Exchange, type ExchangeOwner } from "../../lib/http1/exchange.ts";
import type { RequestHead } from "../../lib/http1/parser.ts";

/** Compiles only if every Http1Exchange is an HttpExchange. */
const _assignable = (exchange: Http1Exchange): HttpExchange => exchange;

Deno.test("Http1Server: a socket whose first bytes were read and unshifted (as the listener's sniffing does) is served from them", async () => {
  const server = new Http1Server((ex) => answer(ex, 200, `${ex.method} ${ex.path}`));
  const listener = net.createServer((socket) => {
    socket.once("data", (first: Uint8Array) => {
      socket.pause();
      socket.unshift(first);
      server.accept(socket);
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const client = new RawClient((listener.address() as net.AddressInfo).port);
  try {
    client.write("GET /sniffed HTTP/1.1\r\nHost: t\r\n\r\n");
    const r = await client.response();
    assert.deepEqual([r.status, r.body], [200, "GET /sniffed"]);
    assert.match(r.headers["date"], /GMT$/);
  } finally {
    client.socket.destroy();
    server.destroyAll();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

/** Runs `attempt` and gives the error's message, or "no error". */
function errorOf(attempt: () => void): string {
  try {
    attempt();
    return "no error";
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

Deno.test("Http1Exchange: misuse throws naming the mistake — readBody twice, a 1xx status, write before respond, respond twice, a body past its content-length", async () => {
  const errors: string[] = [];
  const { port, stop } = await startServer((ex) => {
    ex.readBody(() => {}, () => {});
    errors.push(errorOf(() => ex.readBody(() => {}, () => {})));
    errors.push(errorOf(() => ex.respond(103, {})));
    errors.push(errorOf(() => ex.write(new Uint8Array(1))));
    ex.respond(200, { "content-length": "2" });
    errors.push(errorOf(() => ex.respond(200, {})));
    errors.push(errorOf(() => ex.write(new Uint8Array(3))));
    ex.end(new Uint8Array([0x6f, 0x6b]));
  });
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    const r = await within(client.response(), 5000, "the response");
    assert.deepEqual([r.status, r.body], [200, "ok"]);
    assert.deepEqual(errors, [
      "Error: readBody() called twice",
      "RangeError: respond() takes a final status, not 103",
      "Error: write() before respond()",
      "Error: respond() called twice",
      "RangeError: response body longer than its content-length",
    ]);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Exchange: readBody() on a request without a body ends at once; an onEnd that throws gets 500 and a closed connection", async () => {
  const { port, stop } = await startServer((ex) => {
    const read = () =>
      ex.readBody(() => {}, () => {
        if (ex.path.endsWith("/throw")) throw new Error("onEnd bug");
        answer(ex, 200, "ended");
      });
    // Read at once, or once the request's end was seen (then the end comes on its own).
    if (ex.path.startsWith("/later")) setTimeout(read, 0);
    else read();
  });
  const client = new RawClient(port);
  const failing = new RawClient(port);
  try {
    client.write(GET("/"));
    assert.deepEqual((await within(client.response(), 5000, "the response")).body, "ended");
    client.write(GET("/later"));
    assert.deepEqual((await within(client.response(), 5000, "the response")).body, "ended");
    failing.write(GET("/later/throw"));
    const r = await within(failing.response(), 5000, "the response");
    assert.deepEqual([r.status, r.headers["connection"]], [500, "close"]);
    await within(failing.closed, 5000, "the connection closing");
  } finally {
    client.socket.destroy();
    failing.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Exchange: end() without respond() is a 200 with an empty body", async () => {
  const { port, stop } = await startServer((ex) => ex.end());
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    const r = await within(client.response(), 5000, "the response");
    assert.deepEqual([r.status, r.body], [200, ""]);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Exchange: abort() closes the connection without an answer; after the answer it does nothing and the connection goes on", async () => {
  const { port, stop } = await startServer((ex) => {
    if (ex.path === "/abort") return ex.abort();
    answer(ex, 200, "fine");
    ex.abort();
  });
  const aborted = new RawClient(port);
  const client = new RawClient(port);
  try {
    aborted.write(GET("/abort"));
    await within(aborted.closed, 5000, "the aborted connection closing");
    assert.equal(await aborted.rest(), "");
    client.write(GET("/"));
    assert.equal((await within(client.response(), 5000, "the response")).body, "fine");
    client.write(GET("/"));
    assert.equal((await within(client.response(), 5000, "the response")).body, "fine");
  } finally {
    aborted.socket.destroy();
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Exchange: a body shorter than its content-length closes the connection (the client would wait forever)", async () => {
  const { port, stop } = await startServer((ex) => {
    ex.respond(200, { "content-length": "10" });
    ex.end(new TextEncoder().encode("four"));
  });
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    await within(client.closed, 5000, "the connection closing");
    // Whatever arrived, it is not a whole answer: never ten bytes of body.
    assert.doesNotMatch(await client.rest(), /\r\n\r\n[^]{10}/);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Exchange: writes after the client left, and a HEAD answer's body, are dropped with their done called", async () => {
  const dones: string[] = [];
  let left!: () => void;
  const clientLeft = new Promise<void>((resolve) => left = resolve);
  const { port, stop } = await startServer((ex) => {
    if (ex.method === "HEAD") {
      ex.respond(200, { "content-length": "4" });
      ex.write(new TextEncoder().encode("body"), () => dones.push("head"));
      ex.end();
      return;
    }
    ex.respond(200, {});
    ex.signal.addEventListener("abort", () => {
      assert.equal(ex.write(new TextEncoder().encode("late"), () => dones.push("late")), true);
      left();
    });
  });
  const head = new RawClient(port);
  const gone = new RawClient(port);
  try {
    head.write(`HEAD / HTTP/1.1\r\nHost: t\r\n\r\n`);
    assert.equal((await within(head.response(true), 5000, "the response")).status, 200);
    gone.write(GET("/"));
    await waitFor(() => gone.socket.bytesRead > 0, "the response head");
    gone.socket.destroy();
    await within(clientLeft, 5000, "the exchange to see the client leave");
    await waitFor(() => dones.length === 2, () => `done callbacks: ${dones.join(", ")}`);
    assert.deepEqual(dones.sort(), ["head", "late"]);
  } finally {
    head.socket.destroy();
    gone.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Exchange: a body found malformed aborts the exchange; what the handler answers then is dropped, and only the 400 goes out", async () => {
  const seen: string[] = [];
  const { port, stop } = await startServer((ex) => {
    ex.signal.addEventListener("abort", () => {
      // A handler that answers as it learns the call is over.
      ex.respond(200, { "content-length": "4" });
      seen.push(errorOf(() => ex.write(new TextEncoder().encode("late"), () => seen.push("done"))));
      ex.end();
    });
    ex.readBody(() => {}, () => {});
  });
  const client = new RawClient(port);
  try {
    // "zz" is no chunk size (RFC 9112 §7.1).
    client.write("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    await within(client.closed, 5000, "the connection closing");
    const wire = await client.rest();
    assert.match(wire, /^HTTP\/1\.1 400 /);
    assert.equal(wire.split("HTTP/1.1 ").length, 2, wire);
    await waitFor(() => seen.length === 2, () => seen.join(", "));
    assert.deepEqual(seen, ["no error", "done"]);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Exchange.expireAfter(): the callback runs ms later while the answer is pending, never once answered", async () => {
  const calls: string[] = [];
  const { port, stop } = await startServer((ex) => {
    const started = Date.now();
    if (ex.path === "/answered") {
      // Answered at once: its deadline, due before the next request's, must never fire.
      ex.expireAfter(20, () => calls.push("expired after the answer"));
      answer(ex, 200, "fine");
      return;
    }
    ex.expireAfter(80, () => answer(ex, 504, String(Date.now() - started)));
  });
  const client = new RawClient(port);
  try {
    client.write(GET("/answered"));
    assert.equal((await within(client.response(), 5000, "the first answer")).body, "fine");
    client.write(GET("/pending"));
    const r = await within(client.response(), 5000, "the answer at the deadline");
    assert.equal(r.status, 504);
    assert.ok(Number(r.body) >= 70, `expired after ${r.body} ms`);
    assert.deepEqual(calls, []);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

// ---- Exchange against a fake connection: what it asks of its owner, call by call.

/** A connection that records what the exchange asks of it. */
class FakeOwner implements ExchangeOwner {
  calls: string[] = [];
  queued: string[] = [];
  /** What queue() answers (under the high-water mark or not). */
  under = true;
  keepAlive = true;
  watched: number[] = [];
  queue(bytes: Uint8Array | undefined, done?: () => void): boolean {
    this.queued.push(
      bytes === undefined ? "<none>" : Buffer.from(bytes).toString("latin1"),
    );
    if (done) queueMicrotask(done);
    return this.under;
  }
  queueAll(pieces: Uint8Array[], done?: () => void): boolean {
    this.queued.push(
      pieces.map((p) => Buffer.from(p).toString("latin1")).join(""),
    );
    if (done) queueMicrotask(done);
    return this.under;
  }
  pump(): void {
    this.calls.push("pump");
  }
  mayKeepAlive(): boolean {
    return this.keepAlive;
  }
  date(): string {
    return "Tue, 08 Dec 2026 06:00:00 GMT";
  }
  closeAfterResponse(): void {
    this.calls.push("closeAfterResponse");
  }
  responseEnded(requestEnded: boolean): void {
    this.calls.push(`responseEnded ${requestEnded}`);
  }
  destroy(): void {
    this.calls.push("destroy");
  }
  watch(at: number): void {
    this.watched.push(at);
  }
  handlerFailed(): void {
    this.calls.push("handlerFailed");
  }
}

function makeExchange(
  options: {
    method?: string;
    version?: "1.0" | "1.1";
    headers?: [string, string][];
    socket?: Record<string, unknown>;
  } = {},
): { ex: Exchange; owner: FakeOwner } {
  const owner = new FakeOwner();
  const head: RequestHead = {
    method: options.method ?? "POST",
    target: "/p?q=1",
    version: options.version ?? "1.1",
    headers: options.headers ?? [["host", "h"]],
  };
  const socket = options.socket ??
    { remoteAddress: "127.0.0.9", remotePort: 4321 };
  return {
    ex: new Exchange(owner, head, socket as unknown as net.Socket),
    owner,
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);
/** Lets queued microtasks run. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("Exchange: a repeated request field's values are joined by ', ' (RFC 9110 §5.3); the peer and TLS as the socket says", () => {
  const { ex } = makeExchange({
    headers: [["host", "h"], ["accept", "a/b"], ["x-one", "1"], [
      "accept",
      "c/d",
    ]],
  });
  assert.deepEqual({ ...ex.headers }, {
    host: "h",
    accept: "a/b, c/d",
    "x-one": "1",
  });
  assert.deepEqual([ex.method, ex.path, ex.httpVersion], [
    "POST",
    "/p?q=1",
    "1.1",
  ]);
  assert.deepEqual([ex.remoteAddress, ex.remotePort, ex.encrypted], [
    "127.0.0.9",
    4321,
    false,
  ]);
  assert.equal(
    makeExchange({ socket: { encrypted: true } }).ex.encrypted,
    true,
  );
});

Deno.test("Exchange: readBody() asks the connection for bytes, delivers pieces while reading, then the end once; twice throws", () => {
  const { ex, owner } = makeExchange();
  assert.equal(ex.wantsBody, false);
  const seen: string[] = [];
  ex.readBody(
    (c) => seen.push(Buffer.from(c).toString()),
    () => seen.push("end"),
  );
  assert.deepEqual(owner.calls, ["pump"]);
  assert.equal(ex.wantsBody, true);
  assert.throws(
    () => ex.readBody(() => {}, () => {}),
    /readBody\(\) called twice/,
  );
  ex.deliver(bytes("ab"));
  assert.equal(ex.requestEnded, false);
  ex.requestEnd();
  assert.equal(ex.requestEnded, true);
  assert.deepEqual(seen, ["ab", "end"]);
  assert.deepEqual(owner.queued, [], "no 100 Continue without Expect");
});

Deno.test("Exchange: the end of a request that came before readBody() is delivered after it, once; a throwing onEnd is the handler failing", async () => {
  const { ex, owner } = makeExchange();
  ex.requestEnd();
  assert.equal(ex.requestEnded, true);
  let ends = 0;
  ex.readBody(() => assert.fail("no body"), () => ends++);
  assert.deepEqual(owner.calls, [], "nothing to read: no pump");
  await tick();
  assert.equal(ends, 1);

  const failing = makeExchange();
  failing.ex.requestEnd();
  failing.ex.readBody(() => {}, () => {
    throw new Error("handler bug");
  });
  await tick();
  assert.deepEqual(failing.owner.calls, ["handlerFailed"]);
});

Deno.test("Exchange: pauseBody() stops pieces, resumeBody() asks the connection for more", () => {
  const { ex, owner } = makeExchange();
  const seen: string[] = [];
  ex.readBody(
    (c) => seen.push(Buffer.from(c).toString()),
    () => seen.push("end"),
  );
  ex.pauseBody();
  assert.equal(ex.wantsBody, false);
  ex.deliver(bytes("held"));
  ex.resumeBody();
  assert.equal(ex.wantsBody, true);
  assert.deepEqual(owner.calls, ["pump", "pump"]);
  ex.deliver(bytes("x"));
  assert.deepEqual(seen, ["x"]);
});

Deno.test("Exchange: Expect: 100-continue gets 100 Continue at readBody() (RFC 9110 §10.1.1), not when the answer went out first", () => {
  const waiting = makeExchange({
    headers: [["host", "h"], ["expect", "100-Continue"]],
  });
  assert.equal(waiting.ex.awaitingContinue, true);
  waiting.ex.readBody(() => {}, () => {});
  assert.deepEqual(waiting.owner.queued, ["HTTP/1.1 100 Continue\r\n\r\n"]);
  assert.equal(waiting.ex.awaitingContinue, false);

  const answered = makeExchange({
    headers: [["host", "h"], ["expect", "100-continue"]],
  });
  answered.ex.respond(413, { "content-length": "0" });
  answered.ex.readBody(() => {}, () => {});
  assert.equal(answered.owner.queued.length, 1);
  assert.match(answered.owner.queued[0], /^HTTP\/1\.1 413 /);
  assert.equal(answered.ex.awaitingContinue, false);

  // HTTP/1.0 has no interim responses (RFC 9110 §15.2).
  const old = makeExchange({
    version: "1.0",
    headers: [["expect", "100-continue"]],
  });
  assert.equal(old.ex.awaitingContinue, false);
});

Deno.test("Exchange: respond() twice, or with an interim status, throws; after the signal aborted it sends nothing", () => {
  const { ex, owner } = makeExchange();
  assert.equal(ex.headSent, false);
  assert.throws(() => ex.respond(101, {}), RangeError);
  assert.throws(() => ex.respond(199, {}), /final status, not 199/);
  assert.equal(ex.headSent, false);
  ex.respond(200, { "content-length": "2" });
  assert.equal(ex.headSent, true);
  assert.throws(() => ex.respond(200, {}), /respond\(\) called twice/);
  assert.equal(owner.queued.length, 1);

  const aborted = makeExchange();
  aborted.ex.cancel("gone");
  aborted.ex.respond(200, {});
  aborted.ex.end(bytes("x"));
  assert.deepEqual([aborted.owner.queued, aborted.owner.calls], [[], []]);
});

Deno.test("Exchange: a head that may not keep the connection says so to the connection", () => {
  const { ex, owner } = makeExchange();
  owner.keepAlive = false;
  ex.respond(200, { "content-length": "0" });
  assert.deepEqual(owner.calls, ["closeAfterResponse"]);
  assert.match(owner.queued[0], /\r\nconnection: close\r\n/);
});

Deno.test("Exchange: write() before respond() throws; a content-length answer takes no byte more than it says", () => {
  const { ex, owner } = makeExchange();
  assert.throws(() => ex.write(bytes("x")), /write\(\) before respond\(\)/);
  ex.respond(200, { "content-length": "3" });
  assert.equal(ex.write(bytes("ab")), true);
  assert.throws(() => ex.write(bytes("cd")), /longer than its content-length/);
  ex.write(bytes("c"));
  ex.end();
  assert.deepEqual(owner.queued.slice(1), ["ab", "c"]);
  assert.deepEqual(owner.calls, ["responseEnded false"]);
  assert.equal(ex.finished, true);
});

Deno.test("Exchange: write() passes on the connection's backpressure and its done", async () => {
  const { ex, owner } = makeExchange();
  ex.respond(200, {});
  owner.under = false;
  let done = 0;
  assert.equal(ex.write(bytes("abc"), () => done++), false);
  // An empty write sends no chunk: a zero-size chunk would end the body (RFC 9112 §7.1).
  assert.equal(ex.write(new Uint8Array(0), () => done++), false);
  await tick();
  assert.equal(done, 2);
  assert.deepEqual(owner.queued.slice(1), ["3\r\nabc\r\n", "<none>"]);
});

Deno.test("Exchange: a HEAD answer takes no body bytes (RFC 9110 §9.3.2): write() runs done and returns true", async () => {
  const { ex, owner } = makeExchange({ method: "HEAD" });
  ex.respond(200, { "content-length": "5" });
  owner.under = false;
  let done = 0;
  assert.equal(ex.write(bytes("hello"), () => done++), true);
  await tick();
  assert.equal(done, 1);
  assert.equal(owner.queued.length, 1, "the head only");
});

Deno.test("Exchange: write() after the end or after the signal aborted queues nothing, runs done, returns true", async () => {
  const { ex, owner } = makeExchange();
  ex.respond(200, {});
  ex.end();
  owner.under = false;
  let done = 0;
  assert.equal(ex.write(bytes("late"), () => done++), true);
  assert.equal(ex.write(bytes("late")), true);
  const aborted = makeExchange();
  aborted.ex.respond(200, {});
  aborted.ex.cancel("gone");
  aborted.owner.under = false;
  assert.equal(aborted.ex.write(bytes("late"), () => done++), true);
  await tick();
  assert.equal(done, 2);
  assert.deepEqual(owner.queued.slice(1), ["0\r\n\r\n"]);
  assert.equal(aborted.owner.queued.length, 1);
});

Deno.test("Exchange: end() alone answers 200 with an empty chunked body (RFC 9112 §7.1); a second end() does nothing", () => {
  const { ex, owner } = makeExchange();
  ex.requestEnd();
  ex.end();
  ex.end();
  ex.end(bytes("more"));
  assert.equal(owner.queued.length, 2);
  assert.match(owner.queued[0], /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(owner.queued[0], /\r\ntransfer-encoding: chunked\r\n/);
  assert.equal(owner.queued[1], "0\r\n\r\n");
  assert.deepEqual(owner.calls, ["responseEnded true"]);
});

Deno.test("Exchange: end(chunk) writes it first; end() with content-length bytes missing drops the connection and does not finish", () => {
  const { ex, owner } = makeExchange();
  ex.respond(200, { "content-length": "4" });
  ex.end(bytes("four"));
  assert.deepEqual(owner.queued.slice(1), ["four"]);
  assert.equal(ex.finished, true);

  const short = makeExchange();
  short.ex.respond(200, { "content-length": "4" });
  short.ex.write(bytes("fo"));
  short.ex.end();
  assert.deepEqual(short.owner.calls, ["destroy"]);
  assert.equal(short.ex.finished, false);
});

Deno.test("Exchange: no piece and no end reach the reader after the signal aborted or the response ended", () => {
  const { ex } = makeExchange();
  const seen: string[] = [];
  ex.readBody(
    (c) => seen.push(Buffer.from(c).toString()),
    () => seen.push("end"),
  );
  ex.cancel("the connection closed");
  assert.equal(ex.wantsBody, false);
  ex.deliver(bytes("late"));
  ex.requestEnd();

  const ended = makeExchange();
  ended.ex.readBody(
    (c) => seen.push(Buffer.from(c).toString()),
    () => seen.push("end"),
  );
  ended.ex.end();
  assert.equal(ended.ex.wantsBody, false);
  ended.ex.deliver(bytes("late"));
  assert.deepEqual(seen, []);
});

Deno.test("Exchange: cancel() aborts the signal once, with the first reason, and not after the response ended", () => {
  const { ex } = makeExchange();
  ex.cancel("first");
  ex.cancel("second");
  assert.equal(ex.signal.aborted, true);
  assert.equal((ex.signal.reason as Error).message, "first");

  const done = makeExchange();
  done.ex.end();
  done.ex.cancel("after the end");
  assert.equal(done.ex.signal.aborted, false);
});

Deno.test("Exchange: abort() drops the connection unless the response ended", () => {
  const { ex, owner } = makeExchange();
  ex.abort();
  assert.deepEqual(owner.calls, ["destroy"]);
  const done = makeExchange();
  done.ex.end();
  done.ex.abort();
  assert.deepEqual(done.owner.calls, ["responseEnded false"]);
});

Deno.test("Exchange: expireAfter() sets the time due and tells the connection; expire() calls back once, not after the end or an abort", () => {
  const { ex, owner } = makeExchange();
  assert.equal(ex.expireAt, Infinity);
  let fired = 0;
  const before = Date.now();
  ex.expireAfter(5000, () => fired++);
  const after = Date.now();
  assert.ok(
    ex.expireAt >= before + 5000 && ex.expireAt <= after + 5000,
    `${ex.expireAt}`,
  );
  assert.deepEqual(owner.watched, [ex.expireAt]);
  ex.expire();
  ex.expire();
  assert.equal(fired, 1);
  assert.equal(ex.expireAt, Infinity);

  for (
    const finish of [
      (e: Exchange) => e.end(),
      (e: Exchange) => e.cancel("gone"),
    ]
  ) {
    const other = makeExchange();
    other.ex.expireAfter(1000, () => fired++);
    finish(other.ex);
    other.ex.expire();
  }
  assert.equal(fired, 1);
});
