import { eq } from 'drizzle-orm';
import type { TeamPolicy } from '../core/policy.js';
import type { Queryable } from './database.js';
import { newId } from './ids.js';
import { teams } from './schema.js';

export type TeamRow = typeof teams.$inferSelect;

export async function insertTeam(db: Queryable, name: string, policy: TeamPolicy): Promise<TeamRow | null> {
  const [row] = await db.insert(teams).values({ id: newId('team'), name, policy }).onConflictDoNothing({ target: teams.name }).returning();
  return row ?? null;
}

export async function findTeam(db: Queryable, id: string): Promise<TeamRow | null> {
  const [row] = await db.select().from(teams).where(eq(teams.id, id));
  return row ?? null;
}

export async function findTeamByName(db: Queryable, name: string): Promise<TeamRow | null> {
  const [row] = await db.select().from(teams).where(eq(teams.name, name));
  return row ?? null;
}
