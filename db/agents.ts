/** Hosts running `certflow agent` and their tokens (`cfa_<id>_<secret>`, stored as SHA-256 only). */
import { and, eq, isNull } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { agents } from './schema.js';

export type AgentRow = typeof agents.$inferSelect;

export async function findAgent(db: Queryable, id: string): Promise<AgentRow | null> {
  const [row] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), isNull(agents.revokedAt)));
  return row ?? null;
}
