/**
 * Parsing a client CSR (PKCS#10, RFC 2986): PEM or DER → verified public key and the names it asks
 * for. Only the key and the names are taken from a CSR; its requested extensions are never copied
 * into a certificate.
 *
 * `readCsr` is the fast, synchronous path the issuance pipeline uses: a strict DER walk that keeps
 * the original bytes (the SPKI is copied into the certificate verbatim), one import of the key
 * (public-key-import.ts), kept in the result for the key checks, and one node:crypto verify.
 * `parseCsr` is the older asynchronous API that also returns the key as a WebCrypto CryptoKey.
 */
import { type KeyObject, verify } from 'node:crypto';
import { canonicalizeIp } from '../core/ip.js';
import type { KeyAlgorithm } from '../core/types.js';
import { identifySubjectKey, importSubjectKey, isOid, type KeyFamily, oidLookup } from './csr-key.js';
import { readName } from './name-reader.js';
import { importPublicKeySpki } from './keys.js';
import { checkOid, checkWellFormed, children, decodeOid, DerError, type DerElement, expectTag, octetAlignedBits, parseDer } from './der-reader.js';

export interface VerifiedCsr {
  keyAlgorithm: KeyAlgorithm;
  /** The CSR's SubjectPublicKeyInfo, byte for byte. */
  publicKeySpki: Buffer;
  /** The same key as node:crypto imported it to verify the CSR: handed on, so nothing imports it again. */
  publicKeyObject: KeyObject;
  /** The first CN of the subject, or null. */
  commonName: string | null;
  dnsNames: string[];
  /** Canonical text (core/ip.ts). */
  ipAddresses: string[];
  uris: string[];
  /** Name of the signature algorithm the CSR was signed with, e.g. "ecdsa-with-SHA256". */
  signatureAlgorithm: string;
}

export interface ParsedCsr extends VerifiedCsr {
  publicKey: CryptoKey;
}

export class CsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsrError';
  }
}

interface SignatureAlgorithm {
  name: string;
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  family: KeyFamily;
}

const SIGNATURE_ALGORITHMS: Record<string, SignatureAlgorithm> = {
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256', family: 'EC' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384', family: 'EC' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512', family: 'EC' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256', family: 'RSA' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384', family: 'RSA' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512', family: 'RSA' },
  '1.3.101.112': { name: 'Ed25519', hash: null, family: 'Ed25519' },
};

/** Signature algorithms refused for their hash, named as a person would look them up. */
const WEAK_SIGNATURE_ALGORITHMS: Record<string, { hash: string; name: string }> = {
  '1.2.840.113549.1.1.2': { hash: 'MD2', name: 'md2WithRSAEncryption' },
  '1.2.840.113549.1.1.3': { hash: 'MD4', name: 'md4WithRSAEncryption' },
  '1.2.840.113549.1.1.4': { hash: 'MD5', name: 'md5WithRSAEncryption' },
  '1.2.840.113549.1.1.5': { hash: 'SHA-1', name: 'sha1WithRSAEncryption' },
  '1.3.14.3.2.29': { hash: 'SHA-1', name: 'sha1WithRSAEncryption (OIW)' },
  '1.2.840.10045.4.1': { hash: 'SHA-1', name: 'ecdsa-with-SHA1' },
  '1.2.840.10040.4.3': { hash: 'SHA-1', name: 'dsa-with-SHA1' },
};

const OTHER_SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.3.101.113': 'Ed448',
};

const signatureAlgorithmOf = oidLookup(SIGNATURE_ALGORITHMS);
const weakSignatureAlgorithmOf = oidLookup(WEAK_SIGNATURE_ALGORITHMS);

const OIDS = {
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
} as const;

const ACCEPTED_KEYS = 'use ECDSA P-256/P-384, RSA 2048/3072/4096 or Ed25519';
const PEM_BLOCK = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([^-]*)-----END (NEW )?CERTIFICATE REQUEST-----/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses and verifies a CSR given as PEM text or DER bytes; throws CsrError with a reason a requester can act on. */
export function readCsr(csr: string | Uint8Array): VerifiedCsr {
  const der = typeof csr === 'string' ? pemBody(csr) : Buffer.from(csr.buffer, csr.byteOffset, csr.byteLength);
  let structure: CsrStructure;
  try {
    structure = readStructure(der);
  } catch (error) {
    if (error instanceof DerError) throw new CsrError(`the csr is not a PEM-encoded PKCS#10 certificate request: ${error.message}`);
    throw error;
  }

  const weak = weakSignatureAlgorithmOf(structure.signatureOid);
  if (weak) throw new CsrError(`the csr is signed with ${weak.hash} (${weak.name}), which is not accepted; sign it with SHA-256 or stronger`);
  if (!structure.key.supported) throw new CsrError(`the csr carries a public key of an unsupported type: ${structure.key.description}; ${ACCEPTED_KEYS}`);
  const signatureAlgorithm = signatureAlgorithmOf(structure.signatureOid);
  if (!signatureAlgorithm) {
    const dotted = oidText(structure.signatureOid);
    const name = OTHER_SIGNATURE_ALGORITHMS[dotted] ?? `OID ${dotted}`;
    throw new CsrError(`the csr is signed with ${name}, which is not supported; sign it with ECDSA (SHA-256/384), RSA PKCS#1 v1.5 (SHA-256 or stronger) or Ed25519`);
  }
  // RFC 4055 (RSA: NULL), RFC 5758 (ECDSA) and RFC 8410 (Ed25519: absent): nothing else parameterizes these algorithms.
  const parameters = structure.signatureParameters;
  if (parameters && (parameters.tag !== 0x05 || parameters.content.length !== 0)) {
    throw new CsrError(`the csr's ${signatureAlgorithm.name} signature algorithm parameters must be absent or NULL`);
  }
  if (signatureAlgorithm.family !== structure.key.family) {
    throw new CsrError(`the csr is signed with ${signatureAlgorithm.name}, which does not match its ${structure.key.keyAlgorithm} key`);
  }

  let key: KeyObject;
  try {
    key = importSubjectKey(structure.spki.raw, structure.key);
  } catch {
    throw new CsrError(`the csr carries an invalid ${structure.key.keyAlgorithm} public key`);
  }
  if (!verifies(signatureAlgorithm.hash, structure.info.raw, key, structure.signature)) {
    throw new CsrError('the csr signature does not verify against its own public key');
  }

  const { commonName, dnsNames, ipAddresses, uris } = structure.names;
  return {
    keyAlgorithm: structure.key.keyAlgorithm,
    publicKeySpki: Buffer.from(structure.spki.raw),
    publicKeyObject: key,
    commonName,
    dnsNames,
    ipAddresses,
    uris,
    signatureAlgorithm: signatureAlgorithm.name,
  };
}

/** An OID the table did not know, as text for a message; a malformed one makes the CSR malformed (a CsrError, not a DerError). */
function oidText(element: DerElement): string {
  try {
    return decodeOid(element);
  } catch (error) {
    if (error instanceof DerError) throw new CsrError(`the csr is not a PEM-encoded PKCS#10 certificate request: ${error.message}`);
    throw error;
  }
}

/** A signature that node:crypto cannot even parse (e.g. malformed ECDSA DER) does not verify. */
function verifies(hash: SignatureAlgorithm['hash'], data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(hash, data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** The asynchronous API of before: `readCsr` plus the key as a WebCrypto CryptoKey. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  const csr = readCsr(pem);
  return { ...csr, publicKey: await importPublicKeySpki(csr.publicKeySpki, csr.keyAlgorithm) };
}

interface CsrNames {
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

interface CsrStructure {
  info: DerElement;
  spki: DerElement;
  key: ReturnType<typeof identifySubjectKey>;
  names: CsrNames;
  signatureOid: DerElement;
  signatureParameters: DerElement | null;
  signature: Buffer;
}

function pemBody(pem: string): Buffer {
  // Only one request per field: with two, the client could believe the other one was used.
  const begin = pem.indexOf('-----BEGIN ');
  if (begin !== -1 && pem.indexOf('-----BEGIN ', begin + 1) !== -1) {
    throw new CsrError('the csr field holds more than one PEM block; send exactly one certificate request');
  }
  const match = PEM_BLOCK.exec(pem);
  const body = match?.[2]?.replace(/\s+/g, '') ?? '';
  if (!match || body.length === 0 || !BASE64.test(body)) {
    throw new CsrError('the csr is not a PEM-encoded PKCS#10 certificate request ("-----BEGIN CERTIFICATE REQUEST-----")');
  }
  return Buffer.from(body, 'base64');
}

/** CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING } */
function readStructure(der: Buffer): CsrStructure {
  const [info, algorithm, signatureBits, extra] = children(expectTag(parseDer(der), 0x30, 'CertificationRequest'));
  if (extra) throw new DerError('CertificationRequest has trailing fields');
  // CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name, subjectPKInfo, attributes [0] }
  const [version, subject, spki, attributes, extraInfo] = children(expectTag(info, 0x30, 'CertificationRequestInfo'));
  if (extraInfo) throw new DerError('CertificationRequestInfo has trailing fields');
  const versionContent = expectTag(version, 0x02, 'version').content;
  if (versionContent.length !== 1 || versionContent[0] !== 0) throw new DerError('only version 1 (0) certification requests exist');
  const signature = octetAlignedBits(signatureBits, 'signature');
  const [signatureOid, signatureParameters, extraParameters] = children(expectTag(algorithm, 0x30, 'signatureAlgorithm'));
  if (extraParameters) throw new DerError('signatureAlgorithm has trailing fields');
  if (signatureParameters) checkWellFormed(signatureParameters);
  const key = identifySubjectKey(expectTag(spki, 0x30, 'subjectPKInfo'));
  const names = subjectAltNamesOf(attributes);
  return {
    info: info!,
    spki: spki!,
    key,
    names: { commonName: commonNameOf(subject!), dnsNames: names.dnsNames, ipAddresses: names.ipAddresses, uris: names.uris },
    signatureOid: expectTag(signatureOid, 0x06, 'signature algorithm'),
    signatureParameters: signatureParameters ?? null,
    signature,
  };
}

/**
 * The first CN in the subject Name (SEQUENCE OF SET OF AttributeTypeAndValue). Every attribute value
 * is checked, not only the CN's: a value openssl and RFC 5280 would refuse (an INTEGER, a UTF8String
 * that is not UTF-8) makes the whole request malformed, so Certflow never accepts what they refuse.
 */
function commonNameOf(subject: DerElement): string | null {
  let commonName: string | null = null;
  readName(subject, 'subject', (type, value, text) => {
    if (commonName === null && isOid(type, OIDS.commonName)) commonName = directoryString(value, text);
  });
  return commonName;
}

/** The CN as text: one of the DirectoryString types Certflow reads a name from. */
function directoryString(value: DerElement, text: string): string {
  if ([0x0c, 0x13, 0x16, 0x14, 0x1e].includes(value.tag)) return text;
  throw new DerError(`unsupported string type 0x${value.tag.toString(16)} for the subject CN`);
}

/** The dNSName, iPAddress and URI entries of the subjectAltName in the extensionRequest attribute; other names are ignored. */
function subjectAltNamesOf(attributes: DerElement | undefined): Omit<CsrNames, 'commonName'> {
  const names = { dnsNames: [] as string[], ipAddresses: [] as string[], uris: [] as string[] };
  if (!attributes) return names;
  for (const attribute of children(expectTag(attributes, 0xa0, 'attributes'))) {
    const [type, values, extra] = children(expectTag(attribute, 0x30, 'Attribute'));
    if (extra) throw new DerError('Attribute has trailing fields');
    expectTag(values, 0x31, 'attribute values');
    if (!isOid(expectTag(type, 0x06, 'attribute type'), OIDS.extensionRequest)) {
      // Not read, but it must be well-formed: openssl and pkijs refuse the request otherwise.
      decodeOid(type);
      checkWellFormed(values!);
      continue;
    }
    // PKCS#9 (RFC 2985 §5.4.2): extensionRequest is single-valued.
    const [extensions, extraValue] = children(expectTag(values, 0x31, 'extensionRequest values'));
    if (extraValue) throw new DerError('extensionRequest has more than one value');
    for (const extension of children(expectTag(extensions, 0x30, 'Extensions'))) {
      // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }, checked even when skipped.
      const parts = children(expectTag(extension, 0x30, 'Extension'));
      checkOid(parts[0], 'extnID');
      if (parts.length === 3) checkWellFormed(expectTag(parts[1], 0x01, 'critical'));
      else if (parts.length !== 2) throw new DerError('an Extension has unexpected fields');
      const value = expectTag(parts[parts.length - 1], 0x04, 'extnValue');
      if (!isOid(parts[0]!, OIDS.subjectAltName)) continue;
      for (const name of children(expectTag(parseDer(value.content), 0x30, 'GeneralNames'))) {
        if (name.tag === 0x82) names.dnsNames.push(ia5String(name, 'dNSName'));
        else if (name.tag === 0x87) names.ipAddresses.push(ipAddress(name));
        else if (name.tag === 0x86) names.uris.push(ia5String(name, 'uniformResourceIdentifier'));
      }
    }
  }
  return names;
}

function ia5String(element: DerElement, what: string): string {
  if (element.content.some((byte) => byte > 0x7f)) throw new DerError(`${what} is not ASCII (IA5String)`);
  return element.content.toString('ascii');
}

function ipAddress(element: DerElement): string {
  const octets = element.content;
  if (octets.length === 4) return octets.join('.');
  if (octets.length !== 16) throw new DerError(`iPAddress has ${octets.length} octets, not 4 or 16`);
  // Eight full hex groups are valid IPv6 text; canonicalizeIp then writes the canonical form.
  const groups = Array.from({ length: 8 }, (_, index) => octets.readUInt16BE(2 * index).toString(16));
  return canonicalizeIp(groups.join(':'));
}
