/** Principals: the people and services API tokens act for (schema.ts `principals`). */
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { PrincipalKind } from '../core/types.js';
import type { Queryable } from './database.js';
import { newId } from './ids.js';
import { principals } from './schema.js';

export type PrincipalRow = typeof principals.$inferSelect;

export const BOOTSTRAP_PRINCIPAL_ID = 'prn_bootstrap';

export async function insertPrincipal(
  db: Queryable,
  input: { kind: PrincipalKind; name: string; email?: string | null; teamId: string | null; accountableTo?: string | null },
): Promise<PrincipalRow> {
  const [row] = await db
    .insert(principals)
    .values({ id: newId('prn'), kind: input.kind, name: input.name, email: input.email ?? null, teamId: input.teamId, accountableTo: input.accountableTo ?? null })
    .returning();
  return row!;
}

export async function findPrincipal(db: Queryable, id: string): Promise<PrincipalRow | null> {
  const [row] = await db.select().from(principals).where(eq(principals.id, id));
  return row ?? null;
}

/** The principal a principal answers to (itself unless a team admin created it). */
export function accountableIdOf(row: Pick<PrincipalRow, 'id' | 'accountableTo'>): string {
  return row.accountableTo ?? row.id;
}

/**
 * Disables the principal (its tokens stop working at their next request) and every principal that
 * answers to it (the tokens a leaver minted for themselves); a second call keeps the first time.
 */
export async function disablePrincipal(db: Queryable, id: string, now: Date): Promise<{ row: PrincipalRow; disabledNow: boolean } | null> {
  await db
    .update(principals)
    .set({ disabledAt: now })
    .where(and(eq(principals.accountableTo, id), isNull(principals.disabledAt)));
  const [disabled] = await db
    .update(principals)
    .set({ disabledAt: now })
    .where(and(eq(principals.id, id), isNull(principals.disabledAt)))
    .returning();
  if (disabled) return { row: disabled, disabledNow: true };
  const row = await findPrincipal(db, id);
  return row ? { row, disabledNow: false } : null;
}

/** One team's principals (`teamId` null: the platform-wide ones), or every principal with `all`; oldest first. */
export async function listPrincipals(db: Queryable, filter: { teamId: string | null } | { all: true }): Promise<PrincipalRow[]> {
  const where = 'all' in filter ? undefined : filter.teamId === null ? isNull(principals.teamId) : eq(principals.teamId, filter.teamId);
  return db.select().from(principals).where(where).orderBy(asc(principals.createdAt), asc(principals.id));
}

/**
 * The `person` principal of an OpenID Connect subject, created at its first request. Keyed by
 * (issuer, subject); its team follows the team claim of the latest request.
 */
export async function ensureOidcPrincipal(
  db: Queryable,
  identity: { issuer: string; subject: string; name: string; email: string | null; teamId: string },
): Promise<{ row: PrincipalRow; created: boolean }> {
  const inserted = await db
    .insert(principals)
    .values({ id: newId('prn'), kind: 'person', name: identity.name, email: identity.email, teamId: identity.teamId, oidcIssuer: identity.issuer, oidcSubject: identity.subject })
    .onConflictDoNothing({ target: [principals.oidcIssuer, principals.oidcSubject] })
    .returning();
  if (inserted[0]) return { row: inserted[0], created: true };
  const [row] = await db
    .select()
    .from(principals)
    .where(and(eq(principals.oidcIssuer, identity.issuer), eq(principals.oidcSubject, identity.subject)));
  // The identity provider is the authority on team membership: follow a move.
  if (row!.teamId !== identity.teamId) {
    const [moved] = await db.update(principals).set({ teamId: identity.teamId }).where(eq(principals.id, row!.id)).returning();
    return { row: moved!, created: false };
  }
  return { row: row!, created: false };
}
