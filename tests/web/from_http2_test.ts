/**
 * `lib/web/from_http2.ts`: a request stream of our HTTP/2 server as an
 * {@linkcode HttpExchange}, served in process on loopback and driven by a
 * `node:http2` client: the request as the exchange shows it (RFC 9113
 * §8.3: pseudo-headers apart, `:authority` as `host`), the response with
 * trailers, HEAD, resets both ways and call deadlines.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import net from "node:net";
import { Http2Server, type Http2ServerStream } from "../../lib/http2/server.ts";
import type { HttpExchange } from "../../lib/web/exchange.ts";
import { exchangeFromHttp2 } from "../../lib/web/from_http2.ts";
import { within } from "../_async.ts";

/** Serves each request as an exchange, handed to `onExchange` with its stream. */
async function serve(
  onExchange: (exchange: HttpExchange, stream: Http2ServerStream) => void,
  deadlineGraceMs?: number,
): Promise<{ port: number } & AsyncDisposable> {
  const h2 = new Http2Server({
    otherRequests: (stream, headers) =>
      onExchange(exchangeFromHttp2(stream, headers, deadlineGraceMs), stream),
  });
  const listener = net.createServer((socket) => h2.accept(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  return {
    port: (listener.address() as net.AddressInfo).port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => listener.close(() => resolve())),
  };
}

/** What the client saw of one request. */
interface Seen {
  headers: http2.IncomingHttpHeaders;
  trailers?: http2.IncomingHttpHeaders;
  body: string;
  rstCode: number;
}

/** Sends one request (body pieces, then its end unless `keepOpen`); resolves once its stream closes. */
async function send(
  port: number,
  headers: http2.OutgoingHttpHeaders,
  options: {
    body?: string[];
    keepOpen?: boolean;
    onStream?: (s: http2.ClientHttp2Stream) => void;
  } = {},
): Promise<Seen> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  try {
    return await within(
      new Promise<Seen>((resolve) => {
        const stream = session.request({ ":method": "POST", ":path": "/p", ...headers });
        const seen: Seen = { headers: {}, body: "", rstCode: 0 };
        const chunks: Buffer[] = [];
        stream.on("response", (h) => seen.headers = h);
        stream.on("trailers", (t) => seen.trailers = t);
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("error", () => {});
        stream.on("close", () => {
          seen.body = Buffer.concat(chunks).toString();
          seen.rstCode = stream.rstCode ?? 0;
          resolve(seen);
        });
        for (const piece of options.body ?? []) stream.write(piece);
        if (!options.keepOpen) stream.end();
        options.onStream?.(stream);
      }),
      10_000,
      "the request's stream to close",
    );
  } finally {
    session.destroy();
  }
}

Deno.test("an HTTP/2 request as an exchange: method upper case, path, headers without pseudo-headers, :authority as host, repeated values joined, the peer, trailers supported", async () => {
  let exchange: HttpExchange | undefined;
  await using server = await serve((e) => {
    exchange = e;
    e.respond(204, {});
    e.end();
  });
  await send(server.port, {
    ":method": "post",
    ":path": "/a.B/C?x=1",
    "content-type": "application/json",
    "x-multi": ["one", "two"],
  });
  assert.ok(exchange !== undefined);
  assert.equal(exchange.method, "POST");
  assert.equal(exchange.path, "/a.B/C?x=1");
  assert.equal(exchange.httpVersion, "2");
  assert.equal(exchange.encrypted, false);
  assert.equal(exchange.trailersSupported, true);
  assert.equal(exchange.remoteAddress, "127.0.0.1");
  assert.equal(typeof exchange.remotePort, "number");
  assert.deepEqual(exchange.headers, {
    "content-type": "application/json",
    "x-multi": "one, two",
    host: `127.0.0.1:${server.port}`,
  });
});

Deno.test("an exchange reads the body's pieces, then its end; respond() sends status and headers (a list as repeated fields); a write's done comes once it is sent; end() sends the last bytes and the trailers", async () => {
  await using server = await serve((exchange) => {
    const pieces: string[] = [];
    exchange.readBody(
      (chunk) => pieces.push(new TextDecoder().decode(chunk)),
      () => {
        exchange.respond(200, { "x-one": "one", "x-list": ["p", "q"] });
        exchange.write(new TextEncoder().encode(`${pieces.join("")}|`), () => {
          exchange.end(new TextEncoder().encode("end"), { "x-t": "value", "x-tl": ["a", "b"] });
        });
      },
    );
  });
  const seen = await send(server.port, { "content-type": "text/plain" }, { body: ["ab", "cd"] });
  assert.equal(seen.headers[":status"], 200);
  assert.equal(seen.headers["x-one"], "one");
  assert.equal(seen.headers["x-list"], "p, q");
  assert.equal(seen.body, "abcd|end");
  assert.equal(seen.trailers?.["x-t"], "value");
  assert.equal(seen.trailers?.["x-tl"], "a, b");
  assert.equal(seen.rstCode, 0);
});

Deno.test("end() without trailers ends the stream; after it, end() is ignored and a write only calls its done", async () => {
  let late: Promise<void> | undefined;
  let signal: AbortSignal | undefined;
  await using server = await serve((exchange, stream) => {
    signal = exchange.signal;
    exchange.respond(200, { "content-type": "text/plain" });
    exchange.write(new TextEncoder().encode("all "));
    exchange.end(new TextEncoder().encode("done"));
    exchange.end(new TextEncoder().encode("again"), { "x-t": "v" });
    late = new Promise<void>((resolve) => {
      assert.equal(exchange.write(new TextEncoder().encode("late"), resolve), true);
    });
    stream.once("close", () => {});
  });
  const seen = await send(server.port, {});
  assert.equal(seen.body, "all done");
  assert.equal(seen.trailers, undefined);
  assert.equal(seen.rstCode, 0);
  await within(late!, 5000, "the late write's done");
  assert.equal(signal?.aborted, false, "a finished exchange's signal aborted");
});

Deno.test("HEAD: respond() ends the stream with the headers; the body written is dropped, its done still called; the signal does not abort", async () => {
  let done: Promise<void> | undefined;
  let signal: AbortSignal | undefined;
  let closed: Promise<void> | undefined;
  await using server = await serve((exchange, stream) => {
    signal = exchange.signal;
    closed = new Promise((resolve) => stream.once("close", () => resolve()));
    exchange.respond(200, { "content-length": "4" });
    done = new Promise<void>((resolve) =>
      exchange.write(new TextEncoder().encode("body"), resolve)
    );
    // No end(): respond() alone completed the exchange.
  });
  const seen = await send(server.port, { ":method": "HEAD" });
  assert.equal(seen.headers[":status"], 200);
  assert.equal(seen.headers["content-length"], "4");
  assert.equal(seen.body, "");
  assert.equal(seen.rstCode, 0);
  await within(done!, 5000, "the dropped write's done");
  await within(closed!, 5000, "the server's stream to close");
  assert.equal(signal?.aborted, false, "a HEAD answered in full aborted its signal");
});

Deno.test("the client resetting the stream aborts the exchange's signal", async () => {
  let aborted: Promise<void> | undefined;
  let markData!: () => void;
  const sawData = new Promise<void>((resolve) => markData = resolve);
  await using server = await serve((exchange) => {
    aborted = new Promise((resolve) => exchange.signal.addEventListener("abort", () => resolve()));
    exchange.readBody(() => markData(), () => {});
  });
  await send(server.port, {}, {
    body: ["x"],
    keepOpen: true,
    onStream: (stream) => void sawData.then(() => stream.close(http2.constants.NGHTTP2_CANCEL)),
  });
  await within(aborted!, 5000, "the signal to abort");
});

Deno.test("a body paused, then reset by the client, delivers nothing more once resumed", async () => {
  const pieces: string[] = [];
  let aborted: Promise<void> | undefined;
  await using server = await serve((exchange) => {
    aborted = new Promise((resolve) =>
      exchange.signal.addEventListener("abort", () => {
        exchange.resumeBody();
        resolve();
      })
    );
    exchange.readBody((chunk) => {
      pieces.push(new TextDecoder().decode(chunk));
      exchange.pauseBody();
      exchange.respond(200, {});
    }, () => {});
  });
  await send(server.port, {}, {
    body: ["a"],
    keepOpen: true,
    onStream: (stream) =>
      stream.once("response", () => {
        stream.write("b");
        // The PING's answer comes after the server took "b" (frames are handled in order).
        stream.session!.ping(() => stream.close(http2.constants.NGHTTP2_CANCEL));
      }),
  });
  await within(aborted!, 5000, "the signal to abort");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(pieces, ["a"]);
});

Deno.test("a stream reset after end(), before it closed (a deadline's reset), still aborts the signal: the answer may not have arrived", async () => {
  let aborted: Promise<void> | undefined;
  await using server = await serve((exchange, stream) => {
    aborted = new Promise((resolve) => exchange.signal.addEventListener("abort", () => resolve()));
    exchange.respond(200, {});
    exchange.end(new TextEncoder().encode("x"));
    // The request side is still open: the stream has not closed. The deadline sweep resets so.
    stream.destroy();
  });
  const seen = await send(server.port, {}, { keepOpen: true });
  assert.equal(seen.rstCode, http2.constants.NGHTTP2_CANCEL);
  await within(aborted!, 5000, "the signal to abort");
});

Deno.test("an exchange made for a stream that already closed starts aborted", async () => {
  let signal: Promise<AbortSignal> | undefined;
  const h2 = new Http2Server({
    otherRequests: (stream, headers) => {
      signal = new Promise((resolve) =>
        stream.once("close", () => resolve(exchangeFromHttp2(stream, headers).signal))
      );
      stream.destroy();
    },
  });
  const listener = net.createServer((socket) => h2.accept(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  try {
    await send((listener.address() as net.AddressInfo).port, {});
    assert.equal((await within(signal!, 5000, "the exchange")).aborted, true);
  } finally {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
});

Deno.test("a Host field sent beside :authority is kept", async () => {
  let host: string | undefined;
  await using server = await serve((exchange) => {
    host = exchange.headers.host;
    exchange.respond(204, {});
    exchange.end();
  });
  await send(server.port, { ":authority": "a.example", host: "h.example" });
  assert.equal(host, "h.example");
});

Deno.test("after abort(), the body's end that was on its way is not delivered", async () => {
  const calls: string[] = [];
  let closed: Promise<void> | undefined;
  await using server = await serve((exchange, stream) => {
    closed = new Promise((resolve) => stream.once("close", () => resolve()));
    exchange.readBody(() => {
      calls.push("data");
      exchange.abort();
    }, () => calls.push("end"));
  });
  await send(server.port, {}, { body: ["x"] });
  await within(closed!, 5000, "the server's stream to close");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(calls, ["data"]);
});

Deno.test("abort() resets the stream (CANCEL) and aborts the signal; pauseBody() and resumeBody() pause and resume the stream", async () => {
  let signal: AbortSignal | undefined;
  await using server = await serve((exchange, stream) => {
    signal = exchange.signal;
    exchange.pauseBody();
    assert.equal(stream.isPaused(), true);
    exchange.resumeBody();
    assert.equal(stream.isPaused(), false);
    exchange.respond(200, {});
    exchange.abort();
  });
  const seen = await send(server.port, {});
  assert.equal(seen.rstCode, http2.constants.NGHTTP2_CANCEL);
  assert.equal(signal?.aborted, true);
});

Deno.test("a call's deadline (grpc-timeout, else connect-timeout-ms) resets its stream the grace period after it", async () => {
  const resets: [string, number, number][] = [];
  await using server = await serve((exchange, stream) => {
    resets.push([exchange.headers["x-case"], Date.now(), stream.resetAt]);
    exchange.respond(200, {});
    exchange.end();
  }, 300);
  await send(server.port, { "x-case": "grpc", "grpc-timeout": "2S", "connect-timeout-ms": "9" });
  await send(server.port, { "x-case": "connect", "connect-timeout-ms": "1000" });
  // Connect: 1 to 10 digits, nothing else (connectrpc.com/docs/protocol): no deadline otherwise.
  for (const bad of ["x100", "100x", "12345678901", "1.5"]) {
    await send(server.port, { "x-case": "none", "connect-timeout-ms": bad });
  }
  for (const [name, at, resetAt] of resets.splice(2)) {
    assert.equal(resetAt, Infinity, `${name}: reset ${resetAt - at} ms on`);
  }
  for (const [name, at, resetAt] of resets) {
    const expected = name === "grpc" ? 2000 + 300 : 1000 + 300;
    assert.ok(Math.abs(resetAt - at - expected) < 100, `${name}: reset ${resetAt - at} ms on`);
  }
  assert.equal(resets.length, 2);
});
