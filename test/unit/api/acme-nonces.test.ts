import { describe, expect, it } from 'vitest';
import { NONCE_LIFETIME_SECONDS, NonceMinter } from '../../../api/acme/nonces.js';

const minter = new NonceMinter(Buffer.alloc(32, 1));
const other = new NonceMinter(Buffer.alloc(32, 2));
const NOW = new Date('2026-01-01T00:00:00Z');

describe('ACME nonces', () => {
  it('expire an hour on', () => {
    const nonce = minter.mint(NOW);
    expect(minter.expiryOf(nonce, new Date(NOW.getTime() + NONCE_LIFETIME_SECONDS * 1000 - 1000))).not.toBeNull();
    expect(minter.expiryOf(nonce, new Date(NOW.getTime() + NONCE_LIFETIME_SECONDS * 1000))).toBeNull();
  });

  it('carry their expiry, an hour on, under the key they were made with', () => {
    const nonce = minter.mint(NOW);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(minter.expiryOf(nonce, NOW)).toEqual(new Date(NOW.getTime() + NONCE_LIFETIME_SECONDS * 1000));
  });

  it('are all different', () => {
    const nonces = new Set(Array.from({ length: 1000 }, () => minter.mint(NOW)));
    expect(nonces.size).toBe(1000);
  });

  it('are refused under another key, tampered with, or malformed', () => {
    const nonce = minter.mint(NOW);
    expect(other.expiryOf(nonce, NOW)).toBeNull();
    const bytes = Buffer.from(nonce, 'base64url');
    for (const index of [0, 3, 4, 15, 16, 31]) {
      const tampered = Buffer.from(bytes);
      tampered[index]! ^= 1;
      expect(minter.expiryOf(tampered.toString('base64url'), NOW)).toBeNull();
    }
    // A later expiry cannot be written in: the MAC covers it.
    const extended = Buffer.from(bytes);
    extended.writeUInt32BE(extended.readUInt32BE(0) + 86_400, 0);
    expect(minter.expiryOf(extended.toString('base64url'), NOW)).toBeNull();
    // Another spelling of the same bytes (the last character's unused bits) is not the same nonce.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(nonce.at(-1)!);
    for (let bits = 1; bits < 4; bits++) expect(minter.expiryOf(`${nonce.slice(0, -1)}${alphabet[last ^ bits]}`, NOW)).toBeNull();
    for (const garbage of ['', 'abc', `${nonce}A`, nonce.slice(1), `${nonce.slice(0, 42)}=`, 'x'.repeat(43)]) expect(minter.expiryOf(garbage, NOW)).toBeNull();
  });
});
