/**
 * Idempotency keys of certificate requests (schema `idempotency_keys`). A request claims its key
 * with a lease; the row then records the certificate it creates, the lifecycle start once the
 * certificate is stored, and the answer once given. The primary key (scope, key) makes concurrent
 * duplicates meet on one row: exactly one of them holds the lease at a time.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { idempotencyKeys } from './schema.js';

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;
export type StoredLifecycleStart = NonNullable<IdempotencyRow['start']>;

export interface KeyClaim {
  scope: string;
  key: string;
  requestHash: string;
  certificateId: string;
  holder: string;
  leaseSeconds: number;
  /** A row older than this is forgotten: the key may be used again, for anything. */
  retentionSeconds: number;
}

/**
 * Claims the key for a new request, or returns null when it is taken (read it with
 * `findIdempotencyKey`). An expired row is replaced as if it had never been.
 */
export async function claimIdempotencyKey(db: Queryable, claim: KeyClaim): Promise<IdempotencyRow | null> {
  const fresh = {
    scope: claim.scope,
    key: claim.key,
    requestHash: claim.requestHash,
    certificateId: claim.certificateId,
    holder: claim.holder,
    heldUntil: sql`now() + make_interval(secs => ${claim.leaseSeconds})`,
  };
  const [row] = await db
    .insert(idempotencyKeys)
    .values(fresh)
    .onConflictDoUpdate({
      target: [idempotencyKeys.scope, idempotencyKeys.key],
      set: { ...fresh, start: null, responseStatus: null, responseBody: null, createdAt: sql`now()` },
      setWhere: sql`${idempotencyKeys.createdAt} < now() - make_interval(secs => ${claim.retentionSeconds})`,
    })
    .returning();
  return row ?? null;
}

export async function findIdempotencyKey(db: Queryable, scope: string, key: string): Promise<IdempotencyRow | null> {
  const [row] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  return row ?? null;
}

/** Takes over a key whose holder's lease ran out without an answer; null when someone else got it first. */
export async function takeOverIdempotencyKey(db: Queryable, stale: IdempotencyRow, holder: string, leaseSeconds: number): Promise<IdempotencyRow | null> {
  const [row] = await db
    .update(idempotencyKeys)
    .set({ holder, heldUntil: sql`now() + make_interval(secs => ${leaseSeconds})` })
    .where(
      and(
        eq(idempotencyKeys.scope, stale.scope),
        eq(idempotencyKeys.key, stale.key),
        eq(idempotencyKeys.holder, stale.holder),
        sql`${idempotencyKeys.responseStatus} is null`,
        sql`${idempotencyKeys.heldUntil} <= now()`,
      ),
    )
    .returning();
  return row ?? null;
}

type HeldKey = Pick<IdempotencyRow, 'scope' | 'key' | 'holder'>;

const held = (row: HeldKey) => and(eq(idempotencyKeys.scope, row.scope), eq(idempotencyKeys.key, row.key), eq(idempotencyKeys.holder, row.holder));

/** Records the lifecycle start next to the certificate row (same transaction); false when the lease was lost. */
export async function recordLifecycleStart(db: Queryable, row: HeldKey, start: StoredLifecycleStart): Promise<boolean> {
  const updated = await db.update(idempotencyKeys).set({ start }).where(held(row)).returning({ key: idempotencyKeys.key });
  return updated.length === 1;
}

/** `json` is the body exactly as sent, so that a replay is the same bytes. */
export async function recordAnswer(db: Queryable, row: HeldKey, status: number, json: string): Promise<void> {
  await db.update(idempotencyKeys).set({ responseStatus: status, responseBody: json }).where(held(row));
}

/** Ends the lease without an answer, so that a retry with the same key resumes at once. */
export async function releaseIdempotencyKey(db: Queryable, row: HeldKey): Promise<void> {
  await db.update(idempotencyKeys).set({ heldUntil: sql`now()` }).where(held(row));
}

/** Forgets the key: the request it named created nothing. */
export async function deleteIdempotencyKey(db: Queryable, row: HeldKey): Promise<void> {
  await db.delete(idempotencyKeys).where(held(row));
}

export async function deleteExpiredIdempotencyKeys(db: Queryable, retentionSeconds: number): Promise<void> {
  await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(secs => ${retentionSeconds})`));
}
