/**
 * ACME anti-replay nonces (RFC 8555 §6.5) in Postgres, so that a nonce from one API replica is
 * accepted by any other, exactly once. A nonce is 128 random bits; expired ones are purged as new
 * ones are handed out.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { acmeNonces } from './schema.js';

export const NONCE_LIFETIME_SECONDS = 3_600;
/** One purge per this many nonces issued (per replica), enough to keep the table at about an hour's worth. */
const PURGE_EVERY = 500;
let issuedSincePurge = 0;

export async function issueNonce(db: Queryable, now: Date): Promise<string> {
  const nonce = randomBytes(16).toString('base64url');
  await db.insert(acmeNonces).values({ nonce, expiresAt: new Date(now.getTime() + NONCE_LIFETIME_SECONDS * 1000) });
  if (++issuedSincePurge >= PURGE_EVERY) {
    issuedSincePurge = 0;
    await db.delete(acmeNonces).where(lt(acmeNonces.expiresAt, now));
  }
  return nonce;
}

/** Spends a nonce: true exactly once for a nonce this platform issued that has not expired. */
export async function consumeNonce(db: Queryable, nonce: string, now: Date): Promise<boolean> {
  const deleted = await db
    .delete(acmeNonces)
    .where(and(eq(acmeNonces.nonce, nonce), gt(acmeNonces.expiresAt, now)))
    .returning({ nonce: acmeNonces.nonce });
  return deleted.length === 1;
}
