/**
 * Request bodies through Http1Server in process: pauseBody() mid-read loses
 * no piece, however many arrive in one socket read.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { RawClient, startServer } from "./_client.ts";

Deno.test("Http1Server: a body paused in its first onData, its other chunks in the same read, gets every byte after resumeBody() and onEnd only then", async () => {
  const events: string[] = [];
  const { port, stop } = await startServer((ex) => {
    const parts: Uint8Array[] = [];
    ex.readBody((c) => {
      events.push(`data ${Buffer.from(c).toString("latin1")}`);
      parts.push(c);
      if (parts.length === 1) {
        ex.pauseBody();
        queueMicrotask(() => {
          events.push("resume");
          ex.resumeBody();
        });
      }
    }, () => {
      events.push("end");
      const body = Buffer.concat(parts);
      ex.respond(200, { "content-length": String(body.length) });
      ex.end(body);
    });
  });
  const client = new RawClient(port);
  try {
    // RFC 9112 §7.1: three chunks and the last chunk, all in one write.
    client.write(
      "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "3\r\nabc\r\n3\r\ndef\r\n2\r\ngh\r\n0\r\n\r\n",
    );
    const r = await client.response();
    assert.deepEqual([r.status, r.body], [200, "abcdefgh"]);
    assert.deepEqual(events, ["data abc", "resume", "data def", "data gh", "end"]);
  } finally {
    client.socket.destroy();
    await stop();
  }
});
