/**
 * The append-only, hash-chained audit log (schema.ts `audit_events`, chain rules in audit-chain.ts).
 * Appends are serialized by a transaction-scoped advisory lock so each event chains onto the one
 * before it; an event with a dedupe key is written once however often an activity retries. Every
 * row is sealed with the audit key the database handle carries (createDatabase(pool, {auditKey})).
 */
import { and, asc, desc, eq, lt, sql } from 'drizzle-orm';
import { type AuditKey, chainNextRow, verifyAuditLog, type AuditCheckpoint, type AuditVerification, type ChainedRow } from './audit-chain.js';
import type { Database, Queryable } from './database.js';
import { auditCheckpoints, auditEvents } from './schema.js';

export type AuditEventRow = typeof auditEvents.$inferSelect;

export interface AuditEvent {
  at: Date;
  /** Who acted: an API token id (api/audit-actor.ts), or `workflow` / `system`. */
  actor: string;
  /** The principal (person or service) behind `actor`, when known. */
  principalId?: string | null;
  action: string;
  teamId?: string | null;
  certificateId?: string | null;
  details: Record<string, unknown>;
  dedupeKey?: string | null;
}

/** Arbitrary constant key for pg_advisory_xact_lock: "audit". */
const AUDIT_LOCK_KEY = 0x61756469;

export class AuditKeyMissing extends Error {
  override name = 'AuditKeyMissing';
  constructor() {
    super('the audit log needs the audit key: open the database with createDatabase(pool, { auditKey })');
  }
}

function auditKeyOf(db: Database): AuditKey {
  if (!db.auditKey) throw new AuditKeyMissing();
  return db.auditKey;
}

export async function appendAuditEvent(db: Database, event: AuditEvent): Promise<void> {
  const key = auditKeyOf(db);
  await db.transaction((tx) => appendAuditEventIn(tx, key, event));
}

/**
 * Appends inside the caller's open transaction (`db` gives the key), so an event and the change it
 * records commit together on one connection; the audit lock is held until that transaction ends.
 */
export async function appendAuditEventInTransaction(tx: Queryable, db: Database, event: AuditEvent): Promise<void> {
  await appendAuditEventIn(tx, auditKeyOf(db), event);
}

async function appendAuditEventIn(tx: Queryable, key: AuditKey, event: AuditEvent): Promise<void> {
  // What jsonb gives back (no undefined members, dates as strings), so the hash is of what is stored.
  const details = JSON.parse(JSON.stringify(event.details)) as Record<string, unknown>;
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
  if (event.dedupeKey) {
    const [existing] = await tx.select({ seq: auditEvents.seq }).from(auditEvents).where(eq(auditEvents.dedupeKey, event.dedupeKey));
    if (existing) return;
  }
  const [last] = await tx.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
  const row = chainNextRow(
    last,
    {
      at: event.at,
      actor: event.actor,
      principalId: event.principalId ?? null,
      action: event.action,
      teamId: event.teamId ?? null,
      certificateId: event.certificateId ?? null,
      details,
      dedupeKey: event.dedupeKey ?? null,
    },
    key,
  );
  await tx.insert(auditEvents).values(row);
}

/**
 * Records the chain's head (seq, hash) sealed with the audit key, unless the newest checkpoint
 * already names it. `copy` keeps it outside the database too; it runs before the row is stored, so
 * a failed copy stores nothing and the retry copies again (a copy whose row was not stored names a
 * real row all the same). Returns the new checkpoint, or null.
 */
export async function checkpointAuditLog(db: Database, at: Date, options: { copy?: (checkpoint: AuditCheckpoint) => Promise<void> } = {}): Promise<AuditCheckpoint | null> {
  const key = auditKeyOf(db);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
    const [head] = await tx.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
    if (!head) return null;
    const [latest] = await tx.select({ seq: auditCheckpoints.seq }).from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1);
    if (latest && latest.seq >= head.seq) return null;
    const checkpoint = { seq: head.seq, hash: head.hash, at, mac: key.sealCheckpoint({ seq: head.seq, hash: head.hash, at }) };
    await options.copy?.(checkpoint);
    await tx.insert(auditCheckpoints).values(checkpoint).onConflictDoNothing();
    return checkpoint;
  });
}

/**
 * Verifies the whole log (audit-chain.ts `verifyAuditLog`) against the checkpoints in the database
 * and any kept outside it (e.g. the worker's checkpoint file).
 */
export async function verifyAuditLogIn(db: Database, externalCheckpoints: readonly AuditCheckpoint[] = []): Promise<AuditVerification> {
  const key = auditKeyOf(db);
  const rows: ChainedRow[] = await db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
  const stored = await db.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq));
  return verifyAuditLog({ rows, checkpoints: [...stored, ...externalCheckpoints], key });
}

/** The first problem of the log, or null when it holds (the fault suite's invariant). */
export async function verifyAuditChain(db: Database): Promise<{ seq: number; problem: string } | null> {
  const [first] = (await verifyAuditLogIn(db)).problems;
  return first ? { seq: first.seq, problem: first.message } : null;
}

/** Newest first; `beforeSeq` (the last `seq` of the previous page) continues a listing. */
export async function listAuditEvents(db: Database, filter: { certificateId?: string; teamId?: string; beforeSeq?: number; limit: number }): Promise<AuditEventRow[]> {
  const owner = filter.certificateId ? eq(auditEvents.certificateId, filter.certificateId) : filter.teamId ? eq(auditEvents.teamId, filter.teamId) : undefined;
  const where = and(owner, filter.beforeSeq === undefined ? undefined : lt(auditEvents.seq, filter.beforeSeq));
  return db.select().from(auditEvents).where(where).orderBy(desc(auditEvents.seq)).limit(filter.limit);
}
