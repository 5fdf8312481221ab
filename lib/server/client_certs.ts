/**
 * Client-certificate checks for mutual TLS.
 *
 * Why here and not in the TLS stack: on Deno 2.8.3 (measured when this was
 * written; the tests hold the checks on the pinned Deno) a
 * `node:tls` server with `ca`, `requestCert` and `rejectUnauthorized` does
 * verify chains, but it does not look at `keyUsage`, and a refused client
 * leaves only "socket hang up" on the server, with no reason to log. So the
 * server asks for a certificate without verifying it, and this module checks
 * it after the handshake.
 *
 * PKI.js (`pkijs`) builds the path from the client's certificate, through
 * the intermediates it sent, to a CA of the bundle; it checks every
 * signature, the dates of every certificate on the path, and that every
 * issuer is a CA (`basicConstraints` cA, and keyCertSign when `keyUsage` is
 * present). On that path this module adds what PKI.js leaves out: the
 * leaf's purpose (`extendedKeyUsage` must name clientAuth when present,
 * `keyUsage` must allow digitalSignature when present), `pathLenConstraint`,
 * and critical extensions it does not know, on the leaf and the
 * intermediates.
 *
 * @module
 */

import { BitString } from "asn1js";
import {
  BasicConstraints,
  Certificate,
  CertificateChainValidationEngine,
  ExtKeyUsage,
} from "pkijs";

/** The part of a `tls.TLSSocket` peer certificate this module reads. */
export interface PeerCertificateLike {
  /** DER bytes of the certificate. */
  raw?: Uint8Array;
  /** The issuer's certificate as the client sent it; itself when self-signed. */
  issuerCertificate?: PeerCertificateLike;
}

/** A parsed certificate, as {@linkcode parseCertificateBundle} returns them. */
export type TrustedCertificate = Certificate;

/** Options of {@linkcode clientCertificateProblem}. */
export interface ClientCertificateCheckOptions {
  /**
   * The time the certificates must be valid at.
   * @default {new Date()}
   */
  now?: Date;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g;

/**
 * Splits a PEM bundle into certificates; throws a `TypeError` when it holds
 * none, or one that is not a certificate.
 */
export function parseCertificateBundle(pem: string): TrustedCertificate[] {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new TypeError("no PEM certificate in the CA bundle");
  return blocks.map(([, base64], index) => {
    try {
      return Certificate.fromBER(Uint8Array.from(atob(base64.replace(/\s/g, "")), charCode));
    } catch (error) {
      throw new TypeError(
        `certificate ${index + 1} of the CA bundle cannot be read: ${(error as Error).message}`,
      );
    }
  });
}

function charCode(char: string): number {
  return char.charCodeAt(0);
}

/** At most this many certificates from one client: its own and the intermediates. */
export const MAX_CLIENT_CHAIN = 5;

const OID = {
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  extendedKeyUsage: "2.5.29.37",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

/**
 * Critical extensions whose meaning is enforced: by this module, or by
 * PKI.js (policies and name constraints), or that say nothing to enforce
 * for a client (names and key identifiers).
 */
const KNOWN_CRITICAL = new Set([
  OID.keyUsage,
  OID.basicConstraints,
  OID.extendedKeyUsage,
  "2.5.29.14", // subjectKeyIdentifier
  "2.5.29.17", // subjectAltName
  "2.5.29.30", // nameConstraints
  "2.5.29.32", // certificatePolicies
  "2.5.29.33", // policyMappings
  "2.5.29.35", // authorityKeyIdentifier
  "2.5.29.36", // policyConstraints
  "2.5.29.54", // inhibitAnyPolicy
]);

/** keyUsage bits, in the first byte of the bit string (bit 0 is 0x80). */
const DIGITAL_SIGNATURE = 0x80;

/** The certificates the client sent, leaf first, as DER. */
function sentChain(peer: PeerCertificateLike): Uint8Array[] | string {
  const chain: Uint8Array[] = [];
  let link: PeerCertificateLike | undefined = peer;
  while (link?.raw !== undefined && link.raw.length > 0) {
    if (chain.length === MAX_CLIENT_CHAIN) {
      return `the client sent more than ${MAX_CLIENT_CHAIN} certificates`;
    }
    chain.push(link.raw);
    if (link.issuerCertificate === link) break;
    link = link.issuerCertificate;
  }
  return chain;
}

/** Who a certificate is, for a reason line: its subject's common name, or its whole subject. */
function describe(certificate: Certificate): string {
  const values = certificate.subject.typesAndValues;
  const cn = values.find((v) => v.type === "2.5.4.3");
  const text = (cn === undefined ? values : [cn]).map((v) => v.value.valueBlock.value).join(", ");
  return `"${text}"`;
}

function extension(certificate: Certificate, oid: string) {
  return certificate.extensions?.find((e) => e.extnID === oid);
}

/** The first byte of a `keyUsage` bit string, or `undefined` when the extension is absent. */
function keyUsageByte(certificate: Certificate): number | undefined {
  const value = extension(certificate, OID.keyUsage)?.parsedValue;
  if (value === undefined) return undefined;
  return value instanceof BitString ? value.valueBlock.valueHexView[0] ?? 0 : 0;
}

/** What is wrong with the leaf's purpose, or `undefined`. */
function leafPurposeProblem(leaf: Certificate): string | undefined {
  const eku = extension(leaf, OID.extendedKeyUsage);
  if (eku !== undefined) {
    const purposes = eku.parsedValue instanceof ExtKeyUsage ? eku.parsedValue.keyPurposes : [];
    if (!purposes.includes(OID.clientAuth)) {
      return `its extendedKeyUsage (${purposes.join(", ") || "unreadable"}) does not allow ` +
        `clientAuth (${OID.clientAuth})`;
    }
  }
  const usage = keyUsageByte(leaf);
  if (usage !== undefined && (usage & DIGITAL_SIGNATURE) === 0) {
    return "its keyUsage does not allow digitalSignature";
  }
  return undefined;
}

/** How many more CAs may follow below this issuer, or `undefined` when unlimited. */
function pathLength(issuer: Certificate): number | undefined {
  const value = extension(issuer, OID.basicConstraints)?.parsedValue;
  if (!(value instanceof BasicConstraints) || value.pathLenConstraint === undefined) {
    return undefined;
  }
  const limit = value.pathLenConstraint;
  return typeof limit === "number" ? limit : Number(limit.toBigInt());
}

/**
 * What the checks PKI.js leaves out find wrong on a path (leaf first, anchor
 * last), or `undefined`.
 */
function pathProblem(path: Certificate[]): string | undefined {
  const leaf = path[0];
  const purpose = leafPurposeProblem(leaf);
  if (purpose !== undefined) return purpose;
  // The anchor is configuration; what the client sent is not.
  for (const [index, certificate] of path.slice(0, -1).entries()) {
    const unknown = certificate.extensions?.find((e) =>
      e.critical && !KNOWN_CRITICAL.has(e.extnID)
    );
    if (unknown !== undefined) {
      const where = index === 0 ? "" : ` in intermediate ${describe(certificate)}`;
      return `unknown critical extension ${unknown.extnID}${where}`;
    }
  }
  // Intermediates below issuer i that are not self-issued (RFC 5280, 6.1.4).
  let below = 0;
  for (let i = 1; i < path.length; i++) {
    const limit = pathLength(path[i]);
    if (limit !== undefined && below > limit) {
      return `issuer ${describe(path[i])} allows ${limit} intermediate CA(s) below it; ` +
        `the path has ${below}`;
    }
    if (!path[i].subject.isEqual(path[i].issuer)) below++;
  }
  return undefined;
}

/**
 * Why a client's certificate is not trusted, or `undefined` when it is: it
 * must chain, through the intermediates the client sent, to one of the
 * trusted CAs, with every certificate valid now, every issuer a CA allowed to
 * sign certificates (and to have that many CAs below it), and the client's own
 * certificate made for client authentication. Never throws.
 *
 * @example
 * ```ts
 * import { clientCertificateProblem } from "./client_certs.ts";
 * import assert from "node:assert/strict";
 * // No certificate at all is never trusted.
 * assert.equal(await clientCertificateProblem({}, []), "no client certificate");
 * ```
 */
export async function clientCertificateProblem(
  peer: PeerCertificateLike | undefined,
  trusted: readonly TrustedCertificate[],
  options: ClientCertificateCheckOptions = {},
): Promise<string | undefined> {
  const chain = peer === undefined ? [] : sentChain(peer);
  if (typeof chain === "string") return chain;
  if (chain.length === 0) return "no client certificate";
  let sent: Certificate[];
  try {
    // A copy: a Node Buffer may be a view into a larger shared pool.
    sent = chain.map((der) => Certificate.fromBER(new Uint8Array(der)));
  } catch (error) {
    return `a certificate the client sent cannot be read: ${(error as Error).message}`;
  }
  const engine = new CertificateChainValidationEngine({
    trustedCerts: [...trusted],
    // PKI.js takes the last one as the certificate to verify.
    certs: [...sent.slice(1), sent[0]],
    checkDate: options.now ?? new Date(),
  });
  try {
    const result = await engine.verify();
    const path = result.certificatePath;
    if (!result.result || path === undefined) {
      return `client certificate ${describe(sent[0])}: ${result.resultMessage || "not trusted"}`;
    }
    // PKI.js drops a certificate it also holds as trusted, and then may
    // verify another one than the client's.
    const problem = path[0] === sent[0]
      ? pathProblem(path)
      : "it is one of the trusted CAs, not a client certificate";
    return problem && `client certificate ${describe(sent[0])}: ${problem}`;
  } catch (error) {
    return `client certificate ${describe(sent[0])}: ${(error as Error).message}`;
  }
}
