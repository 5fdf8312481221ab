/**
 * Http1Server's connection handling over loopback, in process: when a
 * connection closes or stays (RFC 9112 §9.3, §9.6), deadlines set by
 * expireAfter(), close() while a body drains, writers waiting on `done`
 * when the client goes, and the high-water mark as given.
 */

import assert from "node:assert/strict";
import net from "node:net";
import { answer, RawClient, startServer } from "./_client.ts";
import { Http1Server } from "../../lib/http1/mod.ts";
import type { Http1Exchange } from "../../lib/http1/mod.ts";
import { within } from "../_async.ts";

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

Deno.test("Http1Server: a request with Connection: close gets Connection: close and the connection ends after the answer (RFC 9112 §9.6)", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 200, "bye"));
  const client = new RawClient(port);
  try {
    client.write(GET("/", "Connection: keep-alive, close\r\n"));
    const r = await client.response();
    assert.deepEqual([r.body, r.headers["connection"]], ["bye", "close"]);
    await within(client.closed, 5000, "the connection closing after the answer");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: an answer to a client still waiting for 100 Continue closes the connection (RFC 9110 §10.1.1)", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 413, "too big"));
  const client = new RawClient(port);
  try {
    client.write(
      "POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    );
    const r = await client.response();
    assert.deepEqual([r.status, r.headers["connection"]], [413, "close"]);
    await within(client.closed, 5000, "the connection closing");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: a client that half-closes an idle connection gets its side closed too", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 200, "x"));
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    await client.response();
    client.socket.end();
    await within(client.closed, 5000, "the server closing its side");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: a body callback that throws gets 500 and a closed connection", async () => {
  const { port, stop } = await startServer((ex) => {
    ex.readBody(() => {
      throw new Error("handler bug");
    }, () => answer(ex, 200, "not reached"));
  });
  const client = new RawClient(port);
  try {
    client.write("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    const r = await client.response();
    assert.deepEqual([r.status, r.headers["connection"]], [500, "close"]);
    await within(client.closed, 5000, "the connection closing");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: an early answer with a chunked body past maxDiscardBytes closes after the answer; the next request is not served", async () => {
  const paths: string[] = [];
  const { port, stop } = await startServer((ex) => {
    paths.push(ex.path);
    answer(ex, 200, "early");
  }, { maxDiscardBytes: 10 });
  const client = new RawClient(port);
  try {
    client.write(
      "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `32\r\n${"x".repeat(50)}\r\n0\r\n\r\n` + GET("/b"),
    );
    const r = await client.response();
    assert.equal(r.body, "early");
    assert.equal(await within(client.rest(), 5000, "the connection closing"), "");
    assert.deepEqual(paths, ["/a"]);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: expireAfter() calls back when due, on the server's timer", async () => {
  const { port, stop } = await startServer((ex) => {
    ex.expireAfter(50, () => answer(ex, 504, "deadline"));
  });
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    const r = await within(client.response(), 5000, "the deadline's answer");
    assert.deepEqual([r.status, r.body], [504, "deadline"]);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: an exchange's deadline does not fire early when another connection's timeout does", async () => {
  let expired = false;
  let held: Http1Exchange | undefined;
  let arrived!: () => void;
  const heldArrived = new Promise<void>((r) => arrived = r);
  const { port, stop } = await startServer((ex) => {
    held = ex;
    ex.expireAfter(60_000, () => expired = true);
    arrived();
  }, { headTimeoutMs: 100 });
  const waiting = new RawClient(port);
  const slow = new RawClient(port);
  try {
    waiting.write(GET("/"));
    await heldArrived;
    slow.write("GET / HT");
    const r = await within(slow.response(), 5000, "the slow head's 408");
    assert.equal(r.status, 408);
    assert.equal(expired, false, "a deadline 60 s away fired with another connection's timeout");
    answer(held!, 200, "in time");
    assert.equal((await waiting.response()).body, "in time");
  } finally {
    waiting.socket.destroy();
    slow.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: close() while an early answer's unread body drains closes the connection", async () => {
  let answered!: () => void;
  const done = new Promise<void>((r) => answered = r);
  const { port, server, stop } = await startServer((ex) => {
    answer(ex, 200, "early");
    answered();
  });
  const client = new RawClient(port);
  try {
    client.write("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789");
    await done;
    assert.equal((await client.response()).body, "early");
    server.close();
    await within(client.closed, 5000, "the draining connection closing on close()");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: close() right after an answer is queued closes the connection once it is written", async () => {
  const started = await startServer((ex) => {
    // Once the request is read to its end: the exchange is done when close() comes.
    queueMicrotask(() => {
      answer(ex, 200, "last");
      started.server.close();
    });
  });
  const client = new RawClient(started.port);
  try {
    client.write(GET("/"));
    assert.equal((await client.response()).body, "last");
    await within(client.closed, 5000, "the connection closing");
  } finally {
    client.socket.destroy();
    await started.stop();
  }
});

Deno.test("Http1Server: close() when an early answer's chunked body has drained exactly maxDiscardBytes closes the connection", async () => {
  let answered!: () => void;
  const done = new Promise<void>((r) => answered = r);
  const { port, server, stop } = await startServer((ex) => {
    answer(ex, 200, "early");
    answered();
  }, { maxDiscardBytes: 10 });
  const client = new RawClient(port);
  try {
    client.write(
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n",
    );
    await done;
    assert.equal((await client.response()).body, "early");
    server.close();
    await within(client.closed, 5000, "the draining connection closing on close()");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: with highWaterMark 0 every write waits for the socket: an empty chunk's done too", async () => {
  let called!: () => void;
  const calledBack = new Promise<void>((r) => called = r);
  const { port, stop } = await startServer((ex) => {
    ex.respond(200, {});
    ex.write(Uint8Array.of(0x61), () => {
      assert.equal(ex.write(new Uint8Array(0), () => called()), false);
    });
  }, { highWaterMark: 0 });
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    await within(calledBack, 5000, "the empty write's done");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: a writer waiting on done is called back when the exchange is dropped", async () => {
  let called!: () => void;
  const calledBack = new Promise<void>((r) => called = r);
  const { port, stop } = await startServer((ex) => {
    ex.respond(200, {});
    assert.equal(ex.write(new Uint8Array(64), () => called()), false);
    ex.abort();
  }, { highWaterMark: 16 });
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    await within(calledBack, 5000, "done after the abort");
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: write() says false at the high-water mark given, true under the default", async () => {
  const results: boolean[] = [];
  for (const highWaterMark of [16, undefined]) {
    const { port, stop } = await startServer((ex) => {
      ex.respond(200, {});
      results.push(ex.write(new Uint8Array(20)));
      ex.end();
    }, highWaterMark === undefined ? {} : { highWaterMark });
    const client = new RawClient(port);
    try {
      client.write(GET("/"));
      await client.response();
    } finally {
      client.socket.destroy();
      await stop();
    }
  }
  assert.deepEqual(results, [false, true]);
});

Deno.test("Http1Server: a socket accepted after close(), or already destroyed, is destroyed and never served", async () => {
  let served = 0;
  const server = new Http1Server(() => served++);
  const listener = net.createServer((socket) => server.accept(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as net.AddressInfo).port;
  server.close();
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    assert.equal(await within(client.rest(), 5000, "the connection closing"), "");
    assert.equal(served, 0);
    assert.equal(server.size, 0);
    const fresh = new Http1Server(() => served++);
    let destroyed = 0;
    const gone = Object.assign(new net.Socket(), { destroyed: true });
    gone.destroy = () => (destroyed++, gone);
    fresh.accept(gone);
    assert.deepEqual([destroyed, fresh.size], [1, 0]);
    // A late error on the refused socket (a reset) is not an uncaught error event.
    gone.emit("error", new Error("ECONNRESET"));
  } finally {
    client.socket.destroy();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});

Deno.test("Http1Server: the Date field is now (RFC 9110 §6.6.1), to the second", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 200, "x"));
  const client = new RawClient(port);
  try {
    const before = Math.floor(Date.now() / 1000) * 1000;
    client.write(GET("/"));
    const r = await client.response();
    const after = Date.now();
    const date = Date.parse(r.headers["date"]);
    assert.ok(date >= before && date <= after, `${r.headers["date"]} not within the request`);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: after destroyAll() a new connection is refused, not served", async () => {
  let served = 0;
  const { port, server, stop } = await startServer(() => served++);
  server.destroyAll();
  const client = new RawClient(port);
  try {
    client.write(GET("/"));
    assert.equal(await within(client.rest(), 5000, "the connection closing"), "");
    assert.equal(served, 0);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: destroyAll() closes every connection at once and aborts the exchange in flight", async () => {
  let aborted!: () => void;
  const signalled = new Promise<void>((r) => aborted = r);
  let arrived!: () => void;
  const heldArrived = new Promise<void>((r) => arrived = r);
  const { port, server, stop } = await startServer((ex) => {
    if (ex.path === "/hold") {
      ex.signal.addEventListener("abort", () => aborted());
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
    server.destroyAll();
    assert.equal(server.size, 0);
    await within(signalled, 5000, "the held exchange's signal aborting");
    await within(Promise.all([idle.closed, busy.closed]), 5000, "both connections closing");
  } finally {
    idle.socket.destroy();
    busy.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: a response's head, a message after a promise and its end leave in one socket write", async () => {
  const writes: number[] = [];
  const server = new Http1Server(async (ex) => {
    ex.respond(200, {});
    await Promise.resolve();
    ex.write(new TextEncoder().encode("message"));
    await Promise.resolve();
    ex.end(new TextEncoder().encode("trailers"));
  });
  const listener = net.createServer((socket) => {
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      writes.push((args[0] as Uint8Array).length);
      return write(...args);
    }) as typeof socket.write;
    server.accept(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const client = new RawClient((listener.address() as net.AddressInfo).port);
  try {
    client.write(GET("/"));
    const r = await client.response();
    assert.equal(r.body, "messagetrailers");
    assert.equal(writes.length, 1, `socket writes of ${writes.join(", ")} bytes`);
  } finally {
    client.socket.destroy();
    server.destroyAll();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});

Deno.test("Http1Server: an early answer keeps the connection with exactly maxDiscardBytes unread, and closes with one more (RFC 9112 §9.6)", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 200, ex.path), {
    maxDiscardBytes: 10,
  });
  const exact = new RawClient(port);
  const over = new RawClient(port);
  try {
    // The head alone first: the answer goes out with all 10 (or 11) body bytes unread.
    exact.write("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n");
    const kept = await exact.response();
    assert.deepEqual([kept.body, kept.headers["connection"]], ["/a", undefined]);
    exact.write("0123456789" + GET("/b"));
    assert.equal((await exact.response()).body, "/b");
    over.write("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
    const closing = await over.response();
    assert.deepEqual([closing.body, closing.headers["connection"]], ["/a", "close"]);
  } finally {
    exact.socket.destroy();
    over.socket.destroy();
    await stop();
  }
});

Deno.test("Http1Server: an error on a served socket (a reset) is no uncaught error; the exchange aborts", async () => {
  let serverSide!: net.Socket;
  let aborted!: () => void;
  const signalled = new Promise<void>((r) => aborted = r);
  let arrived!: () => void;
  const heldArrived = new Promise<void>((r) => arrived = r);
  const server = new Http1Server((ex) => {
    ex.signal.addEventListener("abort", () => aborted());
    arrived();
  });
  const listener = net.createServer((socket) => {
    serverSide = socket;
    server.accept(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const client = new RawClient((listener.address() as net.AddressInfo).port);
  try {
    client.write(GET("/"));
    await heldArrived;
    serverSide.destroy(new Error("ECONNRESET"));
    await within(signalled, 5000, "the exchange aborting");
    await within(client.closed, 5000, "the connection closing");
  } finally {
    client.socket.destroy();
    server.destroyAll();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});
