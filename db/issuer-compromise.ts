/**
 * Data of the issuer compromise drill: issuer status changes, the drill's bulk operation, the rows
 * its report is built from, and the stored report (an audit event).
 */
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, inArray, ne, notInArray, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { RevocationReason } from '../core/types.js';
import type { Queryable } from './database.js';
import type { IdPrefix } from './ids.js';
import { auditEvents, bulkItems, bulkOperations, certificates, certificateVersions, issuers } from './schema.js';

type IssuerRow = typeof issuers.$inferSelect;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * An id shaped like `newId` (prefix + 20 base32 characters) but derived from `seed`, so a retried
 * activity names the same row: the successor of an issuer, the bulk operation of a drill run.
 */
export function derivedId(prefix: IdPrefix, seed: string): string {
  const bytes = createHash('sha256').update(`certflow:${prefix}:${seed}`).digest().subarray(0, 12);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return `${prefix}_${out}`;
}

/** active (or retiring) → compromised; returns the row as it is now (unchanged when it was neither). */
export async function markCompromised(db: Queryable, issuerId: string): Promise<IssuerRow | null> {
  const [updated] = await db
    .update(issuers)
    .set({ status: 'compromised' })
    .where(and(eq(issuers.id, issuerId), inArray(issuers.status, ['active', 'retiring'])))
    .returning();
  if (updated) return updated;
  const [row] = await db.select().from(issuers).where(eq(issuers.id, issuerId));
  return row ?? null;
}

/** Revokes an issuer once; a repeated call returns the row with its first revocation time. */
export async function revokeIssuerRow(db: Queryable, issuerId: string, reason: RevocationReason, at: Date): Promise<IssuerRow | null> {
  const [updated] = await db
    .update(issuers)
    .set({ status: 'revoked', revokedAt: at, revocationReason: reason })
    .where(and(eq(issuers.id, issuerId), ne(issuers.status, 'revoked')))
    .returning();
  if (updated) return updated;
  const [row] = await db.select().from(issuers).where(eq(issuers.id, issuerId));
  return row ?? null;
}

/** Inserts the issuer unless one with its id exists; returns the stored row (the first insert wins). */
export async function insertIssuerOnce(db: Queryable, issuer: typeof issuers.$inferInsert): Promise<IssuerRow> {
  await db.insert(issuers).values(issuer).onConflictDoNothing({ target: issuers.id });
  const [row] = await db.select().from(issuers).where(eq(issuers.id, issuer.id));
  if (!row) throw new Error(`issuer ${issuer.id} vanished after insertion`);
  return row;
}

export async function insertBulkOperationOnce(db: Queryable, operation: typeof bulkOperations.$inferInsert): Promise<void> {
  await db.insert(bulkOperations).values(operation).onConflictDoNothing({ target: bulkOperations.id });
}

export interface CompromiseItem {
  certificateId: string;
  outcome: string | null;
  reason: string | null;
  oldSerial: string | null;
  newSerial: string | null;
  newIssuerId: string | null;
  revokedAt: Date | null;
}

/** The bulk items of the drill with the serials of their old and new versions, in certificate id order. */
export async function listCompromiseItems(db: Queryable, bulkId: string): Promise<CompromiseItem[]> {
  const oldVersion = alias(certificateVersions, 'old_version');
  const newVersion = alias(certificateVersions, 'new_version');
  return db
    .select({
      certificateId: bulkItems.certificateId,
      outcome: bulkItems.outcome,
      reason: bulkItems.reason,
      oldSerial: oldVersion.serial,
      newSerial: newVersion.serial,
      newIssuerId: newVersion.issuerId,
      revokedAt: bulkItems.revokedAt,
    })
    .from(bulkItems)
    .leftJoin(oldVersion, eq(oldVersion.id, bulkItems.oldVersionId))
    .leftJoin(newVersion, eq(newVersion.id, bulkItems.newVersionId))
    .where(eq(bulkItems.bulkId, bulkId))
    .orderBy(asc(bulkItems.certificateId));
}

/** Certificates (not ended) whose current version is still signed by the issuer. */
export async function listCertificatesStillOnIssuer(db: Queryable, issuerId: string): Promise<{ certificateId: string; serial: string; state: string }[]> {
  return db
    .select({ certificateId: certificates.id, serial: certificateVersions.serial, state: certificates.state })
    .from(certificates)
    .innerJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
    .where(and(eq(certificateVersions.issuerId, issuerId), notInArray(certificates.state, ['revoked', 'revoking'])))
    .orderBy(asc(certificates.id));
}

export const COMPROMISE_REPORT_ACTION = 'issuer.compromise_report';

/** The newest stored drill report of an issuer, or null. */
export async function findLatestCompromiseReport(db: Queryable, issuerId: string): Promise<{ at: Date; details: Record<string, unknown> } | null> {
  const [row] = await db
    .select({ at: auditEvents.at, details: auditEvents.details })
    .from(auditEvents)
    .where(and(eq(auditEvents.action, COMPROMISE_REPORT_ACTION), sql`${auditEvents.details}->>'issuerId' = ${issuerId}`))
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return row ?? null;
}

export async function findAuditEventAt(db: Queryable, dedupeKey: string): Promise<Date | null> {
  const [row] = await db.select({ at: auditEvents.at }).from(auditEvents).where(eq(auditEvents.dedupeKey, dedupeKey));
  return row?.at ?? null;
}
