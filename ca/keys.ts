/** Key generation, import and algorithm mapping for every supported key algorithm (WebCrypto). */
import { webcrypto } from 'node:crypto';
import type { KeyAlgorithm } from '../core/types.js';

type GenParams = RsaHashedKeyGenParams | EcKeyGenParams | Algorithm;
type ImportParams = RsaHashedImportParams | EcKeyImportParams | Algorithm;

interface AlgorithmSpec {
  generate: GenParams;
  import: ImportParams;
  /** Algorithm used when this key signs (certificates, CRLs). */
  signing: Algorithm & { hash?: string };
}

const RSA_EXPONENT = new Uint8Array([1, 0, 1]);
const rsa = (modulusLength: number): AlgorithmSpec => ({
  generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: RSA_EXPONENT, hash: 'SHA-256' } as RsaHashedKeyGenParams,
  import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as RsaHashedImportParams,
  signing: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
});
const ec = (namedCurve: 'P-256' | 'P-384', hash: string): AlgorithmSpec => ({
  generate: { name: 'ECDSA', namedCurve } as EcKeyGenParams,
  import: { name: 'ECDSA', namedCurve } as EcKeyImportParams,
  signing: { name: 'ECDSA', hash },
});

export const ALGORITHM_SPECS: Record<KeyAlgorithm, AlgorithmSpec> = {
  'ECDSA-P256': ec('P-256', 'SHA-256'),
  'ECDSA-P384': ec('P-384', 'SHA-384'),
  'RSA-2048': rsa(2048),
  'RSA-3072': rsa(3072),
  'RSA-4096': rsa(4096),
  Ed25519: { generate: { name: 'Ed25519' }, import: { name: 'Ed25519' }, signing: { name: 'Ed25519' } },
};

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM_SPECS[algorithm].generate, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function exportPrivateKeyPkcs8(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
}

export async function importPrivateKeyPkcs8(pkcs8: Uint8Array, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', pkcs8, ALGORITHM_SPECS[algorithm].import, false, ['sign']);
}

export async function importPublicKeySpki(spki: Uint8Array, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('spki', spki, ALGORITHM_SPECS[algorithm].import, true, ['verify']);
}

export function privateKeyPem(pkcs8: Uint8Array): string {
  const body = Buffer.from(pkcs8).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${body}-----END PRIVATE KEY-----\n`;
}

/** Identifies the algorithm of a public key from its WebCrypto description. */
export function keyAlgorithmOf(key: CryptoKey): KeyAlgorithm | null {
  const alg = key.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  if (alg.name === 'ECDSA' || alg.name === 'ECDH') {
    if (alg.namedCurve === 'P-256') return 'ECDSA-P256';
    if (alg.namedCurve === 'P-384') return 'ECDSA-P384';
    return null;
  }
  if (alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS') {
    const bits = alg.modulusLength;
    if (bits === 2048) return 'RSA-2048';
    if (bits === 3072) return 'RSA-3072';
    if (bits === 4096) return 'RSA-4096';
    return null;
  }
  if (alg.name === 'Ed25519') return 'Ed25519';
  return null;
}
