/**
 * Test helper: throwaway TLS material made with `openssl` at test time.
 *
 * {@linkcode makeTestCerts} writes into a fresh temporary directory:
 *
 * - a CA (`ca.pem`, key `ca.key`);
 * - a server certificate for `localhost` and `127.0.0.1` signed by the CA
 *   (`server.pem`/`server.key`) and a second one with another serial and
 *   subject, for the reload test (`server2.pem`/`server2.key`);
 * - a client certificate signed by the CA (`client.pem`/`client.key`);
 * - a rogue self-signed client certificate (`rogue.pem`/`rogue.key`);
 * - an impostor client certificate signed by a second CA that copies the
 *   real CA's name but has its own key (`impostor.pem`/`impostor.key`).
 *
 * Without `openssl` on the PATH, {@linkcode tlsTest} skips its tests with a
 * message, except under `CI=true`, where they fail.
 *
 * @module
 */

import assert from "node:assert/strict";

/** Paths of the PEM files made by {@linkcode makeTestCerts}. */
export interface TestCerts extends AsyncDisposable {
  /** The temporary directory holding every file. */
  dir: string;
  /** The CA certificate, which signs the server and client certificates. */
  caCert: string;
  /** Server certificate: CN `localhost`, SAN `DNS:localhost`, `IP:127.0.0.1`. */
  serverCert: string;
  /** Its private key. */
  serverKey: string;
  /** A second server certificate (other serial and subject, same names). */
  server2Cert: string;
  /** Its private key. */
  server2Key: string;
  /** Client certificate signed by the CA. */
  clientCert: string;
  /** Its private key. */
  clientKey: string;
  /** Self-signed client certificate no CA vouches for. */
  rogueCert: string;
  /** Its private key. */
  rogueKey: string;
  /** Client certificate signed by a look-alike CA (same name as the real CA, other key). */
  impostorCert: string;
  /** Its private key. */
  impostorKey: string;
  /** Removes the directory. */
  cleanup(): Promise<void>;
}

/** Whether `CI=true` (then missing tools fail instead of skipping). */
export function isCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
}

/** Why `openssl` cannot be used, or `undefined` when it can. */
export function opensslProblem(): string | undefined {
  try {
    const out = new Deno.Command("openssl", {
      args: ["version"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    if (out.success) return undefined;
    return `\`openssl version\` exited with ${out.code}: ${
      new TextDecoder().decode(out.stderr).trim()
    }`;
  } catch (error) {
    return `cannot run openssl: ${(error as Error).message}`;
  }
}

const OPENSSL_PROBLEM = opensslProblem();
let warned = false;

/**
 * Registers a test that needs `openssl`: when it is missing, the test is
 * ignored with a message, or fails under `CI=true`.
 */
export function tlsTest(
  name: string,
  fn: () => Promise<void>,
  options: { ignore?: boolean } = {},
): void {
  if (OPENSSL_PROBLEM === undefined || options.ignore) {
    Deno.test({ name, ignore: options.ignore ?? false, fn });
  } else if (isCi()) {
    Deno.test(name, () => {
      assert.fail(`CI=true but openssl is not usable (${OPENSSL_PROBLEM})`);
    });
  } else {
    if (!warned) {
      warned = true;
      console.log(
        `skipping the TLS tests: openssl is not usable (${OPENSSL_PROBLEM}); ` +
          "install it (apt-get install openssl) to enable them",
      );
    }
    Deno.test({ name, ignore: true, fn() {} });
  }
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`openssl ${args.join(" ")} failed (exit ${out.code}):\n${text}`);
  }
}

/** A random positive serial number as hex, 16 bytes. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) | 0x10; // positive, and no leading zero byte
  return "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const DAYS = "2";

/** Makes a self-signed CA certificate `name.pem` with key `name.key`. */
async function makeCa(dir: string, name: string, subject: string): Promise<void> {
  await openssl(dir, [
    "req",
    "-x509",
    ...KEY_ARGS,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    DAYS,
    "-subj",
    subject,
    "-set_serial",
    randomSerial(),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/** Makes `name.pem`/`name.key` signed by the CA `ca`, with the extensions given. */
async function makeLeaf(
  dir: string,
  name: string,
  ca: string,
  subject: string,
  extensions: string[],
): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, extensions.join("\n") + "\n");
  await openssl(dir, [
    "req",
    ...KEY_ARGS,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  ]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    randomSerial(),
    "-days",
    DAYS,
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ]);
}

const SERVER_EXT = [
  "basicConstraints=critical,CA:FALSE",
  "keyUsage=critical,digitalSignature,keyEncipherment",
  "extendedKeyUsage=serverAuth",
  "subjectAltName=DNS:localhost,IP:127.0.0.1",
];
const CLIENT_EXT = [
  "basicConstraints=critical,CA:FALSE",
  "keyUsage=critical,digitalSignature,keyEncipherment",
  "extendedKeyUsage=clientAuth",
];
const CA_SUBJECT = "/O=RouteGuide tests/CN=RouteGuide Test CA";

/** Makes the CA, server, client, rogue and impostor certificates in a new temp dir. */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "routeguide-certs-" });
  const cleanup = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    await makeCa(dir, "ca", CA_SUBJECT);
    await makeCa(dir, "fakeca", CA_SUBJECT);
    await Promise.all([
      makeLeaf(dir, "server", "ca", "/O=RouteGuide tests/CN=localhost", SERVER_EXT),
      makeLeaf(dir, "server2", "ca", "/O=RouteGuide tests/OU=second/CN=localhost", SERVER_EXT),
      makeLeaf(dir, "client", "ca", "/O=RouteGuide tests/CN=routeguide-test-client", CLIENT_EXT),
      makeLeaf(
        dir,
        "impostor",
        "fakeca",
        "/O=RouteGuide tests/CN=routeguide-test-client",
        CLIENT_EXT,
      ),
      openssl(dir, [
        "req",
        "-x509",
        ...KEY_ARGS,
        "-keyout",
        "rogue.key",
        "-out",
        "rogue.pem",
        "-days",
        DAYS,
        "-subj",
        "/O=RouteGuide tests/CN=routeguide-test-client",
        "-set_serial",
        randomSerial(),
        "-addext",
        "extendedKeyUsage=clientAuth",
      ]),
    ]);
  } catch (error) {
    await cleanup();
    throw error;
  }
  const p = (name: string) => `${dir}/${name}`;
  return {
    dir,
    caCert: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    server2Cert: p("server2.pem"),
    server2Key: p("server2.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    rogueCert: p("rogue.pem"),
    rogueKey: p("rogue.key"),
    impostorCert: p("impostor.pem"),
    impostorKey: p("impostor.key"),
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
}
