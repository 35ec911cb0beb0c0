/**
 * OCSP (RFC 6960): parsing requests and building signed responses. Pure: the clock and the
 * certificate statuses are inputs; signing goes through a `Signer` (software or PKCS#11).
 *
 * Responses are "signed by the issuer" (the CA key that issued the certificate in question) or by a
 * delegated responder: a certificate issued by that CA with extendedKeyUsage id-kp-OCSPSigning (and
 * id-pkix-ocsp-nocheck), which is then included in `certs` so clients can check the delegation.
 * The responderID is always byKey: SHA-1 of the responder's subjectPublicKey BIT STRING contents.
 */
import { createHash } from 'node:crypto';
import type { RevocationReason } from '../core/types.js';
import { certificateFacts, type CertificateFacts } from './certificate-facts.js';
import { CRL_REASON_CODES } from './crl.js';
import { checkOid, checkWellFormed, children, decodeOid, DerError, type DerElement, expectTag, integerHex, octetAlignedBits, parseDer } from './der-reader.js';
import {
  bitString,
  contextExplicit,
  contextPrimitive,
  enumerated,
  extension,
  generalizedTime,
  nullValue,
  octetString,
  oid,
  sequence,
  signatureAlgorithmIdentifier,
  unsignedInteger,
} from './der-writer.js';
import { readName } from './name-reader.js';
import { serialBytes } from './serial.js';
import type { Signer } from './signer.js';

export const OCSP_OIDS = {
  basic: '1.3.6.1.5.5.7.48.1.1',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  noCheck: '1.3.6.1.5.5.7.48.1.5',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** OCSPResponseStatus (RFC 6960 §4.2.1); 4 is not used. */
export const OCSP_RESPONSE_STATUS = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;
export type OcspResponseStatus = keyof typeof OCSP_RESPONSE_STATUS;

export type CertIdHash = 'sha1' | 'sha256';
const HASH_BY_OID: Record<string, CertIdHash> = { [OCSP_OIDS.sha1]: 'sha1', [OCSP_OIDS.sha256]: 'sha256' };

/** RFC 8954 §2.1: nonces longer than this are refused. */
export const MAX_NONCE_LENGTH = 32;

export interface CertId {
  /** null when the request used a hash algorithm Certflow does not support (then `hashAlgorithmOid` says which). */
  hashAlgorithm: CertIdHash | null;
  hashAlgorithmOid: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Canonical hex serial (lowercase, no leading zero octets). */
  serial: string;
  /** The CertID exactly as the client sent it; responses echo it verbatim so clients can match. */
  raw: Buffer;
}

export interface OcspRequest {
  certIds: CertId[];
  /** The nonce extension's extnValue contents (RFC 8954: an OCTET STRING holding the nonce), echoed verbatim. */
  nonceExtnValue: Buffer | null;
  /** The nonce octets themselves, when the value is the RFC 8954 OCTET STRING. */
  nonce: Buffer | null;
  /** The request carried an optionalSignature (Certflow does not require or check signed requests). */
  signed: boolean;
}

export class OcspRequestError extends Error {
  override name = 'OcspRequestError';
}

/** Parses a DER OCSPRequest; throws `OcspRequestError` for anything malformed (answer with malformedRequest). */
export function parseOcspRequest(der: Uint8Array): OcspRequest {
  try {
    return parseOcspRequestUnchecked(der);
  } catch (error) {
    if (error instanceof DerError || error instanceof OcspRequestError) throw new OcspRequestError(`malformed OCSP request: ${error.message}`);
    throw error;
  }
}

function parseOcspRequestUnchecked(der: Uint8Array): OcspRequest {
  const request = expectTag(parseDer(der), 0x30, 'OCSPRequest');
  const [tbsRequest, optionalSignature, ...rest] = children(request);
  if (rest.length > 0 || (optionalSignature && optionalSignature.tag !== 0xa0)) throw new OcspRequestError('unexpected fields after tbsRequest');
  // Certflow neither requires nor checks signed requests, but what it skips must still be well-formed.
  if (optionalSignature) checkSignature(optionalSignature);
  const fields = children(expectTag(tbsRequest, 0x30, 'TBSRequest'));
  let index = 0;
  if (fields[index]?.tag === 0xa0) {
    const version = explicitOne(fields[index]!, 'version');
    if (integerHex(version, 'version') !== '00') throw new OcspRequestError('unsupported OCSP request version');
    index++;
  }
  if (fields[index]?.tag === 0xa1) {
    // requestorName [1] EXPLICIT GeneralName: read past, but only when well-formed.
    checkGeneralName(explicitOne(fields[index]!, 'requestorName'));
    index++;
  }
  const requestList = children(expectTag(fields[index++], 0x30, 'requestList'));
  if (requestList.length === 0) throw new OcspRequestError('the request list is empty');
  let nonceExtnValue: Buffer | null = null;
  if (fields[index]?.tag === 0xa2) {
    const extensions = explicitOne(fields[index]!, 'requestExtensions');
    for (const ext of children(expectTag(extensions, 0x30, 'requestExtensions'))) {
      const { id, critical, value } = readExtension(ext);
      if (id === OCSP_OIDS.nonce) {
        if (nonceExtnValue) throw new OcspRequestError('more than one nonce extension');
        nonceExtnValue = Buffer.from(value);
      } else if (critical) {
        // RFC 6960 §4.4: unrecognized extensions are ignored unless they are critical.
        throw new OcspRequestError(`unsupported critical request extension ${id}`);
      }
    }
    index++;
  }
  if (index !== fields.length) throw new OcspRequestError('unexpected fields in tbsRequest');

  const certIds = requestList.map((entry) => {
    const [reqCert, singleExtensions, ...extra] = children(expectTag(entry, 0x30, 'Request'));
    if (extra.length > 0 || (singleExtensions && singleExtensions.tag !== 0xa0)) throw new OcspRequestError('unexpected fields in Request');
    // singleRequestExtensions [0] EXPLICIT Extensions: none is used, but they must be Extensions.
    if (singleExtensions) children(expectTag(explicitOne(singleExtensions, 'singleRequestExtensions'), 0x30, 'singleRequestExtensions')).forEach(readExtension);
    return parseCertId(expectTag(reqCert, 0x30, 'CertID'));
  });
  let nonce: Buffer | null = null;
  if (nonceExtnValue) {
    if (nonceExtnValue.length === 0) throw new OcspRequestError('empty nonce');
    try {
      const inner = parseDer(nonceExtnValue);
      if (inner.tag === 0x04) nonce = Buffer.from(inner.content);
    } catch {
      // Pre-RFC 8954 clients put the raw nonce octets in extnValue; echo them just the same.
    }
    if ((nonce ?? nonceExtnValue).length > MAX_NONCE_LENGTH) throw new OcspRequestError(`the nonce is longer than ${MAX_NONCE_LENGTH} octets`);
    if (nonce !== null && nonce.length === 0) throw new OcspRequestError('empty nonce');
  }
  return { certIds, nonceExtnValue, nonce, signed: optionalSignature !== undefined };
}

/** The one element inside an EXPLICIT tag. */
function explicitOne(element: DerElement, what: string): DerElement {
  const [inner, ...extra] = children(element);
  if (!inner || extra.length > 0) throw new OcspRequestError(`${what} must hold exactly one element`);
  return inner;
}

/**
 * The requestorName GeneralName (RFC 5280 §4.2.1.6), read past but checked: otherName, rfc822Name,
 * dNSName, directoryName, uniformResourceIdentifier, iPAddress or registeredID, each well-formed.
 * x400Address and ediPartyName (never used for OCSP requestors) are refused rather than half-read.
 */
function checkGeneralName(name: DerElement): void {
  checkWellFormed(name);
  switch (name.tag) {
    case 0xa0: {
      // otherName [0] IMPLICIT SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
      const [typeId, value, ...extra] = children(name);
      if (extra.length > 0) throw new OcspRequestError('requestorName otherName has unexpected fields');
      checkOid(typeId, 'otherName type-id');
      explicitOne(expectTag(value, 0xa0, 'otherName value'), 'otherName value');
      return;
    }
    case 0x81: // rfc822Name
    case 0x82: // dNSName
    case 0x86: // uniformResourceIdentifier
      if (name.content.some((byte) => byte > 0x7f)) throw new OcspRequestError('requestorName is not ASCII (IA5String)');
      return;
    case 0x87: // iPAddress
      if (name.content.length !== 4 && name.content.length !== 16) throw new OcspRequestError('requestorName iPAddress is not 4 or 16 octets');
      return;
    case 0x88: // registeredID
      checkOid({ ...name, tag: 0x06 }, 'requestorName registeredID');
      return;
    case 0xa4:
      readName(explicitOne(name, 'requestorName directoryName'), 'requestorName directoryName');
      return;
    case 0xa3:
    case 0xa5:
      throw new OcspRequestError('requestorName x400Address and ediPartyName are not supported');
    default:
      throw new OcspRequestError('requestorName must hold exactly one GeneralName');
  }
}

/** optionalSignature [0] EXPLICIT Signature ::= SEQUENCE { signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL } */
function checkSignature(optionalSignature: DerElement): void {
  const [signature, ...extra] = children(optionalSignature);
  if (extra.length > 0) throw new OcspRequestError('unexpected fields in optionalSignature');
  const [algorithm, bits, certs, ...more] = children(expectTag(signature, 0x30, 'Signature'));
  if (more.length > 0 || (certs && certs.tag !== 0xa0)) throw new OcspRequestError('unexpected fields in Signature');
  decodeOid(children(expectTag(algorithm, 0x30, 'signatureAlgorithm'))[0], 'signatureAlgorithm.algorithm');
  checkWellFormed(algorithm!);
  checkWellFormed(expectTag(bits, 0x03, 'signature'));
  if (certs) {
    const [list, ...extraLists] = children(certs);
    if (extraLists.length > 0) throw new OcspRequestError('unexpected fields in certs');
    for (const certificate of children(expectTag(list, 0x30, 'certs'))) checkCertificateShape(certificate);
  }
}

/**
 * A certificate of a signed request is never used, so it is not decoded as X.509: only its layout
 * (RFC 5280 §4.1: Certificate and TBSCertificate fields with their types) and well-formed DER.
 */
function checkCertificateShape(certificate: DerElement | undefined): void {
  checkWellFormed(expectTag(certificate, 0x30, 'a certificate in certs'));
  const [tbs, algorithm, signature, ...extra] = children(certificate!);
  if (extra.length > 0) throw new OcspRequestError('a certificate in certs has trailing fields');
  expectTag(algorithm, 0x30, 'certificate signatureAlgorithm');
  expectTag(signature, 0x03, 'certificate signature');
  const fields = children(expectTag(tbs, 0x30, 'TBSCertificate'));
  let index = fields[0]?.tag === 0xa0 ? 1 : 0;
  for (const [tag, what] of [[0x02, 'serialNumber'], [0x30, 'signature'], [0x30, 'issuer'], [0x30, 'validity'], [0x30, 'subject'], [0x30, 'subjectPublicKeyInfo']] as const) {
    expectTag(fields[index++], tag, `TBSCertificate ${what}`);
  }
  for (const tag of [0xa1, 0xa2, 0xa3]) if (fields[index]?.tag === tag) index++;
  if (index !== fields.length) throw new OcspRequestError('a certificate in certs has unexpected TBSCertificate fields');
}

function parseCertId(element: DerElement): CertId {
  const [algorithm, nameHash, keyHash, serial, ...extra] = children(element);
  if (extra.length > 0) throw new OcspRequestError('unexpected fields in CertID');
  const [algorithmOid, parameters, ...more] = children(expectTag(algorithm, 0x30, 'hashAlgorithm'));
  if (more.length > 0 || (parameters && parameters.tag !== 0x05)) throw new OcspRequestError('unexpected hash algorithm parameters');
  if (parameters) checkWellFormed(parameters);
  const hashAlgorithmOid = decodeOid(algorithmOid, 'hashAlgorithm.algorithm');
  const hashAlgorithm = HASH_BY_OID[hashAlgorithmOid] ?? null;
  const issuerNameHash = Buffer.from(expectTag(nameHash, 0x04, 'issuerNameHash').content);
  const issuerKeyHash = Buffer.from(expectTag(keyHash, 0x04, 'issuerKeyHash').content);
  if (hashAlgorithm) {
    const size = hashAlgorithm === 'sha1' ? 20 : 32;
    if (issuerNameHash.length !== size || issuerKeyHash.length !== size) throw new OcspRequestError(`${hashAlgorithm} hashes must be ${size} octets`);
  }
  return {
    hashAlgorithm,
    hashAlgorithmOid,
    issuerNameHash,
    issuerKeyHash,
    serial: integerHex(serial, 'serialNumber'),
    raw: Buffer.from(element.raw),
  };
}

function readExtension(element: DerElement): { id: string; critical: boolean; value: Buffer } {
  const parts = children(expectTag(element, 0x30, 'Extension'));
  const id = decodeOid(parts[0], 'extnID');
  let critical = false;
  let index = 1;
  if (parts[index]?.tag === 0x01) {
    checkWellFormed(parts[index]!);
    critical = parts[index]!.content[0] === 0xff;
    index++;
  }
  const value = expectTag(parts[index], 0x04, 'extnValue').content;
  if (index + 1 !== parts.length) throw new OcspRequestError('unexpected fields in Extension');
  return { id, critical, value };
}

/** The issuerNameHash / issuerKeyHash an issuer certificate answers to, per hash algorithm. */
export interface IssuerHashes {
  sha1: { nameHash: Buffer; keyHash: Buffer };
  sha256: { nameHash: Buffer; keyHash: Buffer };
}

export function issuerHashes(issuerCertificate: Uint8Array | string | CertificateFacts): IssuerHashes {
  const facts = isFacts(issuerCertificate) ? issuerCertificate : certificateFacts(issuerCertificate);
  const hash = (algorithm: CertIdHash, data: Buffer) => createHash(algorithm).update(data).digest();
  return {
    sha1: { nameHash: hash('sha1', facts.subjectDer), keyHash: hash('sha1', facts.publicKeyBits) },
    sha256: { nameHash: hash('sha256', facts.subjectDer), keyHash: hash('sha256', facts.publicKeyBits) },
  };
}

/** True when the CertID names this issuer (same name and key hash under the CertID's algorithm). */
export function certIdMatchesIssuer(certId: CertId, hashes: IssuerHashes): boolean {
  if (!certId.hashAlgorithm) return false;
  const expected = hashes[certId.hashAlgorithm];
  return expected.nameHash.equals(certId.issuerNameHash) && expected.keyHash.equals(certId.issuerKeyHash);
}

/** A CertID for a certificate of this issuer (what a client would send), DER. */
export function encodeCertId(hashAlgorithm: CertIdHash, hashes: IssuerHashes, serial: string): Buffer {
  const { nameHash, keyHash } = hashes[hashAlgorithm];
  return sequence(
    sequence(oid(OCSP_OIDS[hashAlgorithm]), nullValue()),
    octetString(nameHash),
    octetString(keyHash),
    unsignedInteger(serialBytes(serial)),
  );
}

export type CertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revokedAt: Date; reason: RevocationReason }
  | { status: 'unknown' };

export interface SingleResponseInput {
  /** The CertID as the client sent it (echoed verbatim). */
  certId: Buffer;
  certStatus: CertStatus;
  thisUpdate: Date;
  /** Absent means "newer information is always available" (RFC 6960 §4.2.2.1); Certflow always sets it. */
  nextUpdate?: Date;
}

export interface OcspResponder {
  /** The key that signs: the issuer's own, or a delegated responder's. */
  signer: Signer;
  /** DER of the delegated responder's certificate, included in `certs`; absent when the issuer signs. */
  delegatedCertificate?: Uint8Array;
}

export interface BuildOcspResponseOptions {
  producedAt: Date;
  responses: SingleResponseInput[];
  /** The request's nonce extnValue, echoed as a response extension. */
  nonceExtnValue?: Buffer | null;
}

/** A successful OCSPResponse carrying a signed BasicOCSPResponse, DER. */
export async function buildOcspResponse(responder: OcspResponder, options: BuildOcspResponseOptions): Promise<Buffer> {
  if (options.responses.length === 0) throw new Error('an OCSP response needs at least one SingleResponse');
  if (responder.delegatedCertificate) {
    const delegated = certificateFacts(responder.delegatedCertificate);
    if (!delegated.spkiDer.equals(Buffer.from(responder.signer.publicKeySpki))) throw new Error("the signer's key is not the delegated responder certificate's key");
  }
  const responseExtensions = options.nonceExtnValue ? [contextExplicit(1, sequence(extension(OCSP_OIDS.nonce, false, options.nonceExtnValue)))] : [];
  const tbs = sequence(
    responderIdByKey(responder.signer.publicKeySpki),
    generalizedTime(options.producedAt),
    sequence(...options.responses.map(singleResponse)),
    ...responseExtensions,
  );
  const signature = await responder.signer.sign(tbs);
  const certs = responder.delegatedCertificate ? [contextExplicit(0, sequence(Buffer.from(responder.delegatedCertificate)))] : [];
  const basic = sequence(tbs, signatureAlgorithmIdentifier(responder.signer.keyAlgorithm), bitString(signature), ...certs);
  return sequence(
    enumerated(OCSP_RESPONSE_STATUS.successful),
    contextExplicit(0, sequence(oid(OCSP_OIDS.basic), octetString(basic))),
  );
}

/** An unsuccessful OCSPResponse (no responseBytes, unsigned): malformedRequest, tryLater, unauthorized, … */
export function ocspErrorResponse(status: Exclude<OcspResponseStatus, 'successful'>): Buffer {
  return sequence(enumerated(OCSP_RESPONSE_STATUS[status]));
}

/** ResponderID byKey ([2] EXPLICIT KeyHash): SHA-1 of the subjectPublicKey BIT STRING contents. */
function responderIdByKey(spki: Uint8Array): Buffer {
  const parts = children(parseDer(spki));
  const bits = octetAlignedBits(parts[1], 'subjectPublicKey');
  return contextExplicit(2, octetString(createHash('sha1').update(bits).digest()));
}

function singleResponse(input: SingleResponseInput): Buffer {
  return sequence(
    input.certId,
    certStatus(input.certStatus),
    generalizedTime(input.thisUpdate),
    ...(input.nextUpdate ? [contextExplicit(0, generalizedTime(input.nextUpdate))] : []),
  );
}

const EMPTY = Buffer.alloc(0);

function certStatus(status: CertStatus): Buffer {
  switch (status.status) {
    case 'good':
      return contextPrimitive(0, EMPTY); // [0] IMPLICIT NULL
    case 'unknown':
      return contextPrimitive(2, EMPTY); // [2] IMPLICIT UnknownInfo (NULL)
    case 'revoked': {
      const code = CRL_REASON_CODES[status.reason];
      if (code === undefined) throw new Error(`unknown revocation reason "${status.reason}"`);
      // [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }; like the
      // CRL entry, `unspecified` is left out rather than written (RFC 5280 §5.3.1, CA/B BR §7.3).
      return contextExplicit(1, generalizedTime(status.revokedAt), ...(code === 0 ? [] : [contextExplicit(0, enumerated(code))]));
    }
  }
}

function isFacts(value: unknown): value is CertificateFacts {
  return typeof value === 'object' && value !== null && 'publicKeyBits' in value && 'subjectDer' in value;
}
