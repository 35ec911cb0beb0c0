/** Approvals (schema.ts `approvals`): one per certificate generation that policy sends to a human. */
import { and, eq, sql } from 'drizzle-orm';
import type { ApprovalReason } from '../core/approval.js';
import type { Queryable } from './database.js';
import { approvals } from './schema.js';

export type ApprovalRow = typeof approvals.$inferSelect;

export async function openApprovalRow(
  db: Queryable,
  approval: { id: string; certificateId: string; generation: number; teamId: string; reasons: ApprovalReason[]; requestedBy: string; requestedAt: Date; deadlineAt: Date },
): Promise<void> {
  await db
    .insert(approvals)
    .values({ ...approval, state: 'pending' })
    .onConflictDoNothing();
}

export async function findApproval(db: Queryable, id: string): Promise<ApprovalRow | null> {
  const [row] = await db.select().from(approvals).where(eq(approvals.id, id));
  return row ?? null;
}

export async function findApprovalOfCertificate(db: Queryable, certificateId: string): Promise<ApprovalRow | null> {
  const [row] = await db.select().from(approvals).where(eq(approvals.certificateId, certificateId)).orderBy(sql`${approvals.generation} desc`).limit(1);
  return row ?? null;
}

export async function markEscalated(db: Queryable, id: string, at: Date): Promise<void> {
  await db
    .update(approvals)
    .set({ escalatedAt: at })
    .where(and(eq(approvals.id, id), sql`${approvals.escalatedAt} is null`));
}

/** Records the decision once: a row that is no longer pending keeps its first decision. Returns the row as stored. */
export async function decideApproval(
  db: Queryable,
  decision: { id: string; state: 'approved' | 'rejected' | 'expired'; decidedBy: string | null; decidedAt: Date; reason: string | null },
): Promise<ApprovalRow> {
  await db
    .update(approvals)
    .set({ state: decision.state, decidedBy: decision.decidedBy, decidedAt: decision.decidedAt, decisionReason: decision.reason })
    .where(and(eq(approvals.id, decision.id), eq(approvals.state, 'pending')));
  const row = await findApproval(db, decision.id);
  if (!row) throw new Error(`approval ${decision.id} does not exist`);
  return row;
}
