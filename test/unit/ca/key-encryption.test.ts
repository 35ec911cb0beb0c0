import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openPrivateKey, sealPrivateKey } from '../../../ca/key-encryption.js';

const kek = randomBytes(32);
const otherKek = randomBytes(32);
const plaintext = randomBytes(138); // about the size of a P-256 PKCS#8 key
const recordId = 'key_01HZX3Q8Y7T5';
const sealed = sealPrivateKey(kek, plaintext, recordId);

/** Replaces one dot-separated part of the sealed string. */
function withPart(index: number, change: (part: Buffer) => Buffer): string {
  const parts = sealed.split('.');
  parts[index] = change(Buffer.from(parts[index]!, 'base64url')).toString('base64url');
  return parts.join('.');
}
const flipFirstBit = (part: Buffer): Buffer => {
  const copy = Buffer.from(part);
  copy[0]! ^= 0x01;
  return copy;
};

describe('sealPrivateKey', () => {
  it('ok/format v1.<iv>.<ciphertext>.<tag> in base64url', () => {
    const [version, iv, ciphertext, tag, ...rest] = sealed.split('.');
    expect(version).toBe('v1');
    expect(rest).toEqual([]);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength(plaintext.length);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
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

  const fail: { name: string; kek?: Buffer; sealed: string; id?: string; reason: RegExp }[] = [
    { name: 'fail/wrong KEK', kek: otherKek, sealed, reason: /cannot decrypt the private key of key_01HZX3Q8Y7T5/ },
    { name: 'fail/wrong record id (AAD)', sealed, id: 'key_other', reason: /cannot decrypt the private key of key_other/ },
    { name: 'fail/record id differing in case', sealed, id: recordId.toLowerCase(), reason: /cannot decrypt/ },
    { name: 'fail/tampered ciphertext', sealed: withPart(2, flipFirstBit), reason: /cannot decrypt/ },
    { name: 'fail/tampered IV', sealed: withPart(1, flipFirstBit), reason: /cannot decrypt/ },
    { name: 'fail/tampered tag', sealed: withPart(3, flipFirstBit), reason: /cannot decrypt/ },
    { name: 'fail/truncated ciphertext', sealed: withPart(2, (part) => part.subarray(0, part.length - 1)), reason: /cannot decrypt/ },
    // GCM accepts tags of 4..16 bytes unless the length is pinned: a 4-byte tag must not be enough.
    { name: 'fail/tag truncated to 4 bytes', sealed: withPart(3, (part) => part.subarray(0, 4)), reason: /cannot decrypt|unknown format|tag/ },
    { name: 'fail/tag truncated to 12 bytes', sealed: withPart(3, (part) => part.subarray(0, 12)), reason: /cannot decrypt|unknown format|tag/ },
    { name: 'fail/unknown version', sealed: sealed.replace(/^v1\./, 'v2.'), reason: /unknown format/ },
    { name: 'fail/missing tag', sealed: sealed.split('.').slice(0, 3).join('.'), reason: /unknown format/ },
    { name: 'fail/empty string', sealed: '', reason: /unknown format/ },
    { name: 'fail/not a sealed key', sealed: '-----BEGIN PRIVATE KEY-----', reason: /unknown format/ },
  ];
  it.each(fail)('$name', (tc) => {
    expect(() => openPrivateKey(tc.kek ?? kek, tc.sealed, tc.id ?? recordId)).toThrow(tc.reason);
  });
});
