import { issuedSerials } from './schema.js';
import type { Queryable } from './database.js';

/** Records a serial before it is signed; a retried signing of the same serial records nothing new. */
export async function recordSerialBeforeSigning(db: Queryable, row: { issuerId: string; serial: string; certificateId: string; generation: number }): Promise<void> {
  await db.insert(issuedSerials).values(row).onConflictDoNothing();
}
