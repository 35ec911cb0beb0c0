/**
 * The public key of a CSR: which of Certflow's key algorithms a SubjectPublicKeyInfo holds, and a
 * node:crypto KeyObject to verify the CSR's signature with (public-key-import.ts: the cheaper
 * import path, once per request).
 */
import type { KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../core/types.js';
import { importPublicKey, type PublicKeyParts } from './public-key-import.js';
import { oid } from './der-writer.js';
import { children, decodeOid, DerError, type DerElement, expectTag, integerMagnitude, octetAlignedBits, parseDer } from './der-reader.js';

export type KeyFamily = 'EC' | 'RSA' | 'Ed25519';

/** A key Certflow accepts, or a description of the one it does not. */
export type SubjectKeyInfo =
  | { supported: true; keyAlgorithm: KeyAlgorithm; family: KeyFamily; parts: PublicKeyParts }
  | { supported: false; description: string };

const KEY_OIDS = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
} as const;

const OTHER_KEY_TYPES: Record<string, string> = {
  '1.2.840.113549.1.1.10': 'an RSASSA-PSS key',
  '1.2.840.10040.4.1': 'a DSA key',
  '1.3.101.110': 'an X25519 key',
  '1.3.101.111': 'an X448 key',
  '1.3.101.113': 'an Ed448 key',
};

interface Curve {
  keyAlgorithm: KeyAlgorithm;
  name: 'P-256' | 'P-384';
  coordinateLength: number;
}

const CURVES: Record<string, Curve> = {
  '1.2.840.10045.3.1.7': { keyAlgorithm: 'ECDSA-P256', name: 'P-256', coordinateLength: 32 },
  '1.3.132.0.34': { keyAlgorithm: 'ECDSA-P384', name: 'P-384', coordinateLength: 48 },
};

const OTHER_CURVES: Record<string, string> = {
  '1.3.132.0.10': 'secp256k1',
  '1.3.132.0.35': 'P-521',
  '1.2.840.10045.3.1.1': 'P-192',
  '1.3.132.0.33': 'P-224',
};

const curveOf = oidLookup(CURVES);

const RSA_KEY_ALGORITHMS: Record<number, KeyAlgorithm> = { 2048: 'RSA-2048', 3072: 'RSA-3072', 4096: 'RSA-4096' };

/**
 * Looks an OBJECT IDENTIFIER element up in a table keyed by dotted OIDs, comparing encodings:
 * decoding every OID of every CSR to text would cost more than the rest of the parse.
 */
export function oidLookup<T>(table: Record<string, T>): (element: DerElement) => T | undefined {
  const byEncoding = new Map(Object.entries(table).map(([dotted, value]) => [oid(dotted).toString('hex'), value]));
  return (element) => byEncoding.get(element.raw.toString('hex'));
}

export function isOid(element: DerElement, dotted: string): boolean {
  return element.raw.equals(oid(dotted));
}

/** Identifies the key in a SubjectPublicKeyInfo element; throws DerError if it is malformed. */
export function identifySubjectKey(spki: DerElement): SubjectKeyInfo {
  const [algorithm, subjectPublicKey, extra] = children(expectTag(spki, 0x30, 'SubjectPublicKeyInfo'));
  if (extra) throw new DerError('SubjectPublicKeyInfo has trailing fields');
  const [algorithmOid, parameters, extraParameters] = children(expectTag(algorithm, 0x30, 'SubjectPublicKeyInfo algorithm'));
  if (extraParameters) throw new DerError('the SubjectPublicKeyInfo algorithm has trailing fields');
  const keyOid = expectTag(algorithmOid, 0x06, 'key algorithm');
  const key = octetAlignedBits(subjectPublicKey, 'subjectPublicKey');

  if (isOid(keyOid, KEY_OIDS.rsaEncryption)) return identifyRsaKey(parameters, key);
  if (isOid(keyOid, KEY_OIDS.ecPublicKey)) return identifyEcKey(parameters, key);
  if (isOid(keyOid, KEY_OIDS.ed25519)) {
    if (parameters || key.length !== 32) return { supported: false, description: 'a malformed Ed25519 key' };
    return { supported: true, keyAlgorithm: 'Ed25519', family: 'Ed25519', parts: { kind: 'Ed25519', key } };
  }
  const dotted = decodeOid(keyOid);
  return { supported: false, description: OTHER_KEY_TYPES[dotted] ?? `a key of algorithm ${dotted}` };
}

/** A KeyObject for a supported key; throws (from node:crypto) if the key is invalid, e.g. a point off its curve. */
export function importSubjectKey(spkiDer: Buffer, info: Extract<SubjectKeyInfo, { supported: true }>): KeyObject {
  return importPublicKey(spkiDer, info.parts);
}

function identifyRsaKey(parameters: DerElement | undefined, key: Buffer): SubjectKeyInfo {
  // RFC 3279 §2.3.1: the parameters MUST be NULL.
  if (!parameters || parameters.tag !== 0x05 || parameters.content.length !== 0) throw new DerError('rsaEncryption parameters must be NULL');
  const [modulus, exponent, extra] = children(expectTag(parseDer(key), 0x30, 'RSAPublicKey'));
  const n = integerMagnitude(modulus, 'the RSA modulus');
  const e = integerMagnitude(exponent, 'the RSA public exponent');
  if (extra) throw new DerError('RSAPublicKey has trailing fields');
  const modulusBits = n.length * 8 - Math.clz32(n[0]!) + 24;
  const keyAlgorithm = RSA_KEY_ALGORITHMS[modulusBits];
  if (!keyAlgorithm) return { supported: false, description: `an RSA key of ${modulusBits} bits` };
  return { supported: true, keyAlgorithm, family: 'RSA', parts: { kind: 'RSA', modulus: n, exponent: e } };
}

function identifyEcKey(parameters: DerElement | undefined, point: Buffer): SubjectKeyInfo {
  if (!parameters || parameters.tag !== 0x06) return { supported: false, description: 'an EC key with explicit curve parameters (use a named curve)' };
  const curve = curveOf(parameters);
  if (!curve) {
    const curveOid = decodeOid(parameters);
    return { supported: false, description: `an EC key on curve ${OTHER_CURVES[curveOid] ?? curveOid}` };
  }
  if (point[0] === 0x02 || point[0] === 0x03) {
    return { supported: false, description: `a ${curve.name} key with a compressed point (Certflow needs the uncompressed form)` };
  }
  if (point[0] !== 0x04 || point.length !== 1 + 2 * curve.coordinateLength) throw new DerError(`malformed ${curve.name} public key point`);
  return { supported: true, keyAlgorithm: curve.keyAlgorithm, family: 'EC', parts: { kind: 'EC', curve: curve.name, point } };
}
