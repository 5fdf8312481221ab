/**
 * RFC 9112 request parsing, shape by shape, through bytes into the sans-I/O
 * parser: every framing ambiguity that request smuggling is built from is
 * refused with the status the RFCs name, and valid requests give the same
 * events however their bytes are split.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  Http1ParseError,
  type RequestEvent,
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

Deno.test("parser: Content-Length: 0 ends the request with no body event (RFC 9112 §6.3)", () => {
  const { seen, error } = parse("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  assert.equal(error, undefined);
  assert.deepEqual(seen.map((e) => e.type), ["head", "end"]);
});

Deno.test("parser: CONNECT's authority-form target is kept; an absolute-form target needs a host (RFC 9112 §3.2)", () => {
  const { seen, error } = parse(
    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
  );
  assert.equal(error, undefined);
  assert.equal(seen[0].type === "head" && seen[0].target, "example.com:443");
  refuses(
    "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n",
    400,
    /absolute-form target without a valid host/,
  );
  refuses("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400, /invalid request target/);
});

Deno.test("parser: the empty lines skipped before a request line count against the request line's budget", () => {
  const budget = { maxRequestLineBytes: 16 };
  // Eight empty lines are 16 bytes: the budget exactly.
  const { seen, error } = parse("\r\n".repeat(8) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n", budget);
  assert.equal(error, undefined);
  assert.equal(seen[0].type, "head");
  refuses("\r\n".repeat(9) + "GET / HTTP/1.1\r\n\r\n", 400, /too many empty lines/, budget);
});

Deno.test("parser: a line that arrives byte by byte, longer than the line buffer's first 256 bytes, is read whole", () => {
  const target = "/" + "a".repeat(1000);
  const bytes = encoder.encode(
    `GET ${target} HTTP/1.1\r\nHost: h\r\nX-Long: ${"b".repeat(600)}\r\n\r\n`,
  );
  const { seen, error } = feed([...bytes].map((b) => Uint8Array.of(b)));
  assert.equal(error, undefined);
  assert.ok(seen[0].type === "head");
  assert.equal(seen[0].target, target);
  assert.deepEqual(seen[0].headers[1], ["x-long", "b".repeat(600)]);
  // A start, then more than twice the buffer at once.
  const split = feed([
    encoder.encode("GET /"),
    encoder.encode(`${target.slice(1)} HTTP/1.1\r\nHost: h\r\n\r\n`),
  ]);
  assert.equal(split.error, undefined);
  assert.equal(split.seen[0].type === "head" && split.seen[0].target, target);
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

/** A head's target, or the error's status and message. */
function target(requestLine: string): string {
  const { seen, error } = parse(`${requestLine}\r\nHost: h\r\n\r\n`);
  if (error) return `${error.status} ${error.message}`;
  return seen[0].type === "head" ? seen[0].target : "no head";
}

Deno.test("parser: a fresh parser has no events; idle holds only before a request's first byte", () => {
  const parser = new RequestParser();
  assert.deepEqual(parser.takeEvents(), []);
  assert.equal(parser.idle, true);
  parser.receive(encoder.encode("GE"));
  assert.equal(parser.idle, false, "part of a request line");
  const skipping = new RequestParser();
  skipping.receive(encoder.encode("\r\n"));
  assert.equal(skipping.idle, false, "an empty line before the request line");
  const heading = new RequestParser();
  heading.receive(encoder.encode("GET / HTTP/1.1\r\n"));
  assert.equal(heading.idle, false, "the request line done, no field yet");
  heading.receive(encoder.encode("Host: h\r\n\r\n"));
  assert.deepEqual(heading.takeEvents().map((e) => e.type), ["head", "end"]);
  assert.equal(heading.idle, true, "between requests");
});

Deno.test("parser: lengthLeft counts down a Content-Length body and is undefined in a chunked one", () => {
  const parser = new RequestParser();
  assert.equal(parser.lengthLeft, undefined);
  parser.receive(encoder.encode("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"));
  assert.equal(parser.lengthLeft, 10);
  parser.receive(encoder.encode("abcd"));
  assert.equal(parser.lengthLeft, 6);
  const chunked = new RequestParser();
  chunked.receive(
    encoder.encode("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
  );
  chunked.receive(encoder.encode("5\r\n"));
  chunked.receive(encoder.encode("ab"));
  assert.equal(chunked.lengthLeft, undefined, "inside a chunk");
});

Deno.test("parser: body pieces of a Buffer read are plain Uint8Array views, not Buffers", () => {
  const parser = new RequestParser();
  const request = Buffer.from(
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    "latin1",
  );
  let at = parser.receive(request);
  at += parser.receive(request.subarray(at));
  const body = parser.takeEvents().find((e) => e.type === "body");
  assert.ok(body?.type === "body");
  assert.equal(Object.getPrototypeOf(body.chunk), Uint8Array.prototype);
  assert.equal(new TextDecoder().decode(body.chunk), "abc");
});

Deno.test("parser: lines longer than the line buffer, in pieces of any size, arrive whole", () => {
  const value = "v".repeat(3000);
  const text = `GET / HTTP/1.1\r\nHost: h\r\nX-Long: ${value}\r\n\r\n`;
  const bytes = encoder.encode(text);
  const cuts = [[100, 1200], [20, 40, 80, 160, 320, 640, 1280, 2560], [30, 31, 2900]];
  for (const at of cuts) {
    const pieces = [0, ...at].map((start, i) => bytes.subarray(start, [...at, bytes.length][i]));
    const { seen, error } = feed(pieces);
    assert.equal(error, undefined, `cut at ${at}`);
    assert.deepEqual(
      seen[0].type === "head" && seen[0].headers[1],
      ["x-long", value],
      `cut at ${at}`,
    );
  }
});

Deno.test("parser: a request line dribbled a byte at a time counts as one line, not as empty lines", () => {
  const line = "GET /abc HTTP/1.1";
  const bytes = encoder.encode(`${line}\r\nHost: h\r\n\r\n`);
  const { error } = feed([...bytes].map((b) => Uint8Array.of(b)), {
    maxRequestLineBytes: line.length,
  });
  assert.equal(error, undefined);
});

Deno.test("parser: empty lines before the request line are allowed up to maxRequestLineBytes bytes", () => {
  const request = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  assert.equal(parse("\r\n".repeat(5) + request, { maxRequestLineBytes: 20 }).error, undefined);
  assert.equal(parse("\r\n".repeat(6) + request, { maxRequestLineBytes: 20 }).error, undefined);
  refuses("\r\n".repeat(11) + request, 400, /too many empty lines/, { maxRequestLineBytes: 20 });
  assert.equal(parse("\r\n".repeat(10) + request, { maxRequestLineBytes: 20 }).error, undefined);
});

Deno.test("parser: targets in each form (RFC 9112 §3.2): asterisk for OPTIONS, authority for CONNECT, absolute ones reduced", () => {
  assert.equal(target("OPTIONS * HTTP/1.1"), "*");
  assert.equal(target("CONNECT example.com:443 HTTP/1.1"), "example.com:443");
  assert.match(target("GET example.com:443 HTTP/1.1"), /^400 invalid request target/);
  assert.equal(target("GET http://example.com HTTP/1.1"), "/");
  assert.equal(target("GET HTTP://example.com/a?b HTTP/1.1"), "/a?b");
  assert.match(
    target("GET http:///path HTTP/1.1"),
    /^400 absolute-form target without a valid host/,
  );
  assert.match(target("GET http://user@example.com/ HTTP/1.1"), /^400 absolute-form target/);
  assert.match(target("GET xhttp://example.com/p HTTP/1.1"), /^400 invalid request target/);
});

Deno.test("parser: a request line of two parts names HTTP/0.9 only when the second is not a version", () => {
  refuses("GET HTTP/1.1\r\nHost: h\r\n\r\n", 400, /not method SP target SP version/);
  refuses("GET /x\r\n", 400, /HTTP\/0\.9 is not served/);
});

Deno.test("parser: error messages quote at most a short prefix of a long bad value", () => {
  const long = "x".repeat(4000);
  const cases: [string, RegExp][] = [
    [`GET /${long}# HTTP/1.1\r\nHost: h\r\n\r\n`, /invalid request target/],
    [`GET ${long} HTTP/1.1\r\nHost: h\r\n\r\n`, /invalid request target/],
    [`GET / HTTP/1.1\r\nHost: h\r\n${long}@: v\r\n\r\n`, /invalid header field name/],
    [`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1${long}\r\n\r\n`, /invalid Content-Length/],
  ];
  for (const [text, message] of cases) {
    const { error } = parse(text, { maxRequestLineBytes: 8192 });
    assert.ok(error, text.slice(0, 40));
    assert.match(error.message, message);
    assert.ok(
      error.message.length < 200,
      `${error.message.length} chars: ${error.message.slice(0, 60)}`,
    );
  }
});

Deno.test("parser: the header section may be exactly maxHeaderBytes (field lines with their CRLFs), over several lines", () => {
  // "host: h\r\n" is 9 bytes, "x-a: " + 14 bytes + CRLF is 21: 30 in all.
  const fits = "GET / HTTP/1.1\r\nhost: h\r\nx-a: " + "a".repeat(14) + "\r\n\r\n";
  assert.equal(parse(fits, { maxHeaderBytes: 30 }).error, undefined);
  refuses(fits, 431, /header section larger than 29 bytes/, { maxHeaderBytes: 29 });
  const three = "GET / HTTP/1.1\r\nhost: h\r\nx-a: 1\r\nx-b: 2\r\n\r\n"; // 9 + 8 + 8 = 25
  assert.equal(parse(three, { maxHeaderBytes: 25 }).error, undefined);
  refuses(three, 431, /larger than 24/, { maxHeaderBytes: 24 });
});

Deno.test("parser: exactly maxHeaderFields fields pass, one more is 431", () => {
  const request = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
  assert.equal(parse(request, { maxHeaderFields: 3 }).error, undefined);
  refuses(request, 431, /more than 2 header fields/, { maxHeaderFields: 2 });
});

Deno.test("parser: trailer fields never join the head's headers", () => {
  const parser = new RequestParser();
  let bytes = encoder.encode(
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: 1\r\n\r\n",
  );
  const events: RequestEvent[] = [];
  while (bytes.length > 0) {
    bytes = bytes.subarray(parser.receive(bytes));
    events.push(...parser.takeEvents());
  }
  const head = events[0];
  assert.ok(head.type === "head");
  assert.deepEqual(head.head.headers, [["host", "h"], ["transfer-encoding", "chunked"]]);
  assert.equal(events[events.length - 1].type, "end");
});

Deno.test("parser: a field line folded with a tab is 400; a name with inner whitespace is an invalid name (RFC 9112 §5.2, RFC 9110 §5.1)", () => {
  refuses("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400, /obsolete line folding/);
  refuses("GET / HTTP/1.1\r\nHost: h\r\nX Y: 1\r\n\r\n", 400, /invalid header field name "X Y"/);
});

Deno.test("parser: empty elements of Transfer-Encoding are ignored (RFC 9110 §5.6.1)", () => {
  for (const value of ["chunked,", ", chunked", "chunked , ,"]) {
    const { seen, error } = parse(
      `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${value}\r\n\r\n2\r\nab\r\n0\r\n\r\n`,
    );
    assert.equal(error, undefined, value);
    assert.deepEqual(seen.map((e) => e.type === "body" ? e.text : e.type), ["head", "ab", "end"]);
  }
});

Deno.test("parser: chunk sizes are hex with any number of leading zeros, up to 13 significant digits (RFC 9112 §7.1)", () => {
  const chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const body = "x".repeat(256);
  const { seen, error } = parse(`${chunked}100\r\n${body}\r\n${"0".repeat(20)}1\r\ny\r\n0\r\n\r\n`);
  assert.equal(error, undefined);
  assert.deepEqual(seen.map((e) => e.type === "body" ? e.text : e.type), [
    "head",
    body + "y",
    "end",
  ]);
  // 13 hex digits are taken (the body then runs on); 14 are refused.
  const big = parse(`${chunked}1000000000000\r\nab`);
  assert.equal(big.error, undefined);
  assert.deepEqual(big.seen.map((e) => e.type === "body" ? e.text : e.type), ["head", "ab"]);
  refuses(`${chunked}10000000000000\r\nab`, 400, /chunk size 10000000000000 too large/);
  const { error: long } = parse(`${chunked}1;${"e".repeat(3000)}=\r\n`);
  assert.ok(long);
  assert.match(long.message, /invalid chunk size line/);
  assert.ok(long.message.length < 200, `${long.message.length} chars`);
});
