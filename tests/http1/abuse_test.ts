/**
 * Hostile HTTP/1.1 over loopback: smuggling shapes carrying a second
 * request in their body, oversized heads and request lines, a pipelined
 * flood, and a head dribbled one byte per write. Each smuggling shape is
 * refused with the status RFC 9112 §6.1/§6.3 name and the connection closed,
 * so the hidden request never reaches the handler.
 */

import assert from "node:assert/strict";
import { answer, RawClient, startServer } from "./_client.ts";
import { within } from "../_async.ts";

const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
const HEAD = "POST /front HTTP/1.1\r\nHost: t\r\n";

/** Each shape, the status it must get, and the request bytes (a hidden request after the framing). */
const SHAPES: [string, number, string][] = [
  [
    "CL then TE",
    400,
    `${HEAD}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  ],
  [
    "TE then CL",
    400,
    `${HEAD}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  ],
  ["duplicate CL", 400, `${HEAD}Content-Length: 0\r\nContent-Length: 36\r\n\r\n${SMUGGLED}`],
  ["CL list", 400, `${HEAD}Content-Length: 0, 36\r\n\r\n${SMUGGLED}`],
  [
    "TE chunked, identity",
    400,
    `${HEAD}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  ],
  [
    "TE chunked not last",
    400,
    `${HEAD}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  ],
  ["TE gzip, chunked", 501, `${HEAD}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ["obs-fold TE", 400, `${HEAD}X: a\r\n Transfer-Encoding: chunked\r\n\r\n${SMUGGLED}`],
  ["space before colon", 400, `${HEAD}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ["bare CR", 400, `${HEAD}X: a\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ["bare LF", 400, `${HEAD}X: a\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ["NUL in a value", 400, `${HEAD}X: a\0b\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`],
  ["invalid chunk size", 400, `${HEAD}Transfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n${SMUGGLED}`],
  [
    "chunk size overflow",
    400,
    `${HEAD}Transfer-Encoding: chunked\r\n\r\n${"f".repeat(20)}\r\n${SMUGGLED}`,
  ],
  [
    "TE on HTTP/1.0",
    400,
    `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  ],
];

Deno.test("abuse: every smuggling shape is refused with its status and a closed connection; the hidden request is never served", async () => {
  const served: string[] = [];
  const { port, stop } = await startServer((ex) => {
    served.push(ex.path);
    ex.readBody(() => {}, () => answer(ex, 200, "front"));
  });
  try {
    for (const [name, status, bytes] of SHAPES) {
      const client = new RawClient(port);
      try {
        client.write(bytes);
        const r = await within(client.response(), 5000, name);
        assert.equal(r.status, status, `${name}: ${r.body}`);
        assert.equal(r.headers["connection"], "close", name);
        assert.match(await within(client.rest(), 5000, `${name} closing`), /^$/, name);
      } finally {
        client.socket.destroy();
      }
    }
    assert.ok(!served.includes("/smuggled"), `served: ${served}`);
  } finally {
    await stop();
  }
});

Deno.test("abuse: an oversized head gets 431 and a long request line 414, each before it ends (RFC 6585 §5, RFC 9110 §15.5.15)", async () => {
  const { port, stop } = await startServer(() => assert.fail("no request"), {
    maxHeaderBytes: 4096,
  });
  const big = new RawClient(port);
  const long = new RawClient(port);
  try {
    big.write("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + "v".repeat(5000)); // no end of head
    assert.equal((await within(big.response(), 5000, "431")).status, 431);
    long.write("GET /" + "a".repeat(9000)); // no end of line
    assert.equal((await within(long.response(), 5000, "414")).status, 414);
  } finally {
    big.socket.destroy();
    long.socket.destroy();
    await stop();
  }
});

Deno.test("abuse: 2000 pipelined requests in one write get 2000 answers, in order", async () => {
  const { port, stop } = await startServer((ex) => answer(ex, 200, ex.path));
  const client = new RawClient(port);
  try {
    let all = "";
    for (let i = 0; i < 2000; i++) all += `GET /${i} HTTP/1.1\r\nHost: t\r\n\r\n`;
    client.write(all);
    for (let i = 0; i < 2000; i++) assert.equal((await client.response()).body, `/${i}`);
  } finally {
    client.socket.destroy();
    await stop();
  }
});

Deno.test("abuse: a head dribbled one byte per write is parsed the same", async () => {
  const { port, stop } = await startServer((ex) =>
    answer(ex, 200, `${ex.path} ${ex.headers["x-a"]}`)
  );
  const client = new RawClient(port);
  try {
    client.socket.setNoDelay(true);
    for (const c of "GET /drip HTTP/1.1\r\nHost: t\r\nX-A: b c\r\n\r\n") {
      client.write(c);
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal((await client.response()).body, "/drip b c");
  } finally {
    client.socket.destroy();
    await stop();
  }
});
