/**
 * The client-certificate checks of lib/server/client_certs.ts, on certificates
 * made by `openssl` (tests/_certs.ts): what a client may present, with the
 * intermediates it sends, and why anything else is refused.
 *
 * tests/e2e/tls_test.ts checks the same end to end, through the server.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  clientCertificateProblem,
  MAX_CLIENT_CHAIN,
  parseCertificateBundle,
  type PeerCertificateLike,
} from "../../lib/server/client_certs.ts";
import { type ClientIdentity, makeClientCertCases, makeTestCerts, tlsTest } from "../_certs.ts";

/** What a `node:tls` server shows of a client that sent these DER certificates, leaf first. */
function peerOf(chain: Uint8Array[]): PeerCertificateLike {
  const [raw, ...rest] = chain;
  if (raw === undefined) return {};
  const peer: PeerCertificateLike = { raw };
  peer.issuerCertificate = rest.length === 0 ? peer : peerOf(rest);
  return peer;
}

/** The DER certificates of a PEM file, in order. */
async function derOf(path: string): Promise<Uint8Array[]> {
  const pem = await Deno.readTextFile(path);
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END/g)].map(([, b64]) =>
    Uint8Array.from(atob(b64.replace(/\s/g, "")), (c) => c.charCodeAt(0))
  );
}

tlsTest("client certificates: accepted and refused, each refusal with its reason", async (t) => {
  await using certs = await makeTestCerts();
  const cases = await makeClientCertCases(certs);
  const trusted = parseCertificateBundle(await Deno.readTextFile(certs.caCert));
  const problem = async (identity: Pick<ClientIdentity, "cert">) =>
    await clientCertificateProblem(peerOf(await derOf(identity.cert)), trusted);

  const accepted: [string, Pick<ClientIdentity, "cert">][] = [
    ["a clientAuth leaf", { cert: certs.clientCert }],
    ["a leaf without extendedKeyUsage", cases.noEku],
    ["a leaf sent with the intermediate CA that signed it", cases.viaIntermediate],
  ];
  for (const [what, identity] of accepted) {
    await t.step(`accepted: ${what}`, async () => {
      assert.equal(await problem(identity), undefined);
    });
  }

  const refused: [string, Pick<ClientIdentity, "cert">, RegExp][] = [
    [
      "a serverAuth-only certificate of the same CA",
      cases.serverOnly,
      /"localhost": its extendedKeyUsage \(1\.3\.6\.1\.5\.5\.7\.3\.1\) does not allow clientAuth/,
    ],
    [
      "a leaf whose keyUsage lacks digitalSignature",
      cases.noDigitalSignature,
      /"nodigitalsignature": its keyUsage does not allow digitalSignature/,
    ],
    [
      "a leaf signed by another leaf (no CA basicConstraints)",
      cases.leafIssued,
      /"leafissued": .*not a CA certificate/,
    ],
    [
      "a leaf signed by a CA whose keyUsage lacks keyCertSign",
      cases.issuerWithoutCertSign,
      /"undernocertsign": .*not a CA certificate/,
    ],
    [
      "a path longer than an issuer's pathLenConstraint allows",
      cases.pathLenExceeded,
      /"deep": issuer "RouteGuide intermediate" allows 0 intermediate CA\(s\) below it; the path has 1/,
    ],
    ["an expired leaf", cases.expired, /"expired": .*not yet valid or expired/],
    ["a leaf not yet valid", cases.notYetValid, /"not yet valid": .*not yet valid or expired/],
    [
      "a valid leaf under an expired intermediate",
      cases.expiredIntermediate,
      /"underold": .*not yet valid or expired/,
    ],
    [
      "a leaf with an unknown critical extension",
      cases.unknownCritical,
      /"unknowncritical": unknown critical extension 1\.3\.6\.1\.4\.1\.55555\.1$/,
    ],
    ["a self-signed leaf", { cert: certs.rogueCert }, /"routeguide-test-client": /],
    ["a leaf from a look-alike CA", { cert: certs.impostorCert }, /"routeguide-test-client": /],
  ];
  for (const [what, identity, reason] of refused) {
    await t.step(`refused: ${what}`, async () => {
      const why = await problem(identity);
      assert.ok(why !== undefined, `${what} was accepted`);
      assert.match(why, reason);
    });
  }

  await t.step("refused: the CA's own certificate, alone or before an intermediate", async () => {
    const [ca] = await derOf(certs.caCert);
    const [, intermediate] = await derOf(cases.viaIntermediate.cert);
    for (const chain of [[ca], [ca, intermediate]]) {
      assert.match(
        await clientCertificateProblem(peerOf(chain), trusted) ?? "accepted",
        /"RouteGuide Test CA": it is one of the trusted CAs/,
      );
    }
  });

  await t.step("refused: no certificate", async () => {
    assert.equal(await clientCertificateProblem({}, trusted), "no client certificate");
    assert.equal(await clientCertificateProblem(undefined, trusted), "no client certificate");
  });

  await t.step("refused: the good leaf at a time after it expires", async () => {
    const later = new Date(Date.now() + 10 * 365 * 86_400_000);
    const why = await clientCertificateProblem(peerOf(await derOf(certs.clientCert)), trusted, {
      now: later,
    });
    assert.match(why ?? "accepted", /not yet valid or expired/);
  });

  await t.step(`refused: more than ${MAX_CLIENT_CHAIN} certificates sent`, async () => {
    const [leaf, intermediate] = await derOf(cases.viaIntermediate.cert);
    const long = [leaf, ...Array(MAX_CLIENT_CHAIN).fill(intermediate)];
    assert.equal(
      await clientCertificateProblem(peerOf(long), trusted),
      `the client sent more than ${MAX_CLIENT_CHAIN} certificates`,
    );
  });

  await t.step("refused: bytes that are not a certificate", async () => {
    const why = await clientCertificateProblem({ raw: new Uint8Array([48, 3, 1, 1, 0]) }, trusted);
    assert.match(why ?? "accepted", /cannot be read/);
  });
});

Deno.test("parseCertificateBundle refuses a bundle without certificates, naming what is wrong", () => {
  assert.throws(() => parseCertificateBundle("nothing here\n"), {
    name: "TypeError",
    message: "no PEM certificate in the CA bundle",
  });
  assert.throws(
    () => parseCertificateBundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
    { name: "TypeError", message: /^certificate 1 of the CA bundle cannot be read/ },
  );
});
