/**
 * Spent ACME nonces (api/acme/nonces.ts mints them without storing anything): a nonce is recorded
 * when a request spends it, until it expires, so a replay is refused by every API replica. Expired
 * rows are purged as new ones are written.
 */
import { lt } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { acmeNonces } from './schema.js';

/** One purge per this many spent nonces (per replica), enough to keep the table at about an hour's worth. */
const PURGE_EVERY = 1_000;
let spentSincePurge = 0;

/** Records the nonce as spent: true the first time, false for a replay. */
export async function spendNonce(db: Queryable, nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
  const inserted = await db.insert(acmeNonces).values({ nonce, expiresAt }).onConflictDoNothing().returning({ nonce: acmeNonces.nonce });
  if (++spentSincePurge >= PURGE_EVERY) {
    spentSincePurge = 0;
    await db.delete(acmeNonces).where(lt(acmeNonces.expiresAt, now));
  }
  return inserted.length === 1;
}
