/** A team's notification contacts (schema.ts `team_contacts`). */
import { and, asc, count, eq, isNull, sql } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { newId } from './ids.js';
import { teamContacts } from './schema.js';

export type TeamContactRow = typeof teamContacts.$inferSelect;
export type NewTeamContact = Omit<typeof teamContacts.$inferInsert, 'id' | 'createdAt' | 'removedAt'>;

export function newContactId(): string {
  return newId('ctc');
}

/**
 * Most contacts one team may have: every notification fans out to each of them, so more would let one
 * team multiply the deliveries every worker sends (a notification storm).
 */
export const MAX_CONTACTS_PER_TEAM = 20;

/** Serializes contact changes of one team until the transaction ends (the cap is checked, then a row added). */
export async function lockTeamContacts(tx: Queryable, teamId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('certflow.team-contacts'), hashtext(${teamId}))`);
}

/** How many contacts the team has that are not removed. */
export async function countContacts(db: Queryable, teamId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(teamContacts).where(and(eq(teamContacts.teamId, teamId), isNull(teamContacts.removedAt)));
  return row?.n ?? 0;
}

export async function insertContact(db: Queryable, contact: NewTeamContact & { id: string }): Promise<TeamContactRow> {
  const [row] = await db.insert(teamContacts).values(contact).returning();
  return row!;
}

/** The team's contacts that are not removed, oldest first. */
export async function listContacts(db: Queryable, teamId: string): Promise<TeamContactRow[]> {
  return db
    .select()
    .from(teamContacts)
    .where(and(eq(teamContacts.teamId, teamId), isNull(teamContacts.removedAt)))
    .orderBy(asc(teamContacts.createdAt), asc(teamContacts.id));
}

export async function findContact(db: Queryable, id: string): Promise<TeamContactRow | null> {
  const [row] = await db.select().from(teamContacts).where(eq(teamContacts.id, id));
  return row ?? null;
}

/** Marks the contact removed (its pending deliveries are cancelled when next claimed); null when it was not there. */
export async function removeContact(db: Queryable, teamId: string, id: string, at: Date): Promise<TeamContactRow | null> {
  const [row] = await db
    .update(teamContacts)
    .set({ removedAt: at })
    .where(and(eq(teamContacts.id, id), eq(teamContacts.teamId, teamId), isNull(teamContacts.removedAt)))
    .returning();
  return row ?? null;
}
