/**
 * Rollouts: one row per version and destination (schema.ts `deliveries`). Every write names the
 * workflow's rollout key, so a retried activity finds its own request and a new request starts over.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Destination, RolloutState } from '../core/types.js';
import type { Queryable } from './database.js';
import { deliveries } from './schema.js';

export type DeliveryRow = typeof deliveries.$inferSelect;

export interface RolloutRequest {
  versionId: string;
  destinationIndex: number;
  destination: Destination;
  rolloutKey: string;
}

/**
 * Opens (or re-opens) the rollout of a version to a destination for `rolloutKey`: a row of another
 * key goes back to `pending`; a row of the same key is returned as it is (a retried activity).
 */
export async function openRollout(db: Queryable, request: RolloutRequest): Promise<DeliveryRow> {
  const agentId = request.destination.type === 'agent' ? request.destination.agentId : null;
  const [row] = await db
    .insert(deliveries)
    .values({ ...request, agentId, state: 'pending', deliveredAt: null })
    .onConflictDoUpdate({
      target: [deliveries.versionId, deliveries.destinationIndex],
      set: {
        state: sql`case when ${deliveries.rolloutKey} is distinct from excluded.rollout_key then 'pending' else ${deliveries.state} end`,
        deployedSerial: sql`case when ${deliveries.rolloutKey} is distinct from excluded.rollout_key then null else ${deliveries.deployedSerial} end`,
        verifiedAt: sql`case when ${deliveries.rolloutKey} is distinct from excluded.rollout_key then null else ${deliveries.verifiedAt} end`,
        lastError: sql`case when ${deliveries.rolloutKey} is distinct from excluded.rollout_key then null else ${deliveries.lastError} end`,
        destination: sql`excluded.destination`,
        agentId: sql`excluded.agent_id`,
        rolloutKey: sql`excluded.rollout_key`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return row!;
}

/**
 * A delivery made in one step (a file destination, written locally): the row is written once, as
 * delivered, for `rolloutKey` — what openRollout then updateRollout would leave, in one statement.
 */
export async function recordDelivered(db: Queryable, request: RolloutRequest, deployedSerial: string, at: Date): Promise<void> {
  const agentId = request.destination.type === 'agent' ? request.destination.agentId : null;
  await db
    .insert(deliveries)
    .values({ ...request, agentId, state: 'delivered', deployedSerial, deliveredAt: at })
    .onConflictDoUpdate({
      target: [deliveries.versionId, deliveries.destinationIndex],
      set: {
        state: sql`excluded.state`,
        deployedSerial: sql`excluded.deployed_serial`,
        deliveredAt: sql`excluded.delivered_at`,
        verifiedAt: null,
        lastError: null,
        destination: sql`excluded.destination`,
        agentId: sql`excluded.agent_id`,
        rolloutKey: sql`excluded.rollout_key`,
        updatedAt: sql`now()`,
      },
    });
}

export async function findRollout(db: Queryable, versionId: string, destinationIndex: number): Promise<DeliveryRow | null> {
  const [row] = await db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.versionId, versionId), eq(deliveries.destinationIndex, destinationIndex)));
  return row ?? null;
}

/** Moves the rollout of `rolloutKey` to `state`; a row that belongs to a newer request is left alone. */
export async function updateRollout(
  db: Queryable,
  key: { versionId: string; destinationIndex: number; rolloutKey: string },
  change: { state: RolloutState; deployedSerial?: string | null; lastError?: string | null; deliveredAt?: Date; verifiedAt?: Date },
): Promise<boolean> {
  const rows = await db
    .update(deliveries)
    .set({ ...change, updatedAt: sql`now()` })
    .where(and(eq(deliveries.versionId, key.versionId), eq(deliveries.destinationIndex, key.destinationIndex), eq(deliveries.rolloutKey, key.rolloutKey)))
    .returning({ id: deliveries.id });
  return rows.length > 0;
}

export async function listRollouts(db: Queryable, versionId: string): Promise<DeliveryRow[]> {
  return db.select().from(deliveries).where(eq(deliveries.versionId, versionId)).orderBy(deliveries.destinationIndex);
}
