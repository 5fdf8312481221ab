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
import { answer, RawClient } from "./_client.ts";

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
