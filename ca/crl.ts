/**
 * X.509 v2 CRLs (RFC 5280 §5), built with the DER writer (ca/der-writer.ts) and signed through the
 * issuer's `Signer` (software or PKCS#11 alike). Pure: the clock, the CRL number and the revoked
 * entries are inputs.
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
 *   TBSCertList ::= SEQUENCE { version v2, signature, issuer, thisUpdate, nextUpdate,
 *                              revokedCertificates OPTIONAL, crlExtensions [0] EXPLICIT }
 */
import type { RevocationReason } from '../core/types.js';
import { certificateFacts, type CertificateFacts } from './certificate-facts.js';
import {
  contextExplicit,
  contextPrimitive,
  enumerated,
  extension,
  sequence,
  signatureAlgorithmIdentifier,
  signStructure,
  smallInteger,
  time,
  unsignedInteger,
} from './der-writer.js';
import { serialBytes } from './serial.js';
import type { Signer } from './signer.js';

/** RFC 5280 §5.3.1 CRLReason codes for the reasons Certflow accepts (core/types.ts REVOCATION_REASONS). */
export const CRL_REASON_CODES: Record<RevocationReason, number> = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
};

export const CRL_OIDS = {
  authorityKeyIdentifier: '2.5.29.35',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
} as const;

/** Default distance from thisUpdate to nextUpdate. Publication runs hourly, far within it. */
export const DEFAULT_CRL_VALIDITY_SECONDS = 24 * 3600;

/** RFC 5280 §5.2.3: a CRL number is a non-negative integer of at most 20 octets. */
const MAX_CRL_NUMBER = 2n ** 159n - 1n;

export interface RevokedEntry {
  /** Hex serial (any case, leading zeros allowed). */
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CrlIssuer {
  /** The issuer certificate (DER or PEM): its subject becomes the CRL issuer, its SKI the AKI. */
  certificate: Uint8Array | string;
  signer: Signer;
}

export interface BuildCrlOptions {
  crlNumber: bigint | number;
  thisUpdate: Date;
  /** Default: thisUpdate + DEFAULT_CRL_VALIDITY_SECONDS. */
  nextUpdate?: Date;
  revoked: RevokedEntry[];
}

export class CrlError extends Error {
  override name = 'CrlError';
}

/** Builds and signs a v2 CRL; returns its DER. Entries are ordered by serial, so equal inputs give equal TBS bytes. */
export async function buildCrl(issuer: CrlIssuer, options: BuildCrlOptions): Promise<Buffer> {
  const facts = certificateFacts(issuer.certificate);
  const tbs = crlTbs(facts, issuer.signer, options);
  return signStructure(tbs, issuer.signer);
}

function crlTbs(issuer: CertificateFacts, signer: Signer, options: BuildCrlOptions): Buffer {
  const crlNumber = BigInt(options.crlNumber);
  if (crlNumber < 0n || crlNumber > MAX_CRL_NUMBER) throw new CrlError(`CRL number ${crlNumber} is out of range`);
  if (!issuer.subjectKeyIdentifier) throw new CrlError('the issuer certificate has no subject key identifier');
  const nextUpdate = options.nextUpdate ?? new Date(options.thisUpdate.getTime() + DEFAULT_CRL_VALIDITY_SECONDS * 1000);
  if (nextUpdate.getTime() <= options.thisUpdate.getTime()) throw new CrlError('nextUpdate must be later than thisUpdate');
  if (!sameKey(issuer.spkiDer, signer.publicKeySpki)) throw new CrlError("the signer's key is not the issuer certificate's key");

  const entries = [...options.revoked]
    .map((entry) => ({ ...entry, bytes: serialBytes(entry.serial) }))
    .sort((a, b) => compareSerials(a.bytes, b.bytes))
    .map((entry) => revokedCertificate(entry.bytes, entry.revokedAt, entry.reason));

  const extensions = sequence(
    extension(CRL_OIDS.authorityKeyIdentifier, false, sequence(contextPrimitive(0, issuer.subjectKeyIdentifier))),
    extension(CRL_OIDS.cRLNumber, false, unsignedInteger(bigintBytes(crlNumber))),
  );
  return sequence(
    smallInteger(1), // v2
    signatureAlgorithmIdentifier(signer.keyAlgorithm),
    issuer.subjectDer,
    time(options.thisUpdate),
    time(nextUpdate),
    ...(entries.length > 0 ? [sequence(...entries)] : []),
    contextExplicit(0, extensions),
  );
}

function revokedCertificate(serial: Buffer, revokedAt: Date, reason: RevocationReason): Buffer {
  const code = CRL_REASON_CODES[reason];
  if (code === undefined) throw new CrlError(`unknown revocation reason "${reason}"`);
  // RFC 5280 §5.3.1: the reasonCode extension should be absent rather than carry `unspecified`.
  const entryExtensions = code === 0 ? [] : [sequence(extension(CRL_OIDS.reasonCode, false, enumerated(code)))];
  return sequence(unsignedInteger(serial), time(revokedAt), ...entryExtensions);
}

function bigintBytes(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

function compareSerials(a: Buffer, b: Buffer): number {
  return a.length !== b.length ? a.length - b.length : Buffer.compare(a, b);
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
