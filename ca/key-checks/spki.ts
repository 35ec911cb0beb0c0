/**
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) read strictly: the algorithm, its parameters and the
 * public key bytes, plus the RSAPublicKey inside an rsaEncryption key (RFC 8017 §A.1.1).
 */
import { TAG } from '../der-tags.js';
import { children, decodeOid, decodePositiveInteger, DerError, type DerElement, expectTag, integerMagnitude, octetAlignedBits, readOne } from '../der-reader.js';

export const KEY_ALGORITHM_OIDS = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
} as const;

/** Names of algorithms Certflow refuses, so a refusal can say what was sent. */
export const UNSUPPORTED_ALGORITHM_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.10': 'RSASSA-PSS-restricted RSA',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.10046.2.1': 'Diffie-Hellman',
  '1.3.132.1.12': 'ECDH-only EC',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.113': 'Ed448',
  '1.2.156.10197.1.301': 'SM2',
  '2.16.840.1.101.3.4.3.17': 'ML-DSA-44',
  '2.16.840.1.101.3.4.3.18': 'ML-DSA-65',
  '2.16.840.1.101.3.4.3.19': 'ML-DSA-87',
};

export type AlgorithmParameters = { kind: 'absent' } | { kind: 'null' } | { kind: 'oid'; oid: string } | { kind: 'other'; tag: number };

export interface SubjectPublicKeyInfo {
  algorithm: string;
  parameters: AlgorithmParameters;
  publicKey: Uint8Array;
}

export function parseSpki(der: Uint8Array): SubjectPublicKeyInfo {
  const [algorithmIdentifier, subjectPublicKey, ...extra] = children(readOne(der, TAG.sequence, 'SubjectPublicKeyInfo'));
  if (extra.length > 0) throw new DerError('SubjectPublicKeyInfo has more than two elements');
  const [algorithm, parameters, ...extraParameters] = children(expectTag(algorithmIdentifier, TAG.sequence, 'the AlgorithmIdentifier'));
  if (extraParameters.length > 0) throw new DerError('the AlgorithmIdentifier has more than two elements');
  return {
    algorithm: decodeOid(algorithm, 'the algorithm OID'),
    parameters: decodeParameters(parameters),
    publicKey: octetAlignedBits(subjectPublicKey, 'the subjectPublicKey'),
  };
}

function decodeParameters(tlv: DerElement | undefined): AlgorithmParameters {
  if (!tlv) return { kind: 'absent' };
  if (tlv.tag === TAG.null) {
    if (tlv.content.length !== 0) throw new DerError('a NULL has content');
    return { kind: 'null' };
  }
  if (tlv.tag === TAG.oid) return { kind: 'oid', oid: decodeOid(tlv, 'the algorithm parameters') };
  return { kind: 'other', tag: tlv.tag };
}

export interface RsaPublicKey {
  modulus: bigint;
  exponent: bigint;
  /** The INTEGERs' magnitudes (no sign octet), as a JWK carries them. */
  modulusBytes: Buffer;
  exponentBytes: Buffer;
}

export function parseRsaPublicKey(bytes: Uint8Array): RsaPublicKey {
  const [modulus, exponent, ...extra] = children(readOne(bytes, TAG.sequence, 'RSAPublicKey'));
  if (!modulus || !exponent || extra.length > 0) throw new DerError('RSAPublicKey must be a SEQUENCE of exactly two INTEGERs');
  return {
    modulus: decodePositiveInteger(modulus, 'the RSA modulus'),
    exponent: decodePositiveInteger(exponent, 'the RSA public exponent'),
    modulusBytes: integerMagnitude(modulus),
    exponentBytes: integerMagnitude(exponent),
  };
}
