/**
 * The queue of new ACME certificates the worker's batch issuer signs (activities/acme-batch-issuer.ts).
 * Finalize adds a row next to the certificate and wakes the issuers (`NOTIFY certflow_acme_issue`,
 * delivered on commit); an issuer claims rows with a lease (`FOR UPDATE SKIP LOCKED`, so two workers
 * never claim the same row at once) and deletes each once its version is recorded. A row whose lease
 * ran out (its worker died) is claimed again: issuance is idempotent per (certificate, generation).
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { acmeIssuanceQueue } from './schema.js';

export const ACME_ISSUE_CHANNEL = 'certflow_acme_issue';

export interface ClaimedIssuance {
  certificateId: string;
  generation: number;
  /** Claims so far, this one included. */
  attempts: number;
}

/** Queues a certificate generation and wakes the issuers once the surrounding transaction commits. */
export async function enqueueAcmeIssuance(db: Queryable, certificateId: string, generation: number): Promise<void> {
  await db.execute(sql`with queued as (insert into ${acmeIssuanceQueue} (certificate_id, generation) values (${certificateId}, ${generation}) on conflict do nothing returning 1)
    select pg_notify(${ACME_ISSUE_CHANNEL}, '') from queued`);
}

/** Claims up to `limit` rows nobody holds (oldest first) for `leaseSeconds`. */
export async function claimAcmeIssuances(db: Queryable, limit: number, leaseSeconds: number): Promise<ClaimedIssuance[]> {
  const result = await db.execute<{ certificate_id: string; generation: number; attempts: number }>(sql`
    update ${acmeIssuanceQueue} set claimed_until = now() + make_interval(secs => ${leaseSeconds}), attempts = attempts + 1
    where certificate_id in (
      select certificate_id from ${acmeIssuanceQueue}
      where claimed_until is null or claimed_until < now()
      order by created_at
      limit ${limit}
      for update skip locked)
    returning certificate_id, generation, attempts`);
  return result.rows.map((row) => ({ certificateId: row.certificate_id, generation: Number(row.generation), attempts: Number(row.attempts) }));
}

/** Done with a claimed row: its version is recorded, or its lifecycle workflow owns it now. */
export async function removeAcmeIssuance(db: Queryable, certificateId: string, generation: number): Promise<void> {
  await db.delete(acmeIssuanceQueue).where(and(eq(acmeIssuanceQueue.certificateId, certificateId), eq(acmeIssuanceQueue.generation, generation)));
}

/** A failed attempt: the row is left for a later claim, after `retryAfterSeconds`. */
export async function retryAcmeIssuanceLater(db: Queryable, certificateId: string, retryAfterSeconds: number, error: string): Promise<void> {
  await db
    .update(acmeIssuanceQueue)
    .set({ claimedUntil: sql`now() + make_interval(secs => ${retryAfterSeconds})`, lastError: error.slice(0, 2000) })
    .where(eq(acmeIssuanceQueue.certificateId, certificateId));
}

/** Whether a certificate waits in the queue (the inventory sweep leaves such certificates to the issuer). */
export async function isAcmeIssuanceQueued(db: Queryable, certificateId: string): Promise<boolean> {
  const [row] = await db.select({ id: acmeIssuanceQueue.certificateId }).from(acmeIssuanceQueue).where(eq(acmeIssuanceQueue.certificateId, certificateId));
  return row !== undefined;
}
