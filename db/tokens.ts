/**
 * API tokens: `cft_<id>_<secret>`. Only a SHA-256 of the whole token is stored; a token is
 * 160 random bits, so a fast hash is enough (no password-style stretching needed).
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Role } from '../core/types.js';
import type { Queryable } from './database.js';
import { newId } from './ids.js';
import { apiTokens } from './schema.js';

export type TokenRow = typeof apiTokens.$inferSelect;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function issueToken(
  db: Queryable,
  input: { teamId: string | null; role: Role; expiresAt: Date | null },
): Promise<{ id: string; token: string }> {
  const id = newId('tok');
  const token = `cft_${id.slice(4)}_${randomBytes(20).toString('base64url')}`;
  await db.insert(apiTokens).values({ id, teamId: input.teamId, role: input.role, tokenHash: hashToken(token), expiresAt: input.expiresAt });
  return { id, token };
}

/** Registers an operator-chosen token (CERTFLOW_BOOTSTRAP_TOKEN) as a platform admin token. */
export async function ensureBootstrapToken(db: Queryable, token: string): Promise<void> {
  await db
    .insert(apiTokens)
    .values({ id: 'tok_bootstrap', teamId: null, role: 'admin', tokenHash: hashToken(token), expiresAt: null })
    .onConflictDoUpdate({ target: apiTokens.id, set: { tokenHash: hashToken(token), revokedAt: null } });
}

export async function findActiveToken(db: Queryable, token: string, now: Date): Promise<TokenRow | null> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now))));
  return row ?? null;
}

export async function touchToken(db: Queryable, id: string, now: Date): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: now })
    .where(and(eq(apiTokens.id, id), sql`(${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} < ${now}::timestamptz - interval '1 minute')`));
}
