/**
 * The append-only, hash-chained audit log (schema.ts `audit_events`). Appends are serialized by a
 * transaction-scoped advisory lock so each event chains onto the one before it; an event with a
 * dedupe key is written once however often an activity retries.
 */
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, lt, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { auditEvents } from './schema.js';

export type AuditEventRow = typeof auditEvents.$inferSelect;

export interface AuditEvent {
  at: Date;
  /** Token id of the person or system that acted, or `workflow` / `system`. */
  actor: string;
  action: string;
  teamId?: string | null;
  certificateId?: string | null;
  details: Record<string, unknown>;
  dedupeKey?: string | null;
}

const GENESIS_HASH = '0'.repeat(64);
/** Arbitrary constant key for pg_advisory_xact_lock: "audit". */
const AUDIT_LOCK_KEY = 0x61756469;

export async function appendAuditEvent(db: Database, event: AuditEvent): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
    if (event.dedupeKey) {
      const [existing] = await tx.select({ seq: auditEvents.seq }).from(auditEvents).where(eq(auditEvents.dedupeKey, event.dedupeKey));
      if (existing) return;
    }
    const [last] = await tx.select({ hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
    const prevHash = last?.hash ?? GENESIS_HASH;
    const row = {
      at: event.at,
      actor: event.actor,
      action: event.action,
      teamId: event.teamId ?? null,
      certificateId: event.certificateId ?? null,
      details: event.details,
      dedupeKey: event.dedupeKey ?? null,
    };
    await tx.insert(auditEvents).values({ ...row, prevHash, hash: chainHash(prevHash, row) });
  });
}

export function chainHash(prevHash: string, event: Omit<AuditEventRow, 'seq' | 'prevHash' | 'hash'>): string {
  const canonical = JSON.stringify([
    event.at.toISOString(),
    event.actor,
    event.action,
    event.teamId,
    event.certificateId,
    canonicalJson(event.details),
    event.dedupeKey,
  ]);
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

/** JSON with object keys sorted, so jsonb's key reordering does not change the hash. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The first event whose hash does not follow from its predecessor, or null when the chain holds. */
export async function verifyAuditChain(db: Database): Promise<{ seq: number; problem: string } | null> {
  const rows = await db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
  let prevHash = GENESIS_HASH;
  for (const row of rows) {
    if (row.prevHash !== prevHash) return { seq: row.seq, problem: 'prev_hash does not match the previous event' };
    if (chainHash(prevHash, row) !== row.hash) return { seq: row.seq, problem: 'hash does not match the event' };
    prevHash = row.hash;
  }
  return null;
}

/** Newest first; `beforeSeq` (the last `seq` of the previous page) continues a listing. */
export async function listAuditEvents(db: Database, filter: { certificateId?: string; teamId?: string; beforeSeq?: number; limit: number }): Promise<AuditEventRow[]> {
  const owner = filter.certificateId ? eq(auditEvents.certificateId, filter.certificateId) : filter.teamId ? eq(auditEvents.teamId, filter.teamId) : undefined;
  const where = and(owner, filter.beforeSeq === undefined ? undefined : lt(auditEvents.seq, filter.beforeSeq));
  return db.select().from(auditEvents).where(where).orderBy(desc(auditEvents.seq)).limit(filter.limit);
}
