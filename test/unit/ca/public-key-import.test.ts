/**
 * The cheaper import path (ca/public-key-import.ts) gives exactly the key a DER SPKI import gives,
 * for every key type the platform accepts, and refuses what OpenSSL refuses.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identifySubjectKey } from '../../../ca/csr-key.js';
import { parseDer } from '../../../ca/der-reader.js';
import { importPublicKey, publicKeyJwk, type PublicKeyParts } from '../../../ca/public-key-import.js';
import { ecPointOf, ecSpki, OIDS, P256_P, bigIntToBytes, spkiOf } from './weak-keys.js';

/** The parts readCsr finds in an SPKI (csr-key.ts), which is what the pipeline imports from. */
function partsOf(spki: Buffer): PublicKeyParts {
  const info = identifySubjectKey(parseDer(spki));
  if (!info.supported) throw new Error(`unsupported test key: ${info.description}`);
  return info.parts;
}

const KEYS = [
  { name: 'ECDSA P-256', via: 'jwk', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), hash: 'sha256' },
  { name: 'ECDSA P-384', via: 'der', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }), hash: 'sha384' },
  { name: 'RSA-2048', via: 'jwk', pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }), hash: 'sha256' },
  // One key only: generating an RSA-3072 key takes seconds on a busy machine.
  { name: 'RSA-3072', via: 'jwk', pair: () => generateKeyPairSync('rsa', { modulusLength: 3072 }), hash: 'sha256', rounds: 1 },
  { name: 'Ed25519', via: 'jwk', pair: () => generateKeyPairSync('ed25519'), hash: null },
] as const;

describe('importPublicKey', () => {
  it.each(KEYS)('ok/$name: the imported key is the key of the SPKI, byte for byte (imported via $via)', (key) => {
    const { via, pair, hash } = key;
    for (let round = 0; round < ('rounds' in key ? key.rounds : 3); round++) {
      const { publicKey, privateKey } = pair();
      const spki = spkiOf(publicKey);
      const parts = partsOf(spki);
      expect(publicKeyJwk(parts) === null ? 'der' : 'jwk').toBe(via);

      const imported = importPublicKey(spki, parts);
      expect(imported.type).toBe('public');
      expect(imported.export({ type: 'spki', format: 'der' })).toEqual(spki);
      expect(imported.equals(createPublicKey({ key: spki, format: 'der', type: 'spki' }))).toBe(true);
      expect(imported.asymmetricKeyDetails).toEqual(publicKey.asymmetricKeyDetails);
      // And it verifies what the private key signed, and nothing else.
      const data = randomBytes(64);
      const signature = sign(hash, data, privateKey);
      expect(verify(hash, data, imported, signature)).toBe(true);
      expect(verify(hash, randomBytes(64), imported, signature)).toBe(false);
    }
  });

  it('ok/an RSA modulus whose top byte has its high bit set keeps its magnitude (no sign octet in the JWK)', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const parts = partsOf(spkiOf(publicKey));
    expect(parts.kind === 'RSA' && parts.modulus.length).toBe(256);
    expect(publicKeyJwk(parts)).toEqual(publicKey.export({ format: 'jwk' }));
  });

  it('fail/a P-256 point off the curve is refused by the JWK import, as by the DER import', () => {
    const point = ecPointOf(spkiOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), 32);
    const offCurve = Buffer.from(point);
    offCurve[64] = offCurve[64]! ^ 0x01;
    const spki = ecSpki(OIDS.p256, offCurve);
    expect(() => createPublicKey({ key: spki, format: 'der', type: 'spki' })).toThrow();
    expect(() => importPublicKey(spki, { kind: 'EC', curve: 'P-256', point: offCurve })).toThrow();
  });

  it('fail/a P-256 coordinate outside the field is refused', () => {
    const point = Buffer.concat([Buffer.from([0x04]), bigIntToBytes(P256_P, 32), bigIntToBytes(1n, 32)]);
    expect(() => importPublicKey(ecSpki(OIDS.p256, point), { kind: 'EC', curve: 'P-256', point })).toThrow();
  });
});
