/**
 * What reconcile and `audit verify` read to tell a restored database from a tampered one: the log's
 * head, the hashes of given rows, and the checkpoints `platform.restored` events acknowledged.
 */
import { desc, eq, inArray, max } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { auditEvents } from './schema.js';

export const PLATFORM_RESTORED = 'platform.restored';

export async function auditHead(db: Queryable): Promise<number | null> {
  const [row] = await db.select({ head: max(auditEvents.seq) }).from(auditEvents);
  return row?.head ?? null;
}

/** seq → hash of the rows that exist among `seqs`. */
export async function auditRowsAt(db: Queryable, seqs: readonly number[]): Promise<Map<number, string>> {
  if (seqs.length === 0) return new Map();
  const rows = await db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).where(inArray(auditEvents.seq, [...seqs]));
  return new Map(rows.map((row) => [row.seq, row.hash]));
}

/** `seq/hash` of every checkpoint a `platform.restored` event names. */
export async function acknowledgedRestores(db: Queryable): Promise<Set<string>> {
  const rows = await db.select({ details: auditEvents.details }).from(auditEvents).where(eq(auditEvents.action, PLATFORM_RESTORED)).orderBy(desc(auditEvents.seq));
  return new Set(rows.flatMap((row) => restoredCheckpoints(row.details).map((checkpoint) => `${checkpoint.seq}/${checkpoint.hash}`)));
}

/** The checkpoints a `platform.restored` event's details name. */
export function restoredCheckpoints(details: Record<string, unknown>): Array<{ seq: number; hash: string }> {
  const checkpoints = details.checkpoints;
  if (!Array.isArray(checkpoints)) return [];
  return checkpoints.filter((item): item is { seq: number; hash: string } => typeof item?.seq === 'number' && typeof item?.hash === 'string');
}
