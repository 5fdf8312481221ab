/**
 * The standard gRPC health service (`grpc.health.v1.Health`, served by
 * npm:grpc-health-check) against the real server process, with a grpc-js
 * client built from the health proto that ships in that package:
 *
 * - Check: `""` and `routeguide.RouteGuide` are SERVING; an unknown name
 *   fails with NOT_FOUND;
 * - Watch: streams SERVING, then NOT_SERVING as soon as SIGTERM starts the
 *   shutdown (a RouteChat kept open makes the shutdown last a moment); an
 *   unknown name gets one SERVICE_UNKNOWN message and the stream stays open
 *   (grpc-health-check 2.1.0 writes `{status: "SERVICE_UNKNOWN"}` and waits
 *   for the service to appear; it does not end the call);
 * - `--health-port`: with TLS on the main port, a plaintext Check on the
 *   health port is SERVING while the main port refuses plaintext.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as HEALTH_PROTO_PATH } from "grpc-health-check";
import { Code, codeName } from "../../lib/core/rpc_error.ts";
import {
  createRouteGuideClient,
  type RouteNote,
  tlsChannelCredentials,
} from "../../lib/grpc/client.ts";
import { makeTestCerts, tlsTest } from "../_certs.ts";
import { startServer, waitForStderr } from "../_server.ts";
import { STEP_MS, within } from "../_async.ts";
import { rejectsWith } from "../_assert.ts";

/** A serving status as the health proto's enum names it. */
type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/** `grpc.health.v1.HealthCheckResponse` as proto-loader hands it over (enums as strings). */
interface HealthCheckResponse {
  status: ServingStatus;
}

/** The grpc-js client for `grpc.health.v1.Health`, as much of it as the tests use. */
interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: HealthCheckResponse) => void,
  ): grpc.ClientUnaryCall;
  watch(
    request: { service: string },
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<HealthCheckResponse>;
}

type HealthClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => HealthClient;

const healthPackage = grpc.loadPackageDefinition(
  loadSync(HEALTH_PROTO_PATH, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  }),
  // deno-lint-ignore no-explicit-any
) as any;
const Health: HealthClientConstructor = healthPackage.grpc.health.v1.Health;

function healthClient(
  target: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): HealthClient {
  return new Health(target, credentials);
}

/** Check, as a promise; rejects with the grpc-js ServiceError. */
function check(client: HealthClient, service: string): Promise<ServingStatus> {
  return new Promise((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + STEP_MS }, (error, response) => {
      if (error) reject(error);
      else resolve(response!.status);
    });
  });
}

/** A Watch whose messages are read one at a time. */
function watch(client: HealthClient, service: string) {
  const call = client.watch({ service });
  const received: ServingStatus[] = [];
  const waiters: (() => void)[] = [];
  let ended: string | undefined;
  const wakeAll = () => waiters.splice(0).forEach((wake) => wake());
  call.on("data", (message: HealthCheckResponse) => {
    received.push(message.status);
    wakeAll();
  });
  call.on("error", (error: grpc.ServiceError) => {
    ended = `${codeName(error.code)}: ${error.details}`;
    wakeAll();
  });
  call.on("end", () => {
    ended ??= "end";
    wakeAll();
  });
  let read = 0;
  return {
    received,
    /** The next status the server sends. */
    next(): Promise<ServingStatus> {
      return within(
        (async () => {
          while (received.length <= read) {
            if (ended !== undefined) {
              throw new Error(`the Watch ended (${ended}) after ${JSON.stringify(received)}`);
            }
            await new Promise<void>((resolve) => waiters.push(resolve));
          }
          return received[read++];
        })(),
        STEP_MS,
        `a Watch(${JSON.stringify(service)}) message`,
      );
    },
    /** Whether the stream ended, and how. */
    get ended() {
      return ended;
    },
    cancel() {
      call.cancel();
    },
  };
}

Deno.test("health Check: the server and RouteGuide are SERVING; an unknown name is NOT_FOUND", async () => {
  await using server = await startServer();
  const client = healthClient(server.target);
  try {
    assert.equal(await check(client, ""), "SERVING");
    assert.equal(await check(client, "routeguide.RouteGuide"), "SERVING");
    await rejectsWith(
      check(client, "no.such.Service"),
      Code.NOT_FOUND,
      "Check(no.such.Service)",
    );
    // The name is matched exactly: not a prefix, not case-insensitively.
    await rejectsWith(check(client, "routeguide"), Code.NOT_FOUND, "Check(routeguide)");
    await rejectsWith(
      check(client, "RouteGuide.RouteGuide"),
      Code.NOT_FOUND,
      "Check(RouteGuide.RouteGuide)",
    );
  } finally {
    client.close();
  }
});

Deno.test("health Watch: SERVING, then NOT_SERVING as soon as SIGTERM starts the shutdown", async () => {
  // A grace period long enough that "at the start of the shutdown" and "at
  // the end of the grace period" stay seconds apart on a busy machine.
  await using server = await startServer({ args: ["--grace", "10"] });
  const health = healthClient(server.target);
  const routeGuide = createRouteGuideClient(server.target, { retry: false });
  // A RouteChat that stays open until the grace period ends it: two notes at
  // one place, so the reply to the second shows the call is in flight.
  let releaseNotes!: () => void;
  const released = new Promise<void>((resolve) => releaseNotes = resolve);
  const here = { latitude: -123456789, longitude: 98765432 };
  const notes = (async function* (): AsyncGenerator<RouteNote> {
    yield { location: here, message: "hold" };
    yield { location: here, message: "hold again" };
    await released;
  })();
  let firstReply!: () => void;
  const replied = new Promise<void>((resolve) => firstReply = resolve);
  const chat = (async () => {
    try {
      for await (const _ of routeGuide.routeChat(notes)) firstReply();
      return "ended";
    } catch (error) {
      return codeName((error as { code: number }).code);
    }
  })();
  const whole = watch(health, "");
  const service = watch(health, "routeguide.RouteGuide");
  try {
    assert.equal(await whole.next(), "SERVING");
    assert.equal(await service.next(), "SERVING");
    await within(replied, STEP_MS, "the RouteChat's first reply");
    const stopped = server.stop("SIGTERM");
    const started = Date.now();
    assert.equal(await whole.next(), "NOT_SERVING");
    assert.equal(await service.next(), "NOT_SERVING");
    // It flips at the start of the shutdown, not at the end of the grace period.
    assert.ok(Date.now() - started < 8000, `NOT_SERVING came after ${Date.now() - started} ms`);
    assert.match(server.stderr(), /SIGTERM: shutting down; 1 calls in flight get up to 10 s/);
    // The chat goes on in the grace period: the client ends it, it ends well, and the server
    // exits then, with nothing to cancel.
    releaseNotes();
    assert.equal(await within(chat, STEP_MS, "the RouteChat's end"), "ended");
    const status = await within(stopped, STEP_MS, "the server's exit");
    assert.equal(status.code, 0, server.stderr());
    assert.match(server.stderr(), /stopped; 0 calls cancelled/);
    assert.deepEqual(whole.received, ["SERVING", "NOT_SERVING"]);
  } finally {
    releaseNotes();
    whole.cancel();
    service.cancel();
    health.close();
    routeGuide.close();
  }
});

Deno.test("health Watch on an unknown name: one SERVICE_UNKNOWN message, and the stream stays open", async () => {
  await using server = await startServer();
  const client = healthClient(server.target);
  const unknown = watch(client, "no.such.Service");
  try {
    assert.equal(await unknown.next(), "SERVICE_UNKNOWN");
    // grpc-health-check 2.1.0 keeps the call open, waiting for the service
    // to get a status, rather than ending it with NOT_FOUND.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(unknown.ended, undefined, `the Watch ended: ${unknown.ended}`);
    assert.deepEqual(unknown.received, ["SERVICE_UNKNOWN"]);
    // Other calls on the same connection carry on.
    assert.equal(await check(client, ""), "SERVING");
  } finally {
    unknown.cancel();
    client.close();
  }
});

tlsTest(
  "--health-port: plaintext health checks on their own port while the main port is TLS only",
  async () => {
    await using certs = await makeTestCerts();
    await using server = await startServer({
      args: [
        "--tls-cert",
        certs.serverCert,
        "--tls-key",
        certs.serverKey,
        "--health-port",
        "0",
      ],
    });
    const [, healthPort] = await waitForStderr(
      server,
      /health checks in plaintext on 127\.0\.0\.1:(\d+)/,
    );
    assert.notEqual(Number(healthPort), server.port);

    const plainHealth = healthClient(`127.0.0.1:${healthPort}`);
    const plainMain = healthClient(server.target);
    // A TLS client must dial `localhost`: Deno refuses an IP address as a TLS server name.
    const tlsMain = healthClient(
      `localhost:${server.port}`,
      // The library's credentials are grpc-js credentials under an opaque type.
      tlsChannelCredentials({ ca: await Deno.readFile(certs.caCert) }) as grpc.ChannelCredentials,
    );
    const plainRouteGuide = createRouteGuideClient(`127.0.0.1:${healthPort}`, { retry: false });
    try {
      assert.equal(await check(plainHealth, ""), "SERVING");
      assert.equal(await check(plainHealth, "routeguide.RouteGuide"), "SERVING");
      await rejectsWith(check(plainHealth, "no.such.Service"), Code.NOT_FOUND, "health port");
      // The main port speaks TLS only: a plaintext client cannot connect.
      await rejectsWith(check(plainMain, ""), Code.UNAVAILABLE, "plaintext to the TLS port");
      // ...while a TLS client gets the same answer there.
      assert.equal(await check(tlsMain, ""), "SERVING");
      // The health port serves health alone, not RouteGuide.
      await assert.rejects(
        plainRouteGuide.getFeature({ latitude: 0, longitude: 0 }, {
          deadline: Date.now() + STEP_MS,
        }),
        (error: { code: number }) => {
          assert.equal(codeName(error.code), "UNIMPLEMENTED");
          return true;
        },
      );
    } finally {
      plainHealth.close();
      plainMain.close();
      tlsMain.close();
      plainRouteGuide.close();
    }
  },
);
