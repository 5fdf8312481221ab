/**
 * Http1Exchange has the shape of lib/web/'s HttpExchange, the seam the web
 * protocols are written against (lib/http1/ itself imports nothing from
 * lib/web/); and a socket with bytes unshifted into it is served from them.
 */

import assert from "node:assert/strict";
import net from "node:net";
import type { HttpExchange } from "../../lib/web/exchange.ts";
import type { Http1Exchange } from "../../lib/http1/mod.ts";
import { Http1Server } from "../../lib/http1/mod.ts";
import { answer, RawClient, startServer } from "./_client.ts";
import { waitFor, within } from "../_async.ts";

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
