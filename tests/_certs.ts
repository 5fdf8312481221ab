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
  fn: (t: Deno.TestContext) => Promise<void>,
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

/** What {@linkcode makeLeaf} makes: its issuer, subject, extensions and, optionally, dates. */
interface LeafSpec {
  /** File stem of the issuing certificate and key (`issuer.pem`, `issuer.key`). */
  issuer: string;
  /** Subject, as `openssl -subj` takes it. */
  subject: string;
  /** Lines of an openssl extensions file. */
  extensions: string[];
  /** Fixed validity (`YYYYMMDDHHMMSSZ`) instead of {@linkcode DAYS} days from now. */
  dates?: { start: string; end: string };
}

/** Makes `name.pem`/`name.key` as the spec says. */
async function makeLeaf(dir: string, name: string, spec: LeafSpec): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, spec.extensions.join("\n") + "\n");
  await openssl(dir, [
    "req",
    ...KEY_ARGS,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    spec.subject,
  ]);
  const signing = ["-in", `${name}.csr`, "-extfile", `${name}.ext`, "-out", `${name}.pem`];
  if (spec.dates === undefined) {
    await openssl(dir, [
      "x509",
      "-req",
      "-CA",
      `${spec.issuer}.pem`,
      "-CAkey",
      `${spec.issuer}.key`,
      "-set_serial",
      randomSerial(),
      "-days",
      DAYS,
      "-sha256",
      ...signing,
    ]);
    return;
  }
  // OpenSSL 3.0's `x509` cannot set dates in the past or far ahead; `ca`
  // can, with a throwaway database of its own for this one certificate.
  await Deno.writeTextFile(`${dir}/${name}.index`, "");
  await Deno.writeTextFile(
    `${dir}/${name}.cnf`,
    [
      "[ca]",
      "default_ca = here",
      "[here]",
      `database = ${name}.index`,
      "new_certs_dir = .",
      "rand_serial = yes",
      "default_md = sha256",
      "unique_subject = no",
      "policy = anything",
      "[anything]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  await openssl(dir, [
    "ca",
    "-batch",
    "-notext",
    "-preserveDN",
    "-config",
    `${name}.cnf`,
    "-cert",
    `${spec.issuer}.pem`,
    "-keyfile",
    `${spec.issuer}.key`,
    "-startdate",
    spec.dates.start,
    "-enddate",
    spec.dates.end,
    ...signing,
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
const CLIENT_SUBJECT = "/O=RouteGuide tests/CN=routeguide-test-client";

/** Makes the CA, server, client, rogue and impostor certificates in a new temp dir. */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "routeguide-certs-" });
  const cleanup = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    await makeCa(dir, "ca", CA_SUBJECT);
    await makeCa(dir, "fakeca", CA_SUBJECT);
    await Promise.all([
      makeLeaf(dir, "server", {
        issuer: "ca",
        subject: "/O=RouteGuide tests/CN=localhost",
        extensions: SERVER_EXT,
      }),
      makeLeaf(dir, "server2", {
        issuer: "ca",
        subject: "/O=RouteGuide tests/OU=second/CN=localhost",
        extensions: SERVER_EXT,
      }),
      makeLeaf(dir, "client", { issuer: "ca", subject: CLIENT_SUBJECT, extensions: CLIENT_EXT }),
      makeLeaf(dir, "impostor", {
        issuer: "fakeca",
        subject: CLIENT_SUBJECT,
        extensions: CLIENT_EXT,
      }),
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
        CLIENT_SUBJECT,
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

/** A client identity: a PEM file holding the leaf then any intermediates it sends, and its key. */
export interface ClientIdentity {
  /** The leaf certificate, followed by the intermediates the client sends. */
  cert: string;
  /** The leaf's private key. */
  key: string;
}

/** Client identities for the certificate checks, all under the test CA of {@linkcode makeTestCerts}. */
export interface ClientCertCases {
  /** Accepted: `keyUsage` digitalSignature, no `extendedKeyUsage` at all. */
  noEku: ClientIdentity;
  /** Accepted: a clientAuth leaf sent with the intermediate CA that signed it. */
  viaIntermediate: ClientIdentity;
  /** Refused: `extendedKeyUsage` serverAuth only (the test server's own certificate). */
  serverOnly: ClientIdentity;
  /** Refused: `keyUsage` without digitalSignature. */
  noDigitalSignature: ClientIdentity;
  /** Refused: signed by the plain client leaf (no CA basicConstraints), sent with it. */
  leafIssued: ClientIdentity;
  /** Refused: signed by an intermediate whose `keyUsage` lacks keyCertSign. */
  issuerWithoutCertSign: ClientIdentity;
  /** Refused: below a sub-intermediate under the intermediate that has pathlen 0. */
  pathLenExceeded: ClientIdentity;
  /** Refused: expired in 2000. */
  expired: ClientIdentity;
  /** Refused: valid only from 2099. */
  notYetValid: ClientIdentity;
  /** Refused: a valid leaf sent with its intermediate, which expired in 2000. */
  expiredIntermediate: ClientIdentity;
  /** Refused: carries a critical extension nobody knows. */
  unknownCritical: ClientIdentity;
}

const INTERMEDIATE_EXT = [
  "basicConstraints=critical,CA:TRUE,pathlen:0",
  "keyUsage=critical,keyCertSign,cRLSign",
];
const PAST = { start: "20000101000000Z", end: "20000102000000Z" };
const FUTURE = { start: "20990101000000Z", end: "20990201000000Z" };

/**
 * Makes the {@linkcode ClientCertCases} in the directory of certificates
 * made by {@linkcode makeTestCerts}, signed (directly or not) by its CA.
 */
export async function makeClientCertCases(certs: TestCerts): Promise<ClientCertCases> {
  const dir = certs.dir;
  const subject = (cn: string) => `/O=RouteGuide tests/CN=${cn}`;
  const leaf = (name: string, issuer: string, extensions = CLIENT_EXT) =>
    makeLeaf(dir, name, { issuer, subject: subject(name), extensions });
  const ca = (name: string, issuer: string, extensions = INTERMEDIATE_EXT) =>
    makeLeaf(dir, name, { issuer, subject: subject(`RouteGuide ${name}`), extensions });
  // Issuers first, then what they sign.
  await Promise.all([
    ca("intermediate", "ca"),
    ca("nocertsign", "ca", [
      "basicConstraints=critical,CA:TRUE",
      "keyUsage=critical,digitalSignature",
    ]),
    makeLeaf(dir, "oldintermediate", {
      issuer: "ca",
      subject: subject("RouteGuide old intermediate"),
      extensions: INTERMEDIATE_EXT,
      dates: PAST,
    }),
  ]);
  await Promise.all([
    ca("subintermediate", "intermediate", [
      "basicConstraints=critical,CA:TRUE",
      ...INTERMEDIATE_EXT.slice(1),
    ]),
    leaf("noeku", "ca", [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
    ]),
    leaf("viaintermediate", "intermediate"),
    leaf("nodigitalsignature", "ca", [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,keyAgreement",
      "extendedKeyUsage=clientAuth",
    ]),
    leaf("leafissued", "client"),
    leaf("undernocertsign", "nocertsign"),
    leaf("underold", "oldintermediate"),
    makeLeaf(dir, "expired", {
      issuer: "ca",
      subject: subject("expired"),
      extensions: CLIENT_EXT,
      dates: PAST,
    }),
    makeLeaf(dir, "notyetvalid", {
      issuer: "ca",
      subject: subject("not yet valid"),
      extensions: CLIENT_EXT,
      dates: FUTURE,
    }),
    leaf("unknowncritical", "ca", [
      ...CLIENT_EXT,
      "1.3.6.1.4.1.55555.1=critical,ASN1:UTF8String:who knows",
    ]),
  ]);
  await leaf("deep", "subintermediate");
  /** The identity of `name`, sending the given issuers after its own certificate. */
  const identity = async (name: string, ...sent: string[]): Promise<ClientIdentity> => {
    if (sent.length === 0) return { cert: `${dir}/${name}.pem`, key: `${dir}/${name}.key` };
    const pems = await Promise.all(
      [name, ...sent].map((n) => Deno.readTextFile(`${dir}/${n}.pem`)),
    );
    await Deno.writeTextFile(`${dir}/${name}.chain.pem`, pems.join(""));
    return { cert: `${dir}/${name}.chain.pem`, key: `${dir}/${name}.key` };
  };
  return {
    noEku: await identity("noeku"),
    viaIntermediate: await identity("viaintermediate", "intermediate"),
    serverOnly: { cert: certs.serverCert, key: certs.serverKey },
    noDigitalSignature: await identity("nodigitalsignature"),
    leafIssued: await identity("leafissued", "client"),
    issuerWithoutCertSign: await identity("undernocertsign", "nocertsign"),
    pathLenExceeded: await identity("deep", "subintermediate", "intermediate"),
    expired: await identity("expired"),
    notYetValid: await identity("notyetvalid"),
    expiredIntermediate: await identity("underold", "oldintermediate"),
    unknownCritical: await identity("unknowncritical"),
  };
}
