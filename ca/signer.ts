/**
 * The one narrow interface every CA key sits behind (cf. smallstep's cas/apiv1): sign bytes, expose
 * the public key and the algorithm. Backends: software (a key sealed at rest, held in memory as a
 * non-extractable node:crypto KeyObject) and PKCS#11 (the key never leaves the HSM).
 */
import { createPublicKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../core/types.js';

export interface Signer {
  /** Algorithm of the signing key; decides the signatureAlgorithm written into what it signs. */
  readonly keyAlgorithm: KeyAlgorithm;
  /** SubjectPublicKeyInfo (DER) of the signing key. */
  readonly publicKeySpki: Uint8Array;
  /**
   * Signs `data` (e.g. a DER TBSCertificate) and returns the signature value as X.509 carries it:
   * DER `ECDSA-Sig-Value` for ECDSA, the raw signature for RSA PKCS#1 v1.5 and Ed25519.
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Hash used with each key algorithm when it signs. */
export const SIGNING_HASH: Record<KeyAlgorithm, 'sha256' | 'sha384' | null> = {
  'ECDSA-P256': 'sha256',
  'ECDSA-P384': 'sha384',
  'RSA-2048': 'sha256',
  'RSA-3072': 'sha256',
  'RSA-4096': 'sha256',
  Ed25519: null,
};

/** A software signer over a node:crypto private KeyObject. */
export function softwareSigner(privateKey: KeyObject, keyAlgorithm: KeyAlgorithm): Signer {
  const publicKeySpki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  const hash = SIGNING_HASH[keyAlgorithm];
  const options = keyAlgorithm.startsWith('ECDSA') ? { key: privateKey, dsaEncoding: 'der' as const } : privateKey;
  return {
    keyAlgorithm,
    publicKeySpki,
    // node:crypto's Buffer is a Uint8Array already: no copy on the hot path.
    sign: async (data) => nodeSign(hash, data, options),
  };
}
