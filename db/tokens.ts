/**
 * API tokens: `cft_<id>_<secret>`. Only a SHA-256 of the whole token is stored; a token is
 * 160 random bits, so a fast hash is enough (no password-style stretching needed). Every token acts
 * for a principal (db/principals.ts); a token of a disabled principal does not authenticate.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Role } from '../core/types.js';
import type { Queryable } from './database.js';
import { newId } from './ids.js';
import { BOOTSTRAP_PRINCIPAL_ID } from './principals.js';
import { apiTokens, principals } from './schema.js';

export type TokenRow = typeof apiTokens.$inferSelect;

export const BOOTSTRAP_TOKEN_ID = 'tok_bootstrap';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function issueToken(
  db: Queryable,
  input: { teamId: string | null; principalId: string; role: Role; expiresAt: Date | null },
): Promise<{ id: string; token: string }> {
  const id = newId('tok');
  const token = `cft_${id.slice(4)}_${randomBytes(20).toString('base64url')}`;
  await db.insert(apiTokens).values({ id, teamId: input.teamId, principalId: input.principalId, role: input.role, tokenHash: hashToken(token), expiresAt: input.expiresAt });
  return { id, token };
}

/**
 * What registering the operator-chosen bootstrap token (CERTFLOW_BOOTSTRAP_TOKEN) did. The token
 * seeds the row once: afterwards the row is the truth, so a revoked bootstrap token stays revoked
 * and a rotated one is not replaced by the configured value at the next start.
 */
export type BootstrapTokenState = 'created' | 'active' | 'revoked' | 'rotated';

export async function ensureBootstrapToken(db: Queryable, token: string): Promise<BootstrapTokenState> {
  await db
    .insert(principals)
    .values({ id: BOOTSTRAP_PRINCIPAL_ID, kind: 'service', name: 'bootstrap admin', teamId: null })
    .onConflictDoNothing({ target: principals.id });
  const created = await db
    .insert(apiTokens)
    .values({ id: BOOTSTRAP_TOKEN_ID, teamId: null, principalId: BOOTSTRAP_PRINCIPAL_ID, role: 'admin', tokenHash: hashToken(token), expiresAt: null })
    .onConflictDoNothing({ target: apiTokens.id })
    .returning({ id: apiTokens.id });
  if (created.length > 0) return 'created';
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, BOOTSTRAP_TOKEN_ID));
  if (row?.revokedAt) return 'revoked';
  return row?.tokenHash === hashToken(token) ? 'active' : 'rotated';
}

/** A new secret for the bootstrap token (also re-enabling a revoked one, or its disabled principal: a break-glass step for an operator with database access). */
export async function rotateBootstrapToken(db: Queryable): Promise<string> {
  const token = `cft_bootstrap_${randomBytes(24).toString('base64url')}`;
  await db
    .insert(principals)
    .values({ id: BOOTSTRAP_PRINCIPAL_ID, kind: 'service', name: 'bootstrap admin', teamId: null })
    .onConflictDoUpdate({ target: principals.id, set: { disabledAt: null } });
  await db
    .insert(apiTokens)
    .values({ id: BOOTSTRAP_TOKEN_ID, teamId: null, principalId: BOOTSTRAP_PRINCIPAL_ID, role: 'admin', tokenHash: hashToken(token), expiresAt: null })
    .onConflictDoUpdate({ target: apiTokens.id, set: { tokenHash: hashToken(token), revokedAt: null, lastUsedAt: null } });
  return token;
}

export interface ActiveToken {
  id: string;
  teamId: string | null;
  principalId: string;
  /** The principal the token's principal answers to, or null when it answers for itself. */
  accountableTo: string | null;
  role: Role;
}

export async function findActiveToken(db: Queryable, token: string, now: Date): Promise<ActiveToken | null> {
  const [row] = await db
    .select({ id: apiTokens.id, teamId: apiTokens.teamId, principalId: apiTokens.principalId, accountableTo: principals.accountableTo, role: apiTokens.role })
    .from(apiTokens)
    .innerJoin(principals, eq(principals.id, apiTokens.principalId))
    .where(
      and(
        eq(apiTokens.tokenHash, hashToken(token)),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
        isNull(principals.disabledAt),
      ),
    );
  return row ?? null;
}

export async function touchToken(db: Queryable, id: string, now: Date): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: now })
    .where(and(eq(apiTokens.id, id), sql`(${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} < ${now}::timestamptz - interval '1 minute')`));
}

export async function findToken(db: Queryable, id: string): Promise<TokenRow | null> {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, id));
  return row ?? null;
}

/** A team's tokens, oldest first (the hash stays here: views leave it out). */
export async function listTeamTokens(db: Queryable, teamId: string): Promise<TokenRow[]> {
  return db.select().from(apiTokens).where(eq(apiTokens.teamId, teamId)).orderBy(asc(apiTokens.createdAt), asc(apiTokens.id));
}

/** Revokes the token; a second revocation keeps the first time. Returns the row, or null when unknown. */
export async function revokeToken(db: Queryable, id: string, now: Date): Promise<{ row: TokenRow; revokedNow: boolean } | null> {
  const [revoked] = await db
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning();
  if (revoked) return { row: revoked, revokedNow: true };
  const row = await findToken(db, id);
  return row ? { row, revokedNow: false } : null;
}
