/**
 * Http1Server over loopback: keep-alive, pipelining, HTTP/1.0 framing,
 * 100-continue, the head and idle timeouts, shutdown, cancellation and
 * backpressure in both directions. Expected statuses and framings are those
 * of RFC 9112 and RFC 9110, named in each test.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { answer, RawClient, startServer } from "./_client.ts";
import type { Http1Exchange } from "../../lib/http1/exchange.ts";
import { waitFor, within } from "../_async.ts";

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

Deno.test("Http1Server: HTTP/1.1 keeps the connection alive for a second request (RFC 9112 §9.3)", async () => {
  const { port, server, stop } = await startServer((ex) => answer(ex, 200, `you asked ${ex.path}`));
  const client = new RawClient(port);
  try {
    client.write(GET("/one"));
    const a = await client.response();
    assert.deepEqual([a.status, a.body, a.headers["connection"]], [
      200,
      "you asked /one",
      undefined,
    ]);
    client.write(GET("/two"));
    const b = await client.response();
    assert.equal(b.body, "you asked /two");
    assert.equal(server.size, 1);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: two pipelined requests in one write get two responses in order, the second read after the first answered", async () => {
  const order: string[] = [];
  const { port, stop } = await startServer((ex) => {
    order.push(`start ${ex.path}`);
    // The first answers late; the second must still come second (RFC 9112 §9.3.2).
    const delay = ex.path === "/slow" ? 30 : 0;
    setTimeout(() => {
      order.push(`end ${ex.path}`);
      answer(ex, 200, ex.path);
    }, delay);
  });
  const client = new RawClient(port);
  try {
    client.write(GET("/slow") + GET("/fast"));
    assert.equal((await client.response()).body, "/slow");
    assert.equal((await client.response()).body, "/fast");
    assert.deepEqual(order, ["start /slow", "end /slow", "start /fast", "end /fast"]);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: HTTP/1.1 without content-length is chunked and ends in the zero chunk (RFC 9112 §7.1)", async () => {
  const { port, stop } = await startServer((ex) => {
    ex.respond(200, { "content-type": "text/plain" });
    ex.write(new TextEncoder().encode("ab"));
    ex.write(new Uint8Array(0)); // must not end the body early
    ex.end(new TextEncoder().encode("cd"));
  });
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    const r = await client.response();
    assert.deepEqual([r.framing, r.body], ["chunked", "abcd"]);
    client.write(GET("/"));
    assert.equal((await client.response()).body, "abcd");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: HTTP/1.0 streamed answers end by closing, never chunked (RFC 9112 §6.3, §7)", async () => {
  const { port, stop } = await startServer((ex) => {
    ex.respond(200, {});
    ex.write(new TextEncoder().encode("part1 "));
    setTimeout(() => ex.end(new TextEncoder().encode("part2")), 10);
  });
  const client = new RawClient(port);
  try {
    client.write("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const r = await client.response();
    assert.deepEqual([r.framing, r.body, r.headers["transfer-encoding"]], [
      "close",
      "part1 part2",
      undefined,
    ]);
    assert.equal(r.headers["connection"], "close");
    await within(client.closed, 5000, "the 1.0 connection closing");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: HTTP/1.0 keeps alive only with Connection: keep-alive and a content-length answer (RFC 9112 §9.3)", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 200, "x"));
  const client = new RawClient(port);
  const plain = new RawClient(port);
  try {
    client.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal((await client.response()).headers["connection"], "keep-alive");
    client.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal((await client.response()).status, 200);
    plain.write("GET / HTTP/1.0\r\n\r\n");
    assert.equal((await plain.response()).headers["connection"], "close");
    await within(plain.closed, 5000, "a plain 1.0 connection closing");
  } finally {
    client.socket.destroy();
    plain.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: Expect: 100-continue gets 100 Continue when the body is first asked for (RFC 9110 §10.1.1)", async () => {
  const { port, stop } = await startServer((ex) => {
    const parts: Uint8Array[] = [];
    ex.readBody((c) => parts.push(c), () => answer(ex, 200, `got ${Buffer.concat(parts)}`));
  });
  const client = new RawClient(port);
  try {
    client.write(
      "POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    );
    const interim = await within(client.response(), 5000, "100 Continue");
    assert.equal(interim.status, 100);
    client.write("hello");
    const r = await client.response();
    assert.deepEqual([r.status, r.body], [200, "got hello"]);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: a head not complete within headTimeoutMs gets 408 and the connection closes (slowloris)", async () => {
  const { port, server, stop } = await startServer(() => assert.fail("no request"), {
    headTimeoutMs: 200,
  });
  const client = new RawClient(port);
  try {
    client.write("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    const started = Date.now();
    await within(client.closed, 5000, "the slow connection closing");
    assert.match(
      await client.rest(),
      /^HTTP\/1\.1 408 [^\r]*\r\n[^]*connection: close[^]*request head not complete/,
    );
    assert.ok(Date.now() - started >= 150);
    await waitFor(() => server.size === 0, () => `${server.size} connections open`);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: an idle keep-alive connection closes after idleTimeoutMs", async () => {
  const { port, server, stop } = await startServer((ex) => answer(ex, 200, "x"), {
    idleTimeoutMs: 200,
  });
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    await client.response();
    await within(client.closed, 5000, "the idle connection closing");
    await waitFor(() => server.size === 0, () => `${server.size} connections open`);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: the timeouts of several connections each fire in time, and a request restarts a connection's idle time", async () => {
  // One timer serves the whole server, set again after each firing for the
  // earliest timeout still ahead.
  const { port, server, stop } = await startServer((ex) => answer(ex, 200, "x"), {
    idleTimeoutMs: 1500,
    headTimeoutMs: 300,
  });
  const idle = new RawClient(port);
  const first = new RawClient(port);
  let slow: RawClient | undefined;
  try {
    idle.write(GET("/"));
    await idle.response();
    first.write("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    // Once this 408 is out, the timer waits for the idle connection's timeout.
    await within(first.closed, 1200, "the first slow connection's 408");
    assert.match(await first.rest(), /^HTTP\/1\.1 408 /);
    slow = new RawClient(port);
    const started = Date.now();
    slow.write("GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    await within(slow.closed, 1000, "the slow connection's 408, before the idle one's timeout");
    assert.match(await slow.rest(), /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - started >= 250);
    // A request on the idle connection restarts its idle time.
    idle.write(GET("/again"));
    assert.equal((await idle.response()).status, 200);
    const again = Date.now();
    await within(idle.closed, 5000, "the idle connection closing");
    assert.ok(Date.now() - again >= 1400, `closed ${Date.now() - again} ms after its last answer`);
    await waitFor(() => server.size === 0, () => `${server.size} connections open`);
  } finally {
    for (const client of [idle, first, slow]) client?.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: close() closes idle connections at once and adds Connection: close to an answer in flight", async () => {
  let held: Http1Exchange | undefined;
  let arrived!: () => void;
  const heldArrived = new Promise<void>((r) => arrived = r);
  const { port, server, stop } = await startServer((ex) => {
    if (ex.path === "/hold") {
      held = ex;
      arrived();
    } else answer(ex, 200, "x");
  });
  const idle = new RawClient(port);
  const busy = new RawClient(port);
  try {
    idle.write(GET("/"));
    await idle.response();
    busy.write(GET("/hold"));
    await heldArrived;
    server.close();
    await within(idle.closed, 5000, "the idle connection closing on close()");
    answer(held!, 200, "late");
    const r = await busy.response();
    assert.deepEqual([r.body, r.headers["connection"]], ["late", "close"]);
    await within(busy.closed, 5000, "the busy connection closing after its answer");
    await waitFor(() => server.size === 0, () => `${server.size} connections open`);
  } finally {
    idle.socket.destroy();
    busy.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: a client that disconnects aborts the exchange's signal, answered or not", async () => {
  const aborted = new Map<string, () => void>();
  const { port, stop } = await startServer((ex) => {
    if (ex.path === "/streaming") {
      ex.respond(200, {});
      ex.write(new TextEncoder().encode("first"));
    }
    ex.signal.addEventListener("abort", () => aborted.get(ex.path)!());
  });
  const streaming = new RawClient(port);
  const waiting = new RawClient(port);
  try {
    for (const [client, path] of [[streaming, "/streaming"], [waiting, "/waiting"]] as const) {
      const signalled = new Promise<void>((r) => aborted.set(path, r));
      client.write(GET(path));
      if (path === "/streaming") await new Promise((r) => client.socket.once("data", r));
      else await waitFor(() => aborted.has(path), "the request to arrive");
      client.socket.destroy();
      await within(signalled, 5000, `the signal of ${path} aborting`);
    }
  } finally {
    await stop();
  }
});

Deno.test("Http1Server: parser errors get their status, Connection: close and a line naming the problem", async () => {
  const { port, stop } = await startServer(() => assert.fail("no request"));
  const client = new RawClient(port);
  try {
    client.write(
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    const r = await client.response();
    assert.equal(r.status, 400);
    assert.equal(r.headers["connection"], "close");
    assert.match(r.headers["content-type"], /^text\/plain/);
    assert.match(r.body, /both Transfer-Encoding and Content-Length\n$/);
    await within(client.closed, 5000, "the connection closing");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: a handler that throws gets 500 and a closed connection; the server goes on", async () => {
  const { port, stop } = await startServer((ex) => {
    if (ex.path === "/boom") throw new Error("handler bug");
    answer(ex, 200, "fine");
  });
  const a = new RawClient(port);
  const b = new RawClient(port);
  try {
    a.write(GET("/boom"));
    const r = await a.response();
    assert.deepEqual([r.status, r.headers["connection"]], [500, "close"]);
    await within(a.closed, 5000, "the connection closing");
    b.write(GET("/"));
    assert.equal((await b.response()).body, "fine");
  } finally {
    a.socket.destroy();
    b.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: HEAD gets the headers only, and the connection goes on (RFC 9110 §9.3.2)", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 200, "twelve bytes"));
  const client = new RawClient(port);
  try {
    client.write(`HEAD / HTTP/1.1\r\nHost: t\r\n\r\n`);
    const r = await client.response(true);
    assert.equal(r.headers["content-length"], "12");
    client.write(GET("/"));
    assert.equal((await client.response()).body, "twelve bytes");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: an early answer drains a small unread body and keeps the connection; a large one closes it, and its answer says so (RFC 9112 §9.6)", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 200, ex.path), {
    maxDiscardBytes: 1024,
  });
  const small = new RawClient(port);
  const large = new RawClient(port);
  try {
    small.write(
      "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + "x".repeat(100) + GET("/b"),
    );
    const first = await small.response();
    assert.deepEqual([first.body, first.headers["connection"]], ["/a", undefined]);
    assert.equal((await small.response()).body, "/b");
    large.write(
      "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(100000),
    );
    const early = await large.response();
    // A client that reused the connection would lose its next request.
    assert.deepEqual([early.body, early.headers["connection"]], ["/a", "close"]);
    await within(large.closed, 5000, "the connection closing");
  } finally {
    small.socket.destroy();
    large.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: a chunked upload is read as it arrives and its trailers dropped; an unknown Expect gets 417 (RFC 9110 §10.1.1)", async () => {
  const { port, stop } = await startServer((ex) => {
    const parts: string[] = [];
    ex.readBody(
      (c) => parts.push(new TextDecoder().decode(c)),
      () => answer(ex, 200, parts.join("|")),
    );
  });
  const client = new RawClient(port);
  const odd = new RawClient(port);
  try {
    client.write("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    client.write("2;x=y\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n");
    assert.equal((await client.response()).body.replaceAll("|", ""), "abcde");
    odd.write("POST /c HTTP/1.1\r\nHost: t\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx");
    const r = await odd.response();
    assert.deepEqual([r.status, r.headers["connection"]], [417, "close"]);
    assert.match(r.body, /unsupported expectation: teapot/);
  } finally {
    client.socket.destroy();
    odd.socket.destroy();
    await stop();
  }
});
