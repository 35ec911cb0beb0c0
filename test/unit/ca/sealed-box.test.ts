import { createDecipheriv, createPublicKey, diffieHellman, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeSealingPublicKey,
  encodeSealingPublicKey,
  generateSealingKeyPair,
  isSealedBox,
  openSealedBox,
  sealedBoxRecipient,
  sealingKeyId,
  sealingKeyPairFromSeed,
  sealToPublicKey,
} from '../../../ca/sealed-box.js';
import { flipFirstBit, withPart } from '../../support/sealed-parts.js';

const recipient = generateSealingKeyPair();
const other = generateSealingKeyPair();
const context = 'webhook-secret:crt_01/destinations/0';
const plaintext = Buffer.from('a webhook secret of 32 characters', 'utf8');
const sealed = sealToPublicKey(recipient.publicKey, plaintext, context);


describe('sealing key pairs', () => {
  it('ok/RFC 7748 §6.1 test vector: the seed is the X25519 private scalar', () => {
    const alice = sealingKeyPairFromSeed(Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex'));
    expect(alice.publicKey.raw.toString('hex')).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    const bob = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f', 'hex').toString('base64url') }, format: 'jwk' });
    expect(diffieHellman({ privateKey: alice.privateKey, publicKey: bob }).toString('hex')).toBe('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  });

  it('ok/the key id is 16 hex characters of SHA-256 over the raw public key', () => {
    expect(recipient.publicKey.id).toMatch(/^[0-9a-f]{16}$/);
    expect(recipient.publicKey.id).toBe(sealingKeyId(recipient.publicKey.raw));
    expect(other.publicKey.id).not.toBe(recipient.publicKey.id);
  });

  it('ok/the configuration form round-trips', () => {
    const text = encodeSealingPublicKey(recipient.publicKey);
    expect(text).toMatch(/^x25519:[A-Za-z0-9_-]{43}$/);
    expect(decodeSealingPublicKey(text)).toEqual(recipient.publicKey);
    expect(decodeSealingPublicKey(`  ${text}\n`)).toEqual(recipient.publicKey);
  });

  it.each([
    { name: 'fail/no prefix', text: recipient.publicKey.raw.toString('base64url') },
    { name: 'fail/another curve', text: `ed25519:${recipient.publicKey.raw.toString('base64url')}` },
    { name: 'fail/31 bytes', text: `x25519:${randomBytes(31).toString('base64url')}` },
    { name: 'fail/33 bytes', text: `x25519:${randomBytes(33).toString('base64url')}` },
    { name: 'fail/a KEK in hex', text: randomBytes(32).toString('hex') },
    { name: 'fail/empty', text: '' },
  ])('$name', ({ text }) => {
    expect(() => decodeSealingPublicKey(text)).toThrow(/x25519:<43 base64url characters>/);
  });
});

describe('sealToPublicKey / openSealedBox', () => {
  it.each([
    { name: 'ok/round trip', data: plaintext },
    { name: 'ok/round trip of nothing', data: Buffer.alloc(0) },
    { name: 'ok/round trip of 64 KiB', data: randomBytes(65_536) },
  ])('$name', ({ data }) => {
    expect(openSealedBox([recipient], sealToPublicKey(recipient.publicKey, data, context), context)).toEqual(data);
  });

  it('ok/format sb1.<recipientId>.<ephemeral>.<ciphertext>.<tag>', () => {
    const [format, id, ephemeral, ciphertext, tag, ...rest] = sealed.split('.');
    expect([format, id, rest]).toEqual(['sb1', recipient.publicKey.id, []]);
    expect(Buffer.from(ephemeral!, 'base64url')).toHaveLength(32);
    expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength(plaintext.length);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(isSealedBox(sealed)).toBe(true);
    expect(isSealedBox('v1.a.b.c')).toBe(false);
    expect(sealedBoxRecipient(sealed)).toBe(recipient.publicKey.id);
  });

  it('ok/the construction is the documented one (opened here from its description, with node:crypto alone)', () => {
    const [, id, ephemeral, ciphertext, tag] = sealed.split('.');
    const ephemeralRaw = Buffer.from(ephemeral!, 'base64url');
    const shared = diffieHellman({ privateKey: recipient.privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: ephemeral! }, format: 'jwk' }) });
    const okm = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, recipient.publicKey.raw]), 'certflow sealed-box v1 x25519 hkdf-sha256 aes-256-gcm', 44));
    const decipher = createDecipheriv('aes-256-gcm', okm.subarray(0, 32), okm.subarray(32), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(`sb1.${id}.${context}`, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    expect(Buffer.concat([decipher.update(Buffer.from(ciphertext!, 'base64url')), decipher.final()])).toEqual(plaintext);
  });

  it('ok/a fresh ephemeral key per message: two seals of the same secret differ entirely', () => {
    const again = sealToPublicKey(recipient.publicKey, plaintext, context);
    expect(again.split('.').slice(2)).not.toContain(sealed.split('.')[2]);
    expect(again.split('.')[3]).not.toBe(sealed.split('.')[3]);
  });

  it('ok/picks the held key the box names (a rotation holds two)', () => {
    expect(openSealedBox([other, recipient], sealed, context)).toEqual(plaintext);
  });

  it('ok/does not leak the plaintext', () => {
    expect(sealed).not.toContain(plaintext.toString('base64url'));
    expect(sealed).not.toContain(plaintext.toString('utf8'));
  });

  const forgedId = [sealed.split('.')[0], other.publicKey.id, ...sealed.split('.').slice(2)].join('.');
  const fail: { name: string; keys?: typeof recipient[]; sealed: string; context?: string; reason: RegExp }[] = [
    { name: 'fail/wrong key (not held)', keys: [other], sealed, reason: new RegExp(`sealed to key ${recipient.publicKey.id}, which is not held`) },
    { name: 'fail/no keys', keys: [], sealed, reason: /not held \(held: none\)/ },
    { name: 'fail/recipient id rewritten to a held key', keys: [other], sealed: forgedId, reason: /cannot open the sealed box/ },
    { name: 'fail/wrong context (another certificate)', sealed, context: 'webhook-secret:crt_02/destinations/0', reason: /cannot open the sealed box/ },
    { name: 'fail/wrong context (another position)', sealed, context: 'webhook-secret:crt_01/destinations/1', reason: /cannot open the sealed box/ },
    { name: 'fail/wrong context (another purpose)', sealed, context: 'crt_01/destinations/0', reason: /cannot open the sealed box/ },
    { name: 'fail/tampered ephemeral key', sealed: withPart(sealed, 2, flipFirstBit), reason: /tampered/ },
    { name: 'fail/low-order ephemeral key (all zero)', sealed: withPart(sealed, 2, () => Buffer.alloc(32)), reason: /tampered/ },
    { name: 'fail/short ephemeral key', sealed: withPart(sealed, 2, (part) => part.subarray(0, 31)), reason: /tampered/ },
    { name: 'fail/tampered ciphertext', sealed: withPart(sealed, 3, flipFirstBit), reason: /cannot open/ },
    { name: 'fail/truncated ciphertext', sealed: withPart(sealed, 3, (part) => part.subarray(1)), reason: /cannot open/ },
    { name: 'fail/tampered tag', sealed: withPart(sealed, 4, flipFirstBit), reason: /cannot open/ },
    { name: 'fail/tag truncated to 12 bytes', sealed: withPart(sealed, 4, (part) => part.subarray(0, 12)), reason: /tampered/ },
    { name: 'fail/unknown format', sealed: sealed.replace(/^sb1\./, 'sb2.'), reason: /unknown format/ },
    { name: 'fail/missing tag', sealed: sealed.split('.').slice(0, 4).join('.'), reason: /unknown format/ },
    { name: 'fail/legacy symmetric blob', sealed: 'v1.aaaa.bbbb.cccc', reason: /unknown format/ },
  ];
  it.each(fail)('$name', (tc) => {
    expect(() => openSealedBox(tc.keys ?? [recipient], tc.sealed, tc.context ?? context)).toThrow(tc.reason);
  });
});
