import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kekId, kekRing, openPrivateKey, sealedKekId, sealPrivateKey } from '../../../ca/key-encryption.js';
import { flipFirstBit, withPart } from '../../support/sealed-parts.js';

const kek = randomBytes(32);
const otherKek = randomBytes(32);
const plaintext = randomBytes(138); // about the size of a P-256 PKCS#8 key
const recordId = 'key_01HZX3Q8Y7T5';
const sealed = sealPrivateKey(kek, plaintext, recordId);

/** The format written before KEK ids (`v1.<iv>.<ciphertext>.<tag>`), as the old code wrote it. */
function sealV1(key: Buffer, data: Uint8Array, id: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(id, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  return ['v1', iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}


describe('kekId', () => {
  it('ok/16 hex characters, stable for a KEK, different for another', () => {
    expect(kekId(kek)).toMatch(/^[0-9a-f]{16}$/);
    expect(kekId(Buffer.from(kek))).toBe(kekId(kek));
    expect(kekId(otherKek)).not.toBe(kekId(kek));
  });

  it('ok/is not a prefix of the KEK', () => {
    expect(kek.toString('hex')).not.toContain(kekId(kek));
  });

  it('ok/known value (the format is stored: it must never change)', () => {
    expect(kekId(Buffer.alloc(32, 0xa3))).toBe(kekId(Buffer.from('a3'.repeat(32), 'hex')));
    expect(kekId(Buffer.alloc(32, 0))).toBe('0f72f4bfa520a5b7') // HKDF-SHA256(ikm = 32 zero bytes, no salt, "certflow kek id v1"), computed independently;
  });
});

describe('sealPrivateKey', () => {
  it('ok/format v2.<kekId>.<iv>.<ciphertext>.<tag> in base64url', () => {
    const [version, id, iv, ciphertext, tag, ...rest] = sealed.split('.');
    expect(version).toBe('v2');
    expect(id).toBe(kekId(kek));
    expect(rest).toEqual([]);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength(plaintext.length);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(sealedKekId(sealed)).toBe(kekId(kek));
  });

  it('ok/a ring seals under its current KEK', () => {
    expect(sealedKekId(sealPrivateKey(kekRing(otherKek, [kek]), plaintext, recordId))).toBe(kekId(otherKek));
  });

  it('ok/never repeats an IV (two seals of the same key differ)', () => {
    expect(sealPrivateKey(kek, plaintext, recordId)).not.toBe(sealPrivateKey(kek, plaintext, recordId));
  });

  it('ok/does not leak the plaintext', () => {
    expect(sealed).not.toContain(plaintext.toString('base64url'));
  });

  const badKeks: { name: string; kek: Buffer }[] = [
    { name: 'fail/empty KEK', kek: Buffer.alloc(0) },
    { name: 'fail/16-byte KEK', kek: randomBytes(16) },
    { name: 'fail/31-byte KEK', kek: randomBytes(31) },
    { name: 'fail/33-byte KEK', kek: randomBytes(33) },
    { name: 'fail/64-byte KEK', kek: randomBytes(64) },
  ];
  it.each(badKeks)('$name', ({ kek: bad }) => {
    expect(() => sealPrivateKey(bad, plaintext, recordId)).toThrow(`the key-encryption key must be 32 bytes, got ${bad.length}`);
    expect(() => openPrivateKey(bad, sealed, recordId)).toThrow(/must be 32 bytes/);
    expect(() => kekRing(kek, [bad])).toThrow(/must be 32 bytes/);
  });
});

describe('openPrivateKey', () => {
  const ok: { name: string; data: Uint8Array; id: string }[] = [
    { name: 'ok/round trip', data: plaintext, id: recordId },
    { name: 'ok/round trip of one byte', data: Uint8Array.of(42), id: recordId },
    { name: 'ok/round trip of a 4 KiB key', data: randomBytes(4096), id: recordId },
    { name: 'ok/round trip, non-ASCII record id', data: plaintext, id: 'clé-ü-🔑' },
    { name: 'ok/round trip with an empty record id', data: plaintext, id: '' },
  ];
  it.each(ok)('$name', ({ data, id }) => {
    expect(openPrivateKey(kek, sealPrivateKey(kek, data, id), id)).toEqual(Buffer.from(data));
  });

  it('ok/during a rotation a ring opens blobs of the current and of the previous KEK', () => {
    const ring = kekRing(otherKek, [kek]);
    expect(openPrivateKey(ring, sealed, recordId)).toEqual(plaintext);
    expect(openPrivateKey(ring, sealPrivateKey(ring, plaintext, recordId), recordId)).toEqual(plaintext);
  });

  it('ok/legacy v1 blobs (no KEK id) open with whichever KEK of the ring sealed them', () => {
    expect(sealedKekId(sealV1(kek, plaintext, recordId))).toBeNull();
    expect(openPrivateKey(kek, sealV1(kek, plaintext, recordId), recordId)).toEqual(plaintext);
    expect(openPrivateKey(kekRing(otherKek, [kek]), sealV1(kek, plaintext, recordId), recordId)).toEqual(plaintext);
  });

  const v1 = sealV1(kek, plaintext, recordId);
  const fail: { name: string; kek?: Buffer | ReturnType<typeof kekRing>; sealed: string; id?: string; reason: RegExp }[] = [
    { name: 'fail/wrong KEK (names the KEK id it needs)', kek: otherKek, sealed, reason: new RegExp(`key_01HZX3Q8Y7T5: it is sealed under KEK ${kekId(kek)}, which is not configured`) },
    { name: 'fail/only the new KEK after a rotation left a blob behind', kek: kekRing(otherKek), sealed, reason: /not configured/ },
    { name: 'fail/wrong KEK, legacy v1', kek: otherKek, sealed: v1, reason: /cannot decrypt the private key of key_01HZX3Q8Y7T5/ },
    { name: 'fail/wrong record id (AAD)', sealed, id: 'key_other', reason: /cannot decrypt the private key of key_other/ },
    { name: 'fail/wrong record id (AAD), legacy v1', sealed: v1, id: 'key_other', reason: /cannot decrypt the private key of key_other/ },
    { name: 'fail/record id differing in case', sealed, id: recordId.toLowerCase(), reason: /cannot decrypt/ },
    { name: 'fail/KEK id swapped for another configured KEK', kek: kekRing(kek, [otherKek]), sealed: sealed.replace(kekId(kek), kekId(otherKek)), reason: /tampered/ },
    { name: 'fail/tampered ciphertext', sealed: withPart(sealed, 3, flipFirstBit), reason: /cannot decrypt/ },
    { name: 'fail/tampered IV', sealed: withPart(sealed, 2, flipFirstBit), reason: /cannot decrypt/ },
    { name: 'fail/tampered tag', sealed: withPart(sealed, 4, flipFirstBit), reason: /cannot decrypt/ },
    { name: 'fail/tampered ciphertext, legacy v1', sealed: withPart(v1, 2, flipFirstBit), reason: /cannot decrypt/ },
    { name: 'fail/truncated ciphertext', sealed: withPart(sealed, 3, (part) => part.subarray(0, part.length - 1)), reason: /cannot decrypt/ },
    // GCM accepts tags of 4..16 bytes unless the length is pinned: a 4-byte tag must not be enough.
    { name: 'fail/tag truncated to 4 bytes', sealed: withPart(sealed, 4, (part) => part.subarray(0, 4)), reason: /cannot decrypt|unknown format|tag/ },
    { name: 'fail/tag truncated to 12 bytes', sealed: withPart(sealed, 4, (part) => part.subarray(0, 12)), reason: /cannot decrypt|unknown format|tag/ },
    { name: 'fail/unknown version', sealed: sealed.replace(/^v2\./, 'v3.'), reason: /unknown format/ },
    { name: 'fail/v2 without a KEK id', sealed: ['v2', ...sealed.split('.').slice(2)].join('.'), reason: /unknown format/ },
    { name: 'fail/missing tag', sealed: sealed.split('.').slice(0, 4).join('.'), reason: /unknown format/ },
    { name: 'fail/empty string', sealed: '', reason: /unknown format/ },
    { name: 'fail/not a sealed key', sealed: '-----BEGIN PRIVATE KEY-----', reason: /unknown format/ },
  ];
  it.each(fail)('$name', (tc) => {
    expect(() => openPrivateKey(tc.kek ?? kek, tc.sealed, tc.id ?? recordId)).toThrow(tc.reason);
  });
});
