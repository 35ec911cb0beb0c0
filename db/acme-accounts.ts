/** ACME accounts and the external account binding keys that tie them to a team. */
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { AccountStatus } from '../core/acme-order.js';
import type { Queryable } from './database.js';
import { newId } from './ids.js';
import { prepared } from './prepared.js';
import { acmeAccounts, acmeEabKeys } from './schema.js';

export type AcmeAccountRow = typeof acmeAccounts.$inferSelect;
export type AcmeEabKeyRow = typeof acmeEabKeys.$inferSelect;

export async function createEabKey(db: Queryable, input: { teamId: string; createdByPrincipal: string }): Promise<AcmeEabKeyRow> {
  const [row] = await db.insert(acmeEabKeys).values({ id: newId('eab'), ...input }).returning();
  return row!;
}

export async function listEabKeys(db: Queryable, teamId: string): Promise<AcmeEabKeyRow[]> {
  return db.select().from(acmeEabKeys).where(eq(acmeEabKeys.teamId, teamId)).orderBy(desc(acmeEabKeys.createdAt), desc(acmeEabKeys.id));
}

export async function findEabKey(db: Queryable, id: string): Promise<AcmeEabKeyRow | null> {
  const statement = prepared(db, 'acme_eab_key_by_id', (pool) => pool.select().from(acmeEabKeys).where(eq(acmeEabKeys.id, sql.placeholder('id'))).prepare('acme_eab_key_by_id'));
  const [row] = statement ? await statement.execute({ id }) : await db.select().from(acmeEabKeys).where(eq(acmeEabKeys.id, id));
  return row ?? null;
}

/**
 * Revokes a key (once) and the accounts bound with it: a key is revoked because it may have leaked,
 * and an account registered with a leaked key cannot be told from a legitimate one. Clients that
 * should go on get a new key and register again.
 */
export async function revokeEabKey(db: Queryable, id: string, now: Date): Promise<{ key: AcmeEabKeyRow; revokedAccounts: string[] } | null> {
  const [key] = await db.update(acmeEabKeys).set({ revokedAt: now }).where(and(eq(acmeEabKeys.id, id), isNull(acmeEabKeys.revokedAt))).returning();
  if (!key) return null;
  const accounts = await db
    .update(acmeAccounts)
    .set({ status: 'revoked', updatedAt: now })
    .where(and(eq(acmeAccounts.eabKeyId, id), eq(acmeAccounts.status, 'valid')))
    .returning({ id: acmeAccounts.id });
  return { key, revokedAccounts: accounts.map((account) => account.id) };
}

/** Locks the key's row for the rest of the transaction; false when it does not exist or is revoked. */
export async function lockUsableEabKey(tx: Queryable, id: string): Promise<boolean> {
  const [row] = await tx.select({ id: acmeEabKeys.id }).from(acmeEabKeys).where(and(eq(acmeEabKeys.id, id), isNull(acmeEabKeys.revokedAt))).for('update');
  return row !== undefined;
}

export async function touchEabKey(db: Queryable, id: string, now: Date): Promise<void> {
  await db.update(acmeEabKeys).set({ lastUsedAt: now }).where(eq(acmeEabKeys.id, id));
}

export async function findAccountByThumbprint(db: Queryable, thumbprint: string): Promise<AcmeAccountRow | null> {
  const [row] = await db.select().from(acmeAccounts).where(eq(acmeAccounts.thumbprint, thumbprint));
  return row ?? null;
}

export async function findAccount(db: Queryable, id: string): Promise<AcmeAccountRow | null> {
  const statement = prepared(db, 'acme_account_by_id', (pool) => pool.select().from(acmeAccounts).where(eq(acmeAccounts.id, sql.placeholder('id'))).prepare('acme_account_by_id'));
  const [row] = statement ? await statement.execute({ id }) : await db.select().from(acmeAccounts).where(eq(acmeAccounts.id, id));
  return row ?? null;
}

/** Creates the account of a key, or returns the one that a concurrent request created for the same key. */
export async function insertAccount(
  db: Queryable,
  input: { teamId: string | null; eabKeyId: string | null; jwk: Record<string, string>; thumbprint: string; contact: string[] },
): Promise<{ row: AcmeAccountRow; created: boolean }> {
  const [row] = await db
    .insert(acmeAccounts)
    .values({ id: newId('acct'), ...input, status: 'valid' })
    .onConflictDoNothing({ target: acmeAccounts.thumbprint })
    .returning();
  if (row) return { row, created: true };
  return { row: (await findAccountByThumbprint(db, input.thumbprint))!, created: false };
}

export async function updateAccount(
  db: Queryable,
  id: string,
  changes: { contact?: string[]; status?: AccountStatus; jwk?: Record<string, string>; thumbprint?: string },
  now: Date,
): Promise<AcmeAccountRow | null> {
  const [row] = await db
    .update(acmeAccounts)
    .set({ ...changes, updatedAt: now })
    .where(and(eq(acmeAccounts.id, id), eq(acmeAccounts.status, 'valid')))
    .returning();
  return row ?? null;
}
