/**
 * Client-certificate checks for mutual TLS.
 *
 * Why our own: on the pinned Deno (2.8.3) a `node:tls` server given `ca`
 * with `requestCert` fails every handshake ("socket hang up"), certificate
 * or not. Without `ca` it completes the handshake and shows the client's
 * certificate, unverified; this module then checks it against the CA bundle
 * with `node:crypto`'s `X509Certificate` (signature, issuer, validity).
 *
 * @module
 */

import { X509Certificate } from "node:crypto";

/** The part of a `tls.TLSSocket` peer certificate this module reads. */
export interface PeerCertificateLike {
  /** DER bytes of the certificate. */
  raw?: Uint8Array;
  /** The issuer's certificate as the client sent it; itself when self-signed. */
  issuerCertificate?: PeerCertificateLike;
}

/** Splits a PEM bundle into certificates; throws a `TypeError` when it holds none. */
export function parseCertificateBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new TypeError("no PEM certificate in the CA bundle");
  return blocks.map((block) => new X509Certificate(block));
}

const MAX_CHAIN = 5;

function validAt(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

/**
 * Whether a client's certificate chains, through the intermediates it sent,
 * to one of the trusted CAs, with every link signed by the next and valid
 * now.
 *
 * @example
 * ```ts
 * import { isTrustedClientCertificate } from "./client_certs.ts";
 * import assert from "node:assert/strict";
 * // No certificate at all is never trusted.
 * assert.equal(isTrustedClientCertificate({}, []), false);
 * ```
 */
export function isTrustedClientCertificate(
  peer: PeerCertificateLike | undefined,
  trusted: readonly X509Certificate[],
  now: Date = new Date(),
): boolean {
  if (peer?.raw === undefined || peer.raw.length === 0) return false;
  let current = new X509Certificate(peer.raw);
  let link: PeerCertificateLike | undefined = peer;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (!validAt(current, now)) return false;
    if (trusted.some((ca) => ca.ca && validAt(ca, now) && signedBy(current, ca))) return true;
    const next: PeerCertificateLike | undefined = link?.issuerCertificate;
    if (next?.raw === undefined || next === link) return false;
    const issuer = new X509Certificate(next.raw);
    if (!issuer.ca || !signedBy(current, issuer)) return false;
    current = issuer;
    link = next;
  }
  return false;
}
