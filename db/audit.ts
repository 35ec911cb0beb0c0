/**
 * The append-only, hash-chained audit log (schema.ts `audit_events`, chain rules in audit-chain.ts).
 * Appends are serialized by a transaction-scoped advisory lock so each event chains onto the one
 * before it; an event with a dedupe key is written once however often an activity retries. Every
 * row is sealed with the audit key the database handle carries (createDatabase(pool, {auditKey})).
 *
 * The lock is the log's bottleneck: every append in every process waits for it, and holds it for its
 * round trips and its commit. So a process appends its events one transaction at a time (group commit):
 * events asked for while one is under way wait for it, then go together in the next one, under one
 * lock, one read of the chain's head and one insert. Each caller's promise settles when its event is
 * committed (or has failed), as before.
 */
import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { type AuditKey, type AuditRowContent, chainNextRow, verifyAuditLog, type AuditCheckpoint, type AuditVerification, type ChainedRow } from './audit-chain.js';
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

/** Most events one group-commit transaction appends; more wait for the next one. */
const MAX_GROUP = 100;

interface QueuedEvent {
  content: AuditRowContent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Per database handle: the events waiting for the next transaction, and whether one is under way. */
const queues = new WeakMap<Database, { waiting: QueuedEvent[]; running: boolean }>();

/** Appends in a transaction of its own, shared with the other events this process appends meanwhile. */
export async function appendAuditEvent(db: Database, event: AuditEvent): Promise<void> {
  const key = auditKeyOf(db);
  // Before queueing: details that cannot be serialized fail this event alone.
  const content = rowContent(event);
  let queue = queues.get(db);
  if (!queue) queues.set(db, (queue = { waiting: [], running: false }));
  const appended = new Promise<void>((resolve, reject) => queue.waiting.push({ content, resolve, reject }));
  if (!queue.running) void appendQueued(db, key, queue);
  return appended;
}

async function appendQueued(db: Database, key: AuditKey, queue: { waiting: QueuedEvent[]; running: boolean }): Promise<void> {
  queue.running = true;
  try {
    while (queue.waiting.length > 0) {
      const group = queue.waiting.splice(0, MAX_GROUP);
      try {
        await db.transaction((tx) => appendEventsIn(tx, key, group.map((queued) => queued.content)));
        for (const queued of group) queued.resolve();
      } catch (error) {
        if (group.length === 1 || !refusedData(error)) {
          for (const queued of group) queued.reject(error);
          continue;
        }
        // One event may be what Postgres refused (text it cannot store): each on its own, so that only it fails.
        for (const queued of group) await db.transaction((tx) => appendEventsIn(tx, key, [queued.content])).then(queued.resolve, queued.reject);
      }
    }
  } finally {
    queue.running = false;
  }
}

/**
 * Appends inside the caller's open transaction (`db` gives the key), so an event and the change it
 * records commit together on one connection; the audit lock is held until that transaction ends.
 */
export async function appendAuditEventInTransaction(tx: Queryable, db: Database, event: AuditEvent): Promise<void> {
  await appendEventsIn(tx, auditKeyOf(db), [rowContent(event)]);
}

function rowContent(event: AuditEvent): AuditRowContent {
  return {
    at: event.at,
    actor: event.actor,
    principalId: event.principalId ?? null,
    action: event.action,
    teamId: event.teamId ?? null,
    certificateId: event.certificateId ?? null,
    // What jsonb gives back (no undefined members, dates as strings), so the hash is of what is stored.
    details: JSON.parse(JSON.stringify(event.details)) as Record<string, unknown>,
    dedupeKey: event.dedupeKey ?? null,
  };
}

/** A Postgres refusal of the data (SQLSTATE class 22, data exception, or 23, integrity) rather than a failure of the database. */
function refusedData(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Object && depth < 4; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23]/.test(code)) return true;
  }
  return false;
}

/** Chains `contents` in order onto the log's head under the audit lock; one whose dedupe key is in the log (or earlier in `contents`) is left out. */
async function appendEventsIn(tx: Queryable, key: AuditKey, contents: AuditRowContent[]): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
  const dedupeKeys = contents.flatMap((content) => (content.dedupeKey ? [content.dedupeKey] : []));
  const seen = new Set<string>();
  if (dedupeKeys.length > 0) {
    const existing = await tx.select({ dedupeKey: auditEvents.dedupeKey }).from(auditEvents).where(inArray(auditEvents.dedupeKey, dedupeKeys));
    for (const row of existing) seen.add(row.dedupeKey!);
  }
  let [last]: Pick<ChainedRow, 'seq' | 'hash'>[] = await tx.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
  const rows: ChainedRow[] = [];
  for (const content of contents) {
    if (content.dedupeKey) {
      if (seen.has(content.dedupeKey)) continue;
      seen.add(content.dedupeKey);
    }
    const row = chainNextRow(last, content, key);
    rows.push(row);
    last = row;
  }
  if (rows.length > 0) await tx.insert(auditEvents).values(rows);
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
