/**
 * The web protocols over HTTP/1.1, from a raw socket, where ordinary
 * clients hide what matters:
 *
 * - deadlines: a Connect streaming RecordRoute (`connect-timeout-ms`) and a
 *   gRPC-Web one (`grpc-timeout`) whose request bodies stay open must be
 *   ended by the server with `deadline_exceeded` (Connect's end-of-stream
 *   message; gRPC-Web's trailer frame, `grpc-status: 4`);
 * - cancellation: a client that drops its connection mid-ListFeatures or
 *   mid-RouteChat cancels its call (our server's calls in flight return
 *   to 0);
 * - a slow reader: clients that stop reading a large ListFeatures leave the
 *   server's memory bounded, then get every feature.
 *
 * Against our server only: the reference (connect-node) does not end a
 * held-open HTTP/1.1 request stream at its deadline (it answers success
 * once the body ends), and the other cases need our server's insides and
 * database; under `ROUTEGUIDE_WEB_REFERENCE` they are ignored.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sleep, waitFor } from "../_async.ts";
import { type TempDb, writeGridDb } from "../_db.ts";
import { startSharedWebTarget, startWebTarget, type WebTarget, webTest } from "../_web.ts";
import { envelope, EnvelopeReader, RawHttp1 } from "./_http1_raw.ts";
import { pointBytes, trailerFields } from "./_curl_web.ts";
import { freshLocation } from "./_routeguide_expect.ts";

/** One server for every case here but those that need their own (see `tests/_web.ts`). */
const TARGET = await startSharedWebTarget();

const SERVICE = "/routeguide.RouteGuide";
/** Every wait is bounded. */
const WAIT_MS = 10_000;
const NEEDS_OURS = "it reads our server's calls in flight";
const REFERENCE_NO_DEADLINE =
  "connect-node does not end a held-open HTTP/1.1 request stream at its deadline";

/** Runs `fn` against `target`, bounded, showing our server's stderr on failure. */
async function bounded(target: WebTarget, fn: () => Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the test ran past ${3 * WAIT_MS} ms`)),
          3 * WAIT_MS,
        );
      }),
    ]);
  } catch (error) {
    const stderr = target.stderr();
    if (stderr !== "") console.error(`--- server stderr ---\n${stderr}`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a streaming call whose request body is chunked and stays open. */
async function openStream(
  target: WebTarget,
  method: string,
  headers: string[],
): Promise<RawHttp1> {
  const conn = await RawHttp1.connect(target.host, target.port);
  await conn.writeHead("POST", `${SERVICE}/${method}`, [...headers, "Transfer-Encoding: chunked"]);
  return conn;
}

// --- deadlines -------------------------------------------------------------------

webTest(
  "raw × Connect × JSON × HTTP/1.1 × client streaming: connect-timeout-ms ends a held-open RecordRoute with deadline_exceeded",
  async () => {
    const target = TARGET;
    await bounded(target, async () => {
      await using conn = await openStream(target, "RecordRoute", [
        "Content-Type: application/connect+json",
        "Connect-Protocol-Version: 1",
        "Connect-Timeout-Ms: 300",
      ]);
      await conn.writeChunk(envelope(JSON.stringify({ latitude: 1, longitude: 1 })));
      // The body stays open: only the deadline can end the call.
      const head = await conn.readHead();
      assert.equal(head.status, 200, "a Connect stream answers 200, errors in its end message");
      assert.match(head.headers.get("content-type") ?? "", /^application\/connect\+json/);
      const reader = new EnvelopeReader(() => conn.readBody());
      const last = await reader.read();
      assert.equal(last?.flag, 0x02, "the end-of-stream message, and no summary before it");
      const end = JSON.parse(new TextDecoder().decode(last.payload));
      assert.equal(end.error?.code, "deadline_exceeded", JSON.stringify(end));
    });
  },
  REFERENCE_NO_DEADLINE,
);

webTest(
  "raw × gRPC-Web × proto × HTTP/1.1 × client streaming: grpc-timeout ends a held-open RecordRoute with deadline_exceeded",
  async () => {
    const target = TARGET;
    await bounded(target, async () => {
      await using conn = await openStream(target, "RecordRoute", [
        "Content-Type: application/grpc-web+proto",
        "Grpc-Timeout: 300m",
      ]);
      await conn.writeChunk(envelope(pointBytes(1, 1)));
      const head = await conn.readHead();
      assert.equal(head.status, 200);
      // Trailers-only answers may carry the status in the head; PROTOCOL-WEB
      // asks for the trailer frame, which the issue requires always.
      const reader = new EnvelopeReader(() => conn.readBody());
      const last = await reader.read();
      assert.equal(last?.flag, 0x80, "a trailer frame, and no summary before it");
      assert.equal(trailerFields(last.payload).get("grpc-status"), "4");
    });
  },
  REFERENCE_NO_DEADLINE,
);

// --- cancellation ------------------------------------------------------------------

/** Bytes of a big database's names: few messages, many bytes (the cost is per message). */
const NAME_BYTES = 1000;

/**
 * `count` features with names of about {@linkcode NAME_BYTES} bytes (every
 * tenth unnamed) in a 500-column grid inside {@linkcode WHOLE_BOX}.
 */
function bigDb(count: number, prefix: string): Promise<TempDb> {
  return writeGridDb({
    count,
    columns: 500,
    step: { latitude: 16000, longitude: 19000 },
    name: (i) => i % 10 === 0 ? "" : `Feature ${i} ${"x".repeat(NAME_BYTES)}`,
    prefix,
  });
}

/** Features in the big databases: 20,000 named ones of 1 KB are 20 MB of answers per listing. */
const BIG_FEATURES = 20_000;

/** The whole box of the grid databases. */
const WHOLE_BOX = {
  lo: { latitude: 400000000, longitude: -750000000 },
  hi: { latitude: 410000000, longitude: -740000000 },
};

webTest(
  "raw × Connect × JSON × HTTP/1.1 × server streaming: a client that disconnects mid-ListFeatures cancels its call",
  async () => {
    await using db = await bigDb(BIG_FEATURES, "routeguide_web_cancel_");
    await using target = await startWebTarget({ db: db.path, inProcess: true });
    const inFlight = target.inFlight!;
    await bounded(target, async () => {
      const conn = await RawHttp1.connect(target.host, target.port);
      try {
        const body = envelope(JSON.stringify(WHOLE_BOX));
        await conn.writeHead("POST", `${SERVICE}/ListFeatures`, [
          "Content-Type: application/connect+json",
          `Content-Length: ${body.length}`,
        ]);
        await conn.write(body);
        assert.equal((await conn.readHead()).status, 200);
        assert.ok(await conn.readBody() !== undefined, "the first features");
        // 18 MB of features cannot all fit in the socket buffers: the call
        // waits for this client, which reads no more.
        assert.equal(inFlight(), 1, "the listing is still in flight");
      } finally {
        conn.close();
      }
      await waitFor(() => inFlight() === 0, () => `calls in flight: ${inFlight()}`, WAIT_MS);
    });
  },
  NEEDS_OURS,
);

webTest(
  "raw × Connect × JSON × HTTP/1.1 × bidi streaming: a client that disconnects mid-RouteChat cancels its call",
  async () => {
    await using target = await startWebTarget({ inProcess: true });
    const inFlight = target.inFlight!;
    await bounded(target, async () => {
      const conn = await openStream(target, "RouteChat", [
        "Content-Type: application/connect+json",
      ]);
      try {
        const note = { location: freshLocation(), message: "raw HTTP/1.1 chat" };
        await conn.writeChunk(envelope(JSON.stringify(note)));
        // The request body stays open: the call lasts until the client goes.
        await waitFor(() => inFlight() === 1, () => `calls in flight: ${inFlight()}`, WAIT_MS);
      } finally {
        conn.close();
      }
      await waitFor(() => inFlight() === 0, () => `calls in flight: ${inFlight()}`, WAIT_MS);
    });
  },
  NEEDS_OURS,
);

// --- a slow reader -------------------------------------------------------------------

const SLOW_FEATURES = BIG_FEATURES;
const SLOW_READERS = 4;
const PAUSE_MS = 3000;
const BOUND_MB = 32;

/** The process's resident set in MB (Deno reads /proc only with --allow-all, so ask `cat`). */
async function rssMb(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const kb = new TextDecoder().decode(stdout).match(/VmRSS:\s+(\d+) kB/)?.[1];
  return kb === undefined ? 0 : Number(kb) / 1024;
}

webTest(
  `raw × Connect × JSON × HTTP/1.1 × server streaming: ${SLOW_READERS} paused readers of ${SLOW_FEATURES} features grow the server by less than ${BOUND_MB} MB, then get everything`,
  async () => {
    // The readers' listings come to about 4 × 18 MB, more than the bound, so
    // they must not be buffered.
    await using db = await bigDb(SLOW_FEATURES, "routeguide_web_slow_");
    await using target = await startWebTarget({ db: db.path });
    const pid = target.pid!;
    await bounded(target, async () => {
      await sleep(500);
      const before = await rssMb(pid);
      let peak = before;
      let paused = 0;
      let resume!: () => void;
      const resumed = new Promise<void>((resolve) => resume = resolve);
      const read = async () => {
        await using conn = await RawHttp1.connect(target.host, target.port);
        const body = envelope(JSON.stringify(WHOLE_BOX));
        await conn.writeHead("POST", `${SERVICE}/ListFeatures`, [
          "Content-Type: application/connect+json",
          `Content-Length: ${body.length}`,
        ]);
        await conn.write(body);
        assert.equal((await conn.readHead()).status, 200);
        const reader = new EnvelopeReader(() => conn.readBody());
        let features = 0;
        for (let e; (e = await reader.read()) !== undefined;) {
          if (e.flag === 0x02) {
            const end = JSON.parse(new TextDecoder().decode(e.payload));
            assert.equal(end.error, undefined, JSON.stringify(end));
            continue;
          }
          if (++features === 1) {
            paused++;
            await resumed;
          }
        }
        return features;
      };
      const readers = Array.from({ length: SLOW_READERS }, read);
      // A reader that fails ends the wait at once, and none is left dangling.
      let failure: unknown;
      for (const r of readers) r.catch((error) => failure ??= error);
      let duringPause = 0;
      try {
        await waitFor(
          () => {
            if (failure !== undefined) throw failure;
            return paused === SLOW_READERS;
          },
          "every reader's first feature",
          WAIT_MS,
        );
        // Every reader holds its call open, reading nothing, for the pause.
        const until = performance.now() + PAUSE_MS;
        while (performance.now() < until) {
          peak = Math.max(peak, await rssMb(pid));
          await sleep(50);
        }
        duringPause = peak - before;
      } finally {
        resume();
        await Promise.allSettled(readers);
      }
      const counts = await Promise.all(readers);
      console.log(
        `server RSS ${before.toFixed(1)} MB before; +${duringPause.toFixed(1)} MB during the pause`,
      );
      assert.deepEqual(counts, Array(SLOW_READERS).fill(SLOW_FEATURES));
      assert.ok(
        duringPause < BOUND_MB,
        `the server grew by ${duringPause.toFixed(1)} MB while the readers paused`,
      );
    });
  },
  "it measures our server's memory, with its own database",
);
