/**
 * ACME orders with their authorizations and challenges. An order is created whole (its
 * authorizations and their challenges in one transaction); its later changes are conditional
 * updates, so two racing requests cannot both move it.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { AuthorizationStatus, ChallengeStatus, OrderStatus } from '../core/acme-order.js';
import type { Queryable } from './database.js';
import { prepared } from './prepared.js';
import { acmeAuthorizations, acmeChallenges, acmeOrders } from './schema.js';
import { findVersionByGeneration } from './versions.js';

export type AcmeOrderRow = typeof acmeOrders.$inferSelect;
export type AcmeAuthorizationRow = typeof acmeAuthorizations.$inferSelect;
export type AcmeChallengeRow = typeof acmeChallenges.$inferSelect;
export type NewAcmeOrder = typeof acmeOrders.$inferInsert;

export interface NewAuthorization {
  row: typeof acmeAuthorizations.$inferInsert;
  challenges: (typeof acmeChallenges.$inferInsert)[];
}

/** The order, its authorizations and their challenges in one statement (data-modifying CTEs): all or nothing. */
export async function insertOrder(db: Queryable, order: NewAcmeOrder, authorizations: NewAuthorization[]): Promise<void> {
  const inserts = [db.insert(acmeOrders).values(order).getSQL()];
  if (authorizations.length > 0) inserts.push(db.insert(acmeAuthorizations).values(authorizations.map((authorization) => authorization.row)).getSQL());
  const challenges = authorizations.flatMap((authorization) => authorization.challenges);
  if (challenges.length > 0) inserts.push(db.insert(acmeChallenges).values(challenges).getSQL());
  const last = inserts.pop()!;
  if (inserts.length === 0) return void (await db.execute(last));
  const ctes = sql.join(inserts.map((insert, index) => sql`${sql.raw(`part${index}`)} as (${insert})`), sql`, `);
  await db.execute(sql`with ${ctes} ${last}`);
}

export async function findOrder(db: Queryable, id: string): Promise<AcmeOrderRow | null> {
  const statement = prepared(db, 'acme_order_by_id', (pool) => pool.select().from(acmeOrders).where(eq(acmeOrders.id, sql.placeholder('id'))).prepare('acme_order_by_id'));
  const [row] = statement ? await statement.execute({ id }) : await db.select().from(acmeOrders).where(eq(acmeOrders.id, id));
  return row ?? null;
}

export async function orderAuthorizations(db: Queryable, orderId: string): Promise<AcmeAuthorizationRow[]> {
  const statement = prepared(db, 'acme_order_authorizations', (pool) =>
    pool
      .select()
      .from(acmeAuthorizations)
      .where(eq(acmeAuthorizations.orderId, sql.placeholder('orderId')))
      .orderBy(asc(acmeAuthorizations.createdAt), asc(acmeAuthorizations.id))
      .prepare('acme_order_authorizations'),
  );
  if (statement) return statement.execute({ orderId });
  return db.select().from(acmeAuthorizations).where(eq(acmeAuthorizations.orderId, orderId)).orderBy(asc(acmeAuthorizations.createdAt), asc(acmeAuthorizations.id));
}

export async function findAuthorization(db: Queryable, id: string): Promise<AcmeAuthorizationRow | null> {
  const statement = prepared(db, 'acme_authorization_by_id', (pool) => pool.select().from(acmeAuthorizations).where(eq(acmeAuthorizations.id, sql.placeholder('id'))).prepare('acme_authorization_by_id'));
  const [row] = statement ? await statement.execute({ id }) : await db.select().from(acmeAuthorizations).where(eq(acmeAuthorizations.id, id));
  return row ?? null;
}

export async function authorizationChallenges(db: Queryable, authorizationIds: string[]): Promise<AcmeChallengeRow[]> {
  if (authorizationIds.length === 0) return [];
  return db.select().from(acmeChallenges).where(inArray(acmeChallenges.authorizationId, authorizationIds)).orderBy(asc(acmeChallenges.type));
}

export async function findChallenge(db: Queryable, id: string): Promise<AcmeChallengeRow | null> {
  const [row] = await db.select().from(acmeChallenges).where(eq(acmeChallenges.id, id));
  return row ?? null;
}

/** Moves a challenge from one of `from` to `to`; false when another request moved it first. */
export async function moveChallenge(
  db: Queryable,
  id: string,
  from: ChallengeStatus[],
  to: { status: ChallengeStatus; validatedAt?: Date; error?: Record<string, unknown> | null },
): Promise<boolean> {
  const moved = await db
    .update(acmeChallenges)
    .set(to)
    .where(and(eq(acmeChallenges.id, id), inArray(acmeChallenges.status, from)))
    .returning({ id: acmeChallenges.id });
  return moved.length === 1;
}

export async function moveAuthorization(db: Queryable, id: string, from: AuthorizationStatus[], to: AuthorizationStatus): Promise<boolean> {
  const moved = await db
    .update(acmeAuthorizations)
    .set({ status: to })
    .where(and(eq(acmeAuthorizations.id, id), inArray(acmeAuthorizations.status, from)))
    .returning({ id: acmeAuthorizations.id });
  return moved.length === 1;
}

/** Ready → processing with the certificate generation the order becomes; false when the order was already finalized. */
export async function markOrderProcessing(db: Queryable, id: string, outcome: { certificateId: string; generation: number; csrPem: string }, now: Date): Promise<boolean> {
  const moved = await db
    .update(acmeOrders)
    .set({ status: 'processing', ...outcome, updatedAt: now })
    .where(and(eq(acmeOrders.id, id), inArray(acmeOrders.status, ['pending', 'ready'] satisfies OrderStatus[])))
    .returning({ id: acmeOrders.id });
  return moved.length === 1;
}

export async function markOrderInvalid(db: Queryable, id: string, error: Record<string, unknown>, now: Date): Promise<void> {
  await db
    .update(acmeOrders)
    .set({ status: 'invalid', error, updatedAt: now })
    .where(and(eq(acmeOrders.id, id), sql`${acmeOrders.status} <> 'valid'`));
}

export async function markOrderValid(db: Queryable, id: string, now: Date): Promise<void> {
  await db.update(acmeOrders).set({ status: 'valid', updatedAt: now }).where(and(eq(acmeOrders.id, id), eq(acmeOrders.status, 'processing')));
}

/** The version an order produced, once it is signed. */
export async function orderVersion(db: Queryable, order: Pick<AcmeOrderRow, 'certificateId' | 'generation'>) {
  if (!order.certificateId || order.generation === null) return null;
  return findVersionByGeneration(db, order.certificateId, order.generation);
}


/** The channel the worker announces each signed ACME version on; finalize listens (api/acme/issuance-notices.ts). */
export const ACME_ISSUED_CHANNEL = 'certflow_acme_issued';

/** `<certificateId>/<generation>/<versionId>`: what an announcement carries. */
export function acmeIssuedPayload(version: { certificateId: string; generation: number; id: string }): string {
  return `${version.certificateId}/${version.generation}/${version.id}`;
}

/** Tells the API replicas waiting in finalize that this version is recorded (after its commit). */
export async function announceAcmeVersion(db: Queryable, version: { certificateId: string; generation: number; id: string }): Promise<void> {
  await db.execute(sql`select pg_notify(${ACME_ISSUED_CHANNEL}, ${acmeIssuedPayload(version)})`);
}
