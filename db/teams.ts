import { eq, sql } from 'drizzle-orm';
import { prepared } from './prepared.js';
import type { TeamPolicy } from '../core/policy.js';
import type { Database, Queryable } from './database.js';
import { newId } from './ids.js';
import { teams } from './schema.js';

export type TeamRow = typeof teams.$inferSelect;

export async function insertTeam(db: Queryable, name: string, policy: TeamPolicy): Promise<TeamRow | null> {
  const [row] = await db.insert(teams).values({ id: newId('team'), name, policy }).onConflictDoNothing({ target: teams.name }).returning();
  return row ?? null;
}

export async function findTeam(db: Queryable, id: string): Promise<TeamRow | null> {
  const statement = prepared(db, 'team_by_id', (pool) => pool.select().from(teams).where(eq(teams.id, sql.placeholder('id'))).prepare('team_by_id'));
  const [row] = statement ? await statement.execute({ id }) : await db.select().from(teams).where(eq(teams.id, id));
  return row ?? null;
}

export async function findTeamByName(db: Queryable, name: string): Promise<TeamRow | null> {
  const [row] = await db.select().from(teams).where(eq(teams.name, name));
  return row ?? null;
}

/**
 * Replaces a team's policy with `change(current)` under a row lock, so concurrent changes apply one
 * after the other; null when there is no such team. `change` may throw to refuse (nothing changes).
 */
export async function updateTeamPolicy(db: Database, id: string, change: (current: TeamPolicy) => TeamPolicy): Promise<{ before: TeamPolicy; team: TeamRow } | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(teams).where(eq(teams.id, id)).for('update');
    if (!row) return null;
    const [team] = await tx.update(teams).set({ policy: change(row.policy) }).where(eq(teams.id, id)).returning();
    return { before: row.policy, team: team! };
  });
}
