/**
 * ACME anti-replay nonces (RFC 8555 §6.5). A nonce is its expiry, 96 random bits and a MAC over both under
 * the platform's nonce key (api/acme/eab.ts), so handing one out writes nothing: most are never used
 * (acme-client, for one, asks newNonce before every request and ignores the Replay-Nonce of each answer).
 * Spending one inserts it into acme_nonces: the primary key makes it valid exactly once on every API
 * replica, and the insert commits before the request it guards does anything. Spent nonces are purged
 * once they would have expired anyway; an expired or forged one is refused without touching the table.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { lt } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { acmeNonces } from './schema.js';

export const NONCE_LIFETIME_SECONDS = 3_600;
/** One purge per this many nonces spent (per replica), enough to keep the table at about an hour's worth. */
const PURGE_EVERY = 500;
let spentSincePurge = 0;

const EXPIRY_BYTES = 4;
const RANDOM_BYTES = 12;
const MAC_BYTES = 16;
/** 32 bytes in base64url without padding. */
const NONCE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update('acme-nonce\0').update(body).digest().subarray(0, MAC_BYTES);
}

export function issueNonce(key: Buffer, now: Date): string {
  const body = Buffer.alloc(EXPIRY_BYTES + RANDOM_BYTES);
  body.writeUInt32BE(Math.floor(now.getTime() / 1000) + NONCE_LIFETIME_SECONDS, 0);
  randomBytes(RANDOM_BYTES).copy(body, EXPIRY_BYTES);
  return Buffer.concat([body, mac(key, body)]).toString('base64url');
}

/** When a nonce made with `key` expires; null for anything else (malformed, another key, tampered). */
export function nonceExpiry(key: Buffer, nonce: string): Date | null {
  if (!NONCE_PATTERN.test(nonce)) return null;
  const bytes = Buffer.from(nonce, 'base64url');
  // The last character carries 2 unused bits: only the canonical spelling counts, or one nonce could be spent 4 times.
  if (bytes.toString('base64url') !== nonce) return null;
  const body = bytes.subarray(0, EXPIRY_BYTES + RANDOM_BYTES);
  if (!timingSafeEqual(bytes.subarray(EXPIRY_BYTES + RANDOM_BYTES), mac(key, body))) return null;
  return new Date(body.readUInt32BE(0) * 1000);
}

/** Spends a nonce: true exactly once for a nonce made with `key` that has not expired. */
export async function consumeNonce(db: Queryable, key: Buffer, nonce: string, now: Date): Promise<boolean> {
  const expiresAt = nonceExpiry(key, nonce);
  if (!expiresAt || expiresAt <= now) return false;
  const spent = await db.insert(acmeNonces).values({ nonce, expiresAt }).onConflictDoNothing().returning({ nonce: acmeNonces.nonce });
  if (spent.length === 1 && ++spentSincePurge >= PURGE_EVERY) {
    spentSincePurge = 0;
    // The nonce is spent whatever happens to the purge; the next one tries again.
    await db.delete(acmeNonces).where(lt(acmeNonces.expiresAt, now)).catch(() => undefined);
  }
  return spent.length === 1;
}
