/**
 * ACME anti-replay nonces (RFC 8555 §6.5). A nonce is MACed, not stored: `expiry (4 bytes) ‖ random
 * (12) ‖ HMAC(key, both)[0..16]`, so handing one out writes nothing (an unauthenticated client
 * asking for millions costs no rows), and any API replica with the same ACME secret accepts it.
 * Spending one records it in Postgres (db/acme-nonces.ts) until it expires: a replay finds it there.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_LIFETIME_SECONDS = 3_600;
const RANDOM_BYTES = 12;
const MAC_BYTES = 16;

export class NonceMinter {
  constructor(private readonly key: Buffer) {}

  mint(now: Date): string {
    const body = Buffer.alloc(4 + RANDOM_BYTES);
    body.writeUInt32BE(Math.floor(now.getTime() / 1000) + NONCE_LIFETIME_SECONDS, 0);
    randomBytes(RANDOM_BYTES).copy(body, 4);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /** When a nonce this platform minted expires, or null for one it did not mint, or one already expired. */
  expiryOf(nonce: string, now: Date): Date | null {
    if (!/^[A-Za-z0-9_-]{43}$/.test(nonce)) return null;
    const bytes = Buffer.from(nonce, 'base64url');
    // Only the canonical spelling: another one of the same bytes (the last character's unused bits) would be spent as a new nonce.
    if (bytes.length !== 4 + RANDOM_BYTES + MAC_BYTES || bytes.toString('base64url') !== nonce) return null;
    const body = bytes.subarray(0, 4 + RANDOM_BYTES);
    if (!timingSafeEqual(bytes.subarray(4 + RANDOM_BYTES), this.mac(body))) return null;
    const expiresAt = new Date(body.readUInt32BE(0) * 1000);
    return expiresAt.getTime() > now.getTime() ? expiresAt : null;
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, MAC_BYTES);
  }
}
