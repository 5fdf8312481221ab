/**
 * Fuzzing the request parser with seeded mutations of valid requests (so a
 * failure repeats): it may refuse, but only with its own error and a 4xx/5xx
 * the RFCs name; it never throws anything else and always makes progress.
 */

import assert from "node:assert/strict";
import { Http1ParseError, RequestParser } from "../../lib/http1/parser.ts";
import { seededRandom } from "../_random.ts";

const CASES = 3000;
const SEEDS = [
  "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
  'POST /svc/M HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}',
  "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\n",
  "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
];
const INTERESTING = [
  "\r",
  "\n",
  "\r\n",
  " ",
  "\t",
  ":",
  ",",
  ";",
  "0",
  "f",
  "\0",
  "\x7f",
  "\xff",
  "chunked",
  "Content-Length: 1\r\n",
  "Transfer-Encoding: chunked\r\n",
];
/** Statuses the parser may answer with (RFC 9110 §15.5, §15.6; RFC 6585 §5). */
const STATUSES = new Set([400, 414, 431, 501, 505]);

function mutate(random: () => number, text: string): Uint8Array {
  const bytes = [...new TextEncoder().encode(text.repeat(1 + Math.floor(random() * 2)))];
  const int = (n: number) => Math.floor(random() * n);
  for (let m = 1 + int(4); m > 0; m--) {
    const at = int(bytes.length + 1);
    switch (int(4)) {
      case 0:
        bytes.splice(at, 1 + int(3));
        break;
      case 1:
        bytes.splice(at, 0, int(256));
        break;
      case 2:
        bytes[at % bytes.length] = int(256);
        break;
      default:
        bytes.splice(
          at,
          0,
          ...[...INTERESTING[int(INTERESTING.length)]].map((c) => c.charCodeAt(0)),
        );
    }
  }
  return Uint8Array.from(bytes);
}

Deno.test(`fuzz: ${CASES} mutated requests, split randomly, only ever give events or an Http1ParseError`, () => {
  const random = seededRandom(0x5eed);
  let refused = 0;
  for (let c = 0; c < CASES; c++) {
    const bytes = mutate(random, SEEDS[c % SEEDS.length]);
    const parser = new RequestParser({ maxHeaderBytes: 512, maxRequestLineBytes: 256 });
    let at = 0;
    try {
      while (at < bytes.length) {
        const end = Math.min(bytes.length, at + 1 + Math.floor(random() * 40));
        const piece = bytes.subarray(at, end);
        let used = 0;
        while (used < piece.length) {
          const n = parser.receive(piece.subarray(used));
          const events = parser.takeEvents();
          assert.ok(n > 0 || events.length > 0, `case ${c}: no progress`);
          used += n;
        }
        at = end;
      }
    } catch (error) {
      if (!(error instanceof Http1ParseError)) throw new Error(`case ${c}: ${error}`);
      assert.ok(STATUSES.has(error.status), `case ${c}: status ${error.status}`);
      assert.ok(error.message.length > 0);
      refused++;
    }
  }
  // The mutations must exercise both paths, or the test proves little.
  assert.ok(refused > CASES / 10 && refused < CASES, `refused ${refused} of ${CASES}`);
});
