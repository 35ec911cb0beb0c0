/**
 * After a restore from a backup, the CRL numbers published since the backup are unknown to the
 * database, and counting on from the restored number would publish those numbers again with other
 * contents (RFC 5280 §5.2.3: CRL numbers only increase). Reconcile raises every issuer's number to
 * at least a floor taken from the clock (milliseconds since 1970): above any number published since
 * the backup unless more than one CRL per millisecond was published, and far inside the 20 octets allowed.
 */
import { sql } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { issuerCrls } from './schema.js';

/** Raises each stored CRL number below `floor` to `floor`; returns how many issuers were raised. */
export async function raiseCrlNumbers(db: Queryable, floor: bigint): Promise<number> {
  const raised = await db
    .update(issuerCrls)
    .set({ crlNumber: sql`greatest(${issuerCrls.crlNumber}, ${floor.toString()}::bigint)` })
    .where(sql`${issuerCrls.crlNumber} < ${floor.toString()}::bigint`)
    .returning({ issuerId: issuerCrls.issuerId });
  return raised.length;
}
