/**
 * Interop: `curl` (Debian's) calls the web protocols by hand, over HTTP/1.1
 * and h2c: Connect unary as a JSON POST and as a GET
 * (`?encoding=json&message=...`, the Connect protocol's form for methods
 * marked side-effect-free), and gRPC-Web text (base64 of a 5-byte-framed
 * Point; the answer is a message frame, then a trailer frame, flag 0x80,
 * with `grpc-status: 0`). JSON answers are compared byte for byte with
 * canonical proto3 JSON (lowerCamelCase names, no default values).
 *
 * Then bad input over HTTP/1.1 (malformed JSON, a wrong JSON type, bad
 * base64, a truncated envelope, an envelope declaring more than the message
 * limit), each followed on the same connection by a good call, which must
 * be answered without a new connection (HTTP/1.1 keep-alive: every bad
 * request here has a Content-Length, so the connection stays usable).
 *
 * Against our server by default; set `ROUTEGUIDE_WEB_REFERENCE` to run them
 * against a reference (see `tests/_web.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AGAINST_REFERENCE,
  DB_PATH,
  startSharedWebTarget,
  type WebTarget,
  webTest,
} from "../_web.ts";
import { readFeatures } from "./_routeguide_expect.ts";
import {
  base64,
  curlTransfers,
  decodeFeature,
  decodeTextBody,
  frame,
  frames,
  pointBytes,
  type Reply,
  trailerFields,
} from "./_curl_web.ts";

const FEATURES = readFeatures(DB_PATH);

/** One server for every case here but those that need their own (see `tests/_web.ts`). */
const TARGET = await startSharedWebTarget();
const PATH = "/routeguide.RouteGuide/GetFeature";
/** The first feature: named, so canonical JSON has both fields. */
const NAMED = FEATURES[0];
/** Canonical JSON of the named feature: lowerCamelCase, `name` first (field order). */
const NAMED_JSON = JSON.stringify({ name: NAMED.name, location: NAMED.location });
const JSON_POST = ["Content-Type: application/json"];

type HttpVersion = "HTTP/1.1" | "h2c";

/** Runs `fn` against a fresh target, showing our server's stderr on failure. */
async function withTarget(fn: (target: WebTarget) => Promise<void>): Promise<void> {
  const target = TARGET;
  try {
    await fn(target);
  } catch (error) {
    const stderr = target.stderr();
    if (stderr !== "") console.error(`--- server stderr ---\n${stderr}`);
    throw error;
  }
}

/** Asserts a good GetFeature answer in Connect JSON: 200, application/json, canonical body. */
function assertNamedJson(reply: Reply): void {
  assert.equal(reply.status, 200, reply.log);
  assert.match(reply.headers.get("content-type") ?? "", /^application\/json\b/, reply.log);
  assert.equal(reply.text, NAMED_JSON, reply.log);
}

for (const http of ["HTTP/1.1", "h2c"] as HttpVersion[]) {
  webTest(`curl × Connect × JSON × ${http} × unary POST`, () =>
    withTarget(async (target) => {
      const [reply] = await curlTransfers(target.baseUrl, http, [
        { path: PATH, headers: JSON_POST, body: JSON.stringify(NAMED.location) },
      ]);
      assertNamedJson(reply);
    }));

  webTest(`curl × Connect × JSON × ${http} × unary GET`, () =>
    withTarget(async (target) => {
      const message = encodeURIComponent(JSON.stringify(NAMED.location));
      const [reply] = await curlTransfers(target.baseUrl, http, [
        { path: `${PATH}?encoding=json&message=${message}` },
      ]);
      assertNamedJson(reply);
      // Features do not change while the server runs, so a GET answer may
      // be cached (the reference sends no Cache-Control).
      if (!AGAINST_REFERENCE) {
        assert.ok(reply.headers.has("cache-control"), `no Cache-Control\n${reply.log}`);
      }
    }));

  webTest(`curl × gRPC-Web text × proto × ${http} × unary`, () =>
    withTarget(async (target) => {
      const { latitude, longitude } = NAMED.location;
      const [reply] = await curlTransfers(target.baseUrl, http, [{
        path: PATH,
        headers: ["Content-Type: application/grpc-web-text", "Accept: application/grpc-web-text"],
        body: base64(frame(pointBytes(latitude, longitude))),
      }]);
      assert.equal(reply.status, 200, reply.log);
      assert.match(reply.headers.get("content-type") ?? "", /^application\/grpc-web-text\b/);
      const [message, trailers, ...rest] = frames(decodeTextBody(reply.text));
      assert.equal(message?.flag, 0, `a message frame first\n${reply.log}`);
      assert.deepEqual(decodeFeature(message.payload), NAMED);
      assert.equal(trailers?.flag, 0x80, `then a trailer frame\n${reply.log}`);
      const fields = trailerFields(trailers.payload);
      assert.equal(fields.get("grpc-status"), "0", reply.log);
      for (const name of fields.keys()) assert.equal(name, name.toLowerCase(), "lower-case names");
      assert.deepEqual(rest, [], "nothing after the trailer frame");
    }));
}

// The "Done when" command. (409146138, -746188906) is not in the
// project's database, so GetFeature answers a Feature with an empty name
// there, and canonical JSON leaves the empty name out.
webTest(
  "curl × Connect × JSON × HTTP/1.1 × unary: the README's command answers canonical JSON",
  () =>
    withTarget(async (target) => {
      const point = { latitude: 409146138, longitude: -746188906 };
      assert.ok(
        !FEATURES.some((f) =>
          f.location.latitude === point.latitude && f.location.longitude === point.longitude
        ),
        "the point has no feature in data/route_guide_db.json",
      );
      const [reply] = await curlTransfers(target.baseUrl, "HTTP/1.1", [
        { path: PATH, headers: ["content-type: application/json"], body: JSON.stringify(point) },
      ]);
      assert.equal(reply.status, 200, reply.log);
      assert.equal(reply.text, '{"location":{"latitude":409146138,"longitude":-746188906}}');
    }),
);

// --- bad input over HTTP/1.1 ----------------------------------------------------

/** A good call after a bad one, on the same connection. */
const GOOD_CALL = { path: PATH, headers: JSON_POST, body: JSON.stringify(NAMED.location) };

/** Sends `bad`, then a good call, in one curl run; checks the good one reused the connection. */
async function badThenGood(target: WebTarget, bad: Parameters<typeof curlTransfers>[2][0]) {
  const [reply, good] = await curlTransfers(target.baseUrl, "HTTP/1.1", [bad, GOOD_CALL]);
  assertNamedJson(good);
  assert.equal(good.connects, 0, `the good call needed a new connection\n${good.log}`);
  return reply;
}

/** Asserts a Connect unary error: the HTTP status, a JSON body with the code and a message. */
function assertConnectError(reply: Reply, status: number, code: string, names?: RegExp): void {
  assert.equal(reply.status, status, reply.log);
  assert.match(reply.headers.get("content-type") ?? "", /^application\/json\b/, reply.log);
  const body = JSON.parse(reply.text) as { code?: string; message?: string };
  assert.equal(body.code, code, reply.text);
  assert.ok((body.message ?? "") !== "", `an error without a message: ${reply.text}`);
  if (names !== undefined) assert.match(body.message ?? "", names, "the message names the problem");
}

/** Asserts a gRPC-Web answer ending in a trailer frame with `grpc-status`. */
function assertGrpcWebStatus(reply: Reply, status: number, text = false): void {
  assert.equal(reply.status, 200, reply.log);
  const body = text ? decodeTextBody(reply.text) : reply.body;
  const last = frames(body).at(-1);
  assert.equal(last?.flag, 0x80, `a trailer frame last\n${reply.log}`);
  assert.equal(trailerFields(last.payload).get("grpc-status"), String(status), reply.log);
}

webTest(
  "curl × Connect × JSON × HTTP/1.1 × bad input: malformed JSON is 400 invalid_argument",
  () =>
    withTarget(async (target) => {
      const reply = await badThenGood(target, {
        path: PATH,
        headers: JSON_POST,
        body: '{"latitude":',
      });
      assertConnectError(reply, 400, "invalid_argument");
    }),
);

webTest(
  "curl × Connect × JSON × HTTP/1.1 × bad input: a wrong JSON type is 400 invalid_argument",
  () =>
    withTarget(async (target) => {
      const reply = await badThenGood(target, {
        path: PATH,
        headers: JSON_POST,
        body: '{"latitude":"north","longitude":0}',
      });
      assertConnectError(reply, 400, "invalid_argument", /latitude/);
    }),
);

webTest(
  "curl × gRPC-Web text × proto × HTTP/1.1 × bad input: bad base64 is invalid_argument",
  () =>
    withTarget(async (target) => {
      const reply = await badThenGood(target, {
        path: PATH,
        headers: ["Content-Type: application/grpc-web-text"],
        body: "!!not*base64!!",
      });
      assertGrpcWebStatus(reply, 3, true);
    }),
);

webTest(
  "curl × gRPC-Web × proto × HTTP/1.1 × bad input: a truncated envelope is invalid_argument",
  () =>
    withTarget(async (target) => {
      // The frame declares 11 bytes; 4 follow.
      const whole = frame(pointBytes(NAMED.location.latitude, NAMED.location.longitude));
      const reply = await badThenGood(target, {
        path: PATH,
        headers: ["Content-Type: application/grpc-web+proto"],
        body: whole.slice(0, 9),
      });
      assertGrpcWebStatus(reply, 3);
    }),
);

webTest(
  "curl × gRPC-Web × proto × HTTP/1.1 × bad input: an envelope declaring 2 GiB is resource_exhausted",
  () =>
    withTarget(async (target) => {
      // The declared length alone is over the message limit: refused before
      // any of it is awaited or buffered.
      const header = new Uint8Array([0, 0x7f, 0xff, 0xff, 0xff]);
      const reply = await badThenGood(target, {
        path: PATH,
        headers: ["Content-Type: application/grpc-web+proto"],
        body: new Uint8Array([...header, 0x08, 0x01]),
      });
      assertGrpcWebStatus(reply, 8);
    }),
  "connect-es waits for the whole envelope and answers invalid_argument (incomplete envelope)",
);

// --- errors from the service, in each protocol curl speaks here ---------------------

for (const http of ["HTTP/1.1", "h2c"] as HttpVersion[]) {
  webTest(
    `curl × Connect × JSON × ${http} × error invalid_argument (|latitude| > 900000000)`,
    async () => {
      const [reply] = await curlTransfers(TARGET.baseUrl, http, [
        { path: PATH, headers: JSON_POST, body: '{"latitude":900000001,"longitude":0}' },
      ]);
      // The Connect protocol maps invalid_argument to HTTP 400.
      assertConnectError(reply, 400, "invalid_argument", /900000001|latitude/);
    },
  );

  webTest(
    `curl × gRPC-Web text × proto × ${http} × error invalid_argument (|latitude| > 900000000)`,
    async () => {
      const [reply] = await curlTransfers(TARGET.baseUrl, http, [{
        path: PATH,
        headers: ["Content-Type: application/grpc-web-text"],
        body: base64(frame(pointBytes(900000001, 0))),
      }]);
      assertGrpcWebStatus(reply, 3, true);
    },
  );
}
