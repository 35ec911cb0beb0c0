import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../../../core/types.js';
import {
  ALGORITHM_SPECS,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  importPrivateKeyPkcs8,
  importPublicKeySpki,
  keyAlgorithmOf,
  privateKeyPem,
} from '../../../ca/keys.js';

/** What node:crypto reports for a key of each algorithm. */
const NODE_DETAILS: Record<KeyAlgorithm, { type: string; detail: Record<string, unknown> }> = {
  'ECDSA-P256': { type: 'ec', detail: { namedCurve: 'prime256v1' } },
  'ECDSA-P384': { type: 'ec', detail: { namedCurve: 'secp384r1' } },
  'RSA-2048': { type: 'rsa', detail: { modulusLength: 2048, publicExponent: 65537n } },
  'RSA-3072': { type: 'rsa', detail: { modulusLength: 3072, publicExponent: 65537n } },
  'RSA-4096': { type: 'rsa', detail: { modulusLength: 4096, publicExponent: 65537n } },
  Ed25519: { type: 'ed25519', detail: {} },
};

describe('generateKeyPair / PKCS#8 / SPKI / PEM', () => {
  it.each(KEY_ALGORITHMS.map((algorithm) => ({ name: `ok/${algorithm}`, algorithm })))('$name', async ({ algorithm }) => {
    const keys = await generateKeyPair(algorithm);
    expect(keyAlgorithmOf(keys.publicKey)).toBe(algorithm);
    expect(keyAlgorithmOf(keys.privateKey)).toBe(algorithm);

    const pkcs8 = await exportPrivateKeyPkcs8(keys.privateKey);
    const pem = privateKeyPem(pkcs8);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n(?:[A-Za-z0-9+/=]{1,64}\n)+-----END PRIVATE KEY-----\n$/);
    const nodeKey = createPrivateKey(pem);
    expect(nodeKey.asymmetricKeyType).toBe(NODE_DETAILS[algorithm].type);
    expect(nodeKey.asymmetricKeyDetails).toMatchObject(NODE_DETAILS[algorithm].detail);

    // the imported private key signs, and the imported public key verifies that signature
    const signingKey = await importPrivateKeyPkcs8(pkcs8, algorithm);
    expect(signingKey.extractable).toBe(false);
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
    const verifyKey = await importPublicKeySpki(spki, algorithm);
    const params = ALGORITHM_SPECS[algorithm].signing;
    const data = new TextEncoder().encode('certflow');
    const signature = await crypto.subtle.sign(params, signingKey, data);
    expect(await crypto.subtle.verify(params, verifyKey, signature, data)).toBe(true);
    expect(createPublicKey(nodeKey).export({ type: 'spki', format: 'der' })).toEqual(Buffer.from(spki));
  });
});

describe('keyAlgorithmOf', () => {
  const fake = (algorithm: Record<string, unknown>): CryptoKey => ({ algorithm }) as unknown as CryptoKey;
  const cases: { name: string; algorithm: Record<string, unknown>; want: KeyAlgorithm | null }[] = [
    { name: 'ok/ECDH P-256 counts as ECDSA-P256', algorithm: { name: 'ECDH', namedCurve: 'P-256' }, want: 'ECDSA-P256' },
    { name: 'ok/RSA-PSS 3072', algorithm: { name: 'RSA-PSS', modulusLength: 3072 }, want: 'RSA-3072' },
    { name: 'fail/P-521', algorithm: { name: 'ECDSA', namedCurve: 'P-521' }, want: null },
    { name: 'fail/RSA-1024', algorithm: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024 }, want: null },
    { name: 'fail/RSA-8192', algorithm: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 8192 }, want: null },
    { name: 'fail/RSA-OAEP', algorithm: { name: 'RSA-OAEP', modulusLength: 2048 }, want: null },
    { name: 'fail/Ed448', algorithm: { name: 'Ed448' }, want: null },
    { name: 'fail/AES', algorithm: { name: 'AES-GCM', length: 256 }, want: null },
  ];
  it.each(cases)('$name', ({ algorithm, want }) => {
    expect(keyAlgorithmOf(fake(algorithm))).toBe(want);
  });
});
