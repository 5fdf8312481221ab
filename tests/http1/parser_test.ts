/**
 * RFC 9112 request parsing, shape by shape, through bytes into the sans-I/O
 * parser: every framing ambiguity that request smuggling is built from is
 * refused with the status the RFCs name, and valid requests give the same
 * events however their bytes are split.
 */

import assert from "node:assert/strict";
import {
  Http1ParseError,
  RequestParser,
  type RequestParserOptions,
} from "../../lib/http1/parser.ts";

const encoder = new TextEncoder();

/** An event as the tests compare it: body pieces joined into one string. */
type Seen =
  | { type: "head"; method: string; target: string; version: string; headers: [string, string][] }
  | { type: "body"; text: string }
  | { type: "end" };

/** Feeds `pieces` in order (each until consumed); the events, or the error they ended with. */
export function feed(
  pieces: Uint8Array[],
  options?: RequestParserOptions,
): { seen: Seen[]; error?: Http1ParseError } {
  const parser = new RequestParser(options);
  const seen: Seen[] = [];
  try {
    for (const piece of pieces) {
      let at = 0;
      while (at < piece.length) {
        const n = parser.receive(piece.subarray(at));
        const events = parser.takeEvents();
        assert.ok(n > 0 || events.length > 0, "receive() made no progress");
        at += n;
        for (const event of events) {
          const last = seen[seen.length - 1];
          if (event.type === "head") {
            const { method, target, version } = event.head;
            seen.push({
              type: "head",
              method,
              target,
              version,
              headers: [...event.head.headers].map(([n, v]) => [n, v]),
            });
          } else if (event.type === "body") {
            const text = new TextDecoder().decode(event.chunk);
            if (last?.type === "body") last.text += text;
            else seen.push({ type: "body", text });
          } else seen.push({ type: "end" });
        }
      }
    }
  } catch (error) {
    if (!(error instanceof Http1ParseError)) throw error;
    return { seen, error };
  }
  return { seen };
}

function parse(text: string, options?: RequestParserOptions) {
  return feed([encoder.encode(text)], options);
}

/** Asserts that `text` is refused with `status`, the message matching `message`. */
function refuses(text: string, status: number, message: RegExp, options?: RequestParserOptions) {
  const { error } = parse(text, options);
  assert.ok(error, `expected ${status} for ${JSON.stringify(text.slice(0, 80))}`);
  assert.equal(error.status, status, error.message);
  assert.match(error.message, message);
}

const PAIR = "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" +
  "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer-X: 1\r\n\r\n";

Deno.test("parser: a GET gives its head (names lower case, values trimmed) and its end", () => {
  const { seen, error } = parse("GET /p?q=1 HTTP/1.1\r\nHost: example\r\nX-A:  v 1 \t\r\n\r\n");
  assert.equal(error, undefined);
  assert.deepEqual(seen, [
    {
      type: "head",
      method: "GET",
      target: "/p?q=1",
      version: "1.1",
      headers: [["host", "example"], ["x-a", "v 1"]],
    },
    { type: "end" },
  ]);
});

Deno.test("parser: a pipelined pair (Content-Length, then chunked with trailers dropped)", () => {
  const { seen, error } = parse(PAIR);
  assert.equal(error, undefined);
  assert.deepEqual(
    seen.map((e) => e.type === "head" ? e.target : e.type === "body" ? e.text : "end"),
    [
      "/a?x=1",
      "hello",
      "end",
      "/b",
      "abcde",
      "end",
    ],
  );
});

Deno.test("parser: the pair split at every byte boundary, and one byte at a time, gives the same events", () => {
  const bytes = encoder.encode(PAIR);
  const whole = feed([bytes]);
  for (let i = 1; i < bytes.length; i++) {
    assert.deepEqual(feed([bytes.subarray(0, i), bytes.subarray(i)]), whole, `split at ${i}`);
  }
  assert.deepEqual(feed([...bytes].map((b) => Uint8Array.of(b))), whole);
});

Deno.test("parser: HTTP/1.0 needs no Host; HTTP/1.2 reads as 1.1 (RFC 9110 §2.5)", () => {
  const a = parse("GET / HTTP/1.0\r\n\r\n");
  assert.equal(a.error, undefined);
  assert.equal(a.seen[0].type === "head" && a.seen[0].version, "1.0");
  const b = parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n");
  assert.equal(b.seen[0].type === "head" && b.seen[0].version, "1.1");
});

Deno.test("parser: an absolute-form target is reduced to path and query, its authority read as Host (RFC 9112 §3.2.2)", () => {
  const { seen } = parse("GET http://example.com:8080?a=b HTTP/1.1\r\nHost: other\r\n\r\n");
  assert.deepEqual(seen[0].type === "head" && [seen[0].target, seen[0].headers], [
    "/?a=b",
    [["host", "example.com:8080"]],
  ]);
  const b = parse("GET https://e/x/y HTTP/1.1\r\nHost: e\r\n\r\n");
  assert.equal(b.seen[0].type === "head" && b.seen[0].target, "/x/y");
});

Deno.test("parser: empty lines before a request line are ignored (RFC 9112 §2.2)", () => {
  const { seen, error } = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(error, undefined);
  assert.equal(seen.length, 2);
});

// Smuggling shapes: RFC 9112 §6.1 and §6.3 make each of these an error, never a guess.
Deno.test("parser: Content-Length with Transfer-Encoding, in either order, is 400 (RFC 9112 §6.1)", () => {
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    400,
    /Transfer-Encoding and Content-Length/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    400,
    /Transfer-Encoding and Content-Length/,
  );
});

Deno.test("parser: duplicate, different and list-valued Content-Length are 400 (RFC 9112 §6.3)", () => {
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    400,
    /more than one Content-Length/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    400,
    /more than one Content-Length/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc",
    400,
    /invalid Content-Length/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc",
    400,
    /invalid Content-Length/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n",
    400,
    /invalid Content-Length/,
  );
});

Deno.test("parser: Transfer-Encoding not ending in one chunked is 400; another coding before it is 501 (RFC 9112 §6.3, §6.1)", () => {
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    400,
    /does not end in chunked/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n",
    400,
    /does not end in chunked/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
    400,
    /does not end in chunked/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
    400,
    /more than once/,
  );
  refuses(
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    501,
    /gzip is not supported/,
  );
  refuses("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, /HTTP\/1.0/);
});

Deno.test("parser: obs-fold, whitespace before the colon, bare CR, bare LF and NUL are 400 (RFC 9112 §5.1, §5.2, §2.2)", () => {
  refuses("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", 400, /line folding/);
  refuses(
    "GET / HTTP/1.1\r\nHost: h\r\nX-A : a\r\n\r\n",
    400,
    /whitespace before the colon in header field "X-A"/,
  );
  refuses("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400, /bare CR/);
  refuses("GET / HTTP/1.1\nHost: h\r\n\r\n", 400, /bare LF/);
  refuses(
    "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n",
    400,
    /invalid character in the value of header field X-A/,
  );
  refuses("GET / HTTP/1.1\r\nHost: h\r\nX(A): a\r\n\r\n", 400, /invalid header field name/);
  refuses("GET / HTTP/1.1\r\nHost: h\r\nno colon\r\n\r\n", 400, /without a colon/);
});

Deno.test("parser: invalid chunk sizes, extensions, oversized chunks and missing CRLF are 400 (RFC 9112 §7.1)", () => {
  const head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  refuses(head + "zz\r\n", 400, /invalid chunk size line/);
  refuses(head + "-1\r\n", 400, /invalid chunk size line/);
  refuses(head + "\r\n", 400, /invalid chunk size line/);
  refuses(head + "1;=x\r\n", 400, /invalid chunk size line/);
  refuses(head + "1 2\r\n", 400, /invalid chunk size line/);
  refuses(head + "fffffffffffffffff\r\n", 400, /too large/);
  refuses(head + "3\r\nabcX\r\n", 400, /not followed by CRLF/);
  refuses(head + "1;" + "a".repeat(5000), 400, /chunk size line longer/);
  const ok = parse(head + '0003;a=b;c="q \\" x"\r\nabc\r\n0\r\n\r\n');
  assert.equal(ok.error, undefined);
});

Deno.test("parser: a request line over 8 KiB is 414 before its end arrives (the issue's limit)", () => {
  refuses("GET /" + "a".repeat(8200), 414, /request line longer than 8192/);
  // "GET /" + path + " HTTP/1.1" is 14 bytes plus the path: 8192 bytes pass, 8193 do not.
  assert.equal(parse("GET /" + "a".repeat(8178) + " HTTP/1.1\r\nHost: h\r\n\r\n").error, undefined);
  refuses("GET /" + "a".repeat(8179) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414, /longer than 8192/);
});

Deno.test("parser: a header section over maxHeaderBytes, or over 100 fields, is 431 (RFC 6585 §5)", () => {
  refuses(
    "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + "v".repeat(9300),
    431,
    /header section larger than 9216/,
  );
  refuses(
    "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + "v".repeat(1100) + "\r\n\r\n",
    431,
    /larger than 1024/,
    { maxHeaderBytes: 1024 },
  );
  let many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (let i = 0; i < 100; i++) many += `x-${i}: v\r\n`;
  refuses(many + "\r\n", 431, /more than 100 header fields/);
  const trailers = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " +
    "v".repeat(9300);
  refuses(trailers, 431, /trailer section/);
});

Deno.test("parser: HTTP/2.0 and other majors are 505; HTTP/0.9 and junk versions are 400 (RFC 9110 §15.6.6)", () => {
  refuses("GET / HTTP/2.0\r\n\r\n", 505, /2.0 is not supported/);
  refuses("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, /not supported/);
  refuses("GET / HTTP/3.1\r\n\r\n", 505, /not supported/);
  refuses("GET /\r\n", 400, /HTTP\/0.9/);
  refuses("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400, /invalid HTTP version/);
  refuses("GET / http/1.1\r\nHost: h\r\n\r\n", 400, /invalid HTTP version/);
});

Deno.test("parser: methods are tokens (no whitelist); a bad one, extra spaces or a bad target are 400", () => {
  assert.equal(parse("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n").error, undefined);
  refuses("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400, /method is not a token/);
  refuses("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, /not method SP target SP version/);
  refuses("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400, /invalid request target/);
  refuses("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400, /asterisk-form/);
  refuses("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400, /invalid request target/);
});

Deno.test("parser: Host is required once on HTTP/1.1 and must be valid (RFC 9112 §3.2)", () => {
  refuses("GET / HTTP/1.1\r\n\r\n", 400, /without Host/);
  refuses("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, /more than one Host/);
  refuses("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, /invalid Host/);
});

Deno.test("parser: after an error every further call throws the same error", () => {
  const parser = new RequestParser();
  assert.throws(() => parser.receive(encoder.encode("GET / HTTP/2.0\r\n")), Http1ParseError);
  assert.throws(
    () => parser.receive(encoder.encode("GET / HTTP/1.1\r\n")),
    (e: Http1ParseError) => e.status === 505,
  );
});

Deno.test("parser: receive() stops after each event, a body piece too, so a paused reader is handed no further chunk", () => {
  const parser = new RequestParser();
  const text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  let bytes = encoder.encode(text);
  const calls: string[][] = [];
  while (bytes.length > 0) {
    const n = parser.receive(bytes);
    bytes = bytes.subarray(n);
    calls.push(
      parser.takeEvents().map((e) =>
        e.type === "body" ? `body ${new TextDecoder().decode(e.chunk)}` : e.type
      ),
    );
  }
  assert.deepEqual(calls, [["head"], ["body abc"], ["body de"], ["end"]]);
});
