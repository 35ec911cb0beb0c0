/**
 * Bulk reissue data: the selection (one SQL query shared by the dry run and the workflow's pages),
 * the operations and the per-certificate items with their outcomes.
 */
import { and, asc, count, eq, gt, gte, inArray, isNotNull, isNull, lt, notInArray, sql, type SQL } from 'drizzle-orm';
import { sanPatternToRegex, type BulkCounts, type BulkOutcomeReport, type BulkSelector, type BulkState } from '../core/bulk.js';
import type { Queryable } from './database.js';
import { bulkItems, bulkOperations, certificates, certificateVersions, teams } from './schema.js';

export type BulkOperationRow = typeof bulkOperations.$inferSelect;
export type BulkItemRow = typeof bulkItems.$inferSelect;

/** Certificates that cannot be reissued: ended, or never issued. */
const NOT_SELECTABLE = ['revoked', 'revoking', 'rejected', 'approval_expired'] as const;

function selectionConditions(selector: BulkSelector): SQL[] {
  // Certificates Certflow signed only: an imported or discovered one cannot be reissued (adopt it first).
  const conditions: SQL[] = [notInArray(certificates.state, [...NOT_SELECTABLE]), isNotNull(certificateVersions.issuerId)];
  if (selector.issuerIds?.length) conditions.push(inArray(certificateVersions.issuerId, selector.issuerIds));
  if (selector.teamIds?.length) conditions.push(inArray(certificates.teamId, selector.teamIds));
  if (selector.certificateIds?.length) conditions.push(inArray(certificates.id, selector.certificateIds));
  if (selector.serials?.length) conditions.push(inArray(certificateVersions.serial, selector.serials));
  if (selector.keyAlgorithms?.length) conditions.push(inArray(certificates.keyAlgorithm, selector.keyAlgorithms));
  if (selector.profiles?.length) conditions.push(inArray(certificates.profile, selector.profiles));
  if (selector.expiresAfter) conditions.push(gte(certificateVersions.notAfter, new Date(selector.expiresAfter)));
  if (selector.expiresBefore) conditions.push(lt(certificateVersions.notAfter, new Date(selector.expiresBefore)));
  if (selector.sanPattern) {
    conditions.push(sql`exists (select 1 from unnest(${certificates.dnsNames}) as name where name ~ ${sanPatternToRegex(selector.sanPattern)})`);
  }
  return conditions;
}

export interface SelectedCertificate {
  certificateId: string;
  workflowId: string;
  teamId: string;
  currentVersionId: string;
  commonName: string | null;
  dnsNames: string[];
  serial: string;
  issuerId: string;
  notAfter: Date;
}

/** One page of the selection in certificate id order, after `after`. */
export async function selectPage(db: Queryable, selector: BulkSelector, after: string | null, limit: number): Promise<SelectedCertificate[]> {
  const conditions = selectionConditions(selector);
  if (after) conditions.push(gt(certificates.id, after));
  return db
    .select({
      certificateId: certificates.id,
      workflowId: certificates.workflowId,
      teamId: certificates.teamId,
      currentVersionId: certificateVersions.id,
      commonName: certificates.commonName,
      dnsNames: certificates.dnsNames,
      serial: certificateVersions.serial,
      issuerId: sql<string>`${certificateVersions.issuerId}`,
      notAfter: certificateVersions.notAfter,
    })
    .from(certificates)
    .innerJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
    .where(and(...conditions))
    .orderBy(asc(certificates.id))
    .limit(limit);
}

export interface SelectionSummary {
  count: number;
  perTeam: { teamId: string; teamName: string; count: number }[];
  sample: SelectedCertificate[];
}

/** What a dry run shows: how many, per team, and the first few. Reads only. */
export async function summarizeSelection(db: Queryable, selector: BulkSelector, sampleSize = 20): Promise<SelectionSummary> {
  const perTeam = await db
    .select({ teamId: certificates.teamId, teamName: teams.name, count: count() })
    .from(certificates)
    .innerJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
    .innerJoin(teams, eq(teams.id, certificates.teamId))
    .where(and(...selectionConditions(selector)))
    .groupBy(certificates.teamId, teams.name)
    .orderBy(asc(teams.name));
  return {
    count: perTeam.reduce((sum, team) => sum + team.count, 0),
    perTeam,
    sample: await selectPage(db, selector, null, sampleSize),
  };
}

export async function insertBulkOperation(db: Queryable, operation: typeof bulkOperations.$inferInsert): Promise<void> {
  await db.insert(bulkOperations).values(operation);
}

/** Removes an operation whose workflow never started (it has no items yet). */
export async function deleteBulkOperation(db: Queryable, id: string): Promise<void> {
  await db.delete(bulkOperations).where(eq(bulkOperations.id, id));
}

export async function findBulkOperation(db: Queryable, id: string): Promise<BulkOperationRow | null> {
  const [row] = await db.select().from(bulkOperations).where(eq(bulkOperations.id, id));
  return row ?? null;
}

const bulkCreatedAtKey = sql<string>`to_char(${bulkOperations.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Operations newest first, keyset-paged on (created_at, id). `teamId` undefined: every operation (a
 * platform admin); otherwise only those started by a token of that team.
 */
export async function listBulkOperations(
  db: Queryable,
  filter: { teamId?: string; after?: { at: string; id: string }; limit: number },
): Promise<Array<{ operation: BulkOperationRow; createdAtKey: string }>> {
  const conditions: SQL[] = [];
  if (filter.teamId !== undefined) conditions.push(eq(bulkOperations.teamId, filter.teamId));
  if (filter.after) conditions.push(sql`(${bulkOperations.createdAt}, ${bulkOperations.id}) < (${filter.after.at}::timestamptz, ${filter.after.id})`);
  return db
    .select({ operation: bulkOperations, createdAtKey: bulkCreatedAtKey })
    .from(bulkOperations)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(sql`${bulkOperations.createdAt} desc`, sql`${bulkOperations.id} desc`)
    .limit(filter.limit);
}

export async function updateBulkOperation(db: Queryable, id: string, change: { state: BulkState; counts: BulkCounts; finishedAt?: Date | null }): Promise<void> {
  await db.update(bulkOperations).set(change).where(eq(bulkOperations.id, id));
}

/** Registers the certificates of a page as items (in flight); idempotent. */
export async function addBulkItems(db: Queryable, bulkId: string, items: { certificateId: string; oldVersionId: string | null }[]): Promise<void> {
  if (items.length === 0) return;
  await db
    .insert(bulkItems)
    .values(items.map((item) => ({ bulkId, ...item })))
    .onConflictDoNothing();
}

/**
 * Writes outcomes; an item keeps its first outcome: the update touches only an item without one, in
 * one statement, so a retried or concurrent report (a lifecycle and the safety net) changes nothing.
 */
export async function recordBulkOutcomes(db: Queryable, bulkId: string, reports: BulkOutcomeReport[]): Promise<void> {
  // The first report of a certificate wins, here as in the table (only an item without an outcome is updated).
  const first = new Map<string, BulkOutcomeReport>();
  for (const report of reports) if (!first.has(report.certificateId)) first.set(report.certificateId, report);
  if (first.size === 0) return;
  const rows = [...first.values()].map((report) => ({
    certificate_id: report.certificateId,
    outcome: report.outcome,
    reason: report.reason ?? null,
    new_version_id: report.newVersionId,
    old_version_id: report.oldVersionId ?? null,
  }));
  // One statement for the whole group. The lifecycle knows which version its renewal superseded (the page may have been read before a renewal of its own).
  await db.execute(sql`
    update ${bulkItems} as item set
      outcome = report.outcome,
      reason = report.reason,
      new_version_id = report.new_version_id,
      old_version_id = coalesce(report.old_version_id, item.old_version_id),
      updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as report(certificate_id text, outcome text, reason text, new_version_id text, old_version_id text)
    where item.bulk_id = ${bulkId} and item.certificate_id = report.certificate_id and item.outcome is null`);
}

/** Outcomes recorded so far for these in-flight certificates of the operation (by their lifecycles or the safety net). */
export async function findRecordedOutcomes(db: Queryable, bulkId: string, certificateIds: string[]): Promise<BulkOutcomeReport[]> {
  if (certificateIds.length === 0) return [];
  const rows = await db
    .select({ certificateId: bulkItems.certificateId, outcome: bulkItems.outcome, reason: bulkItems.reason, oldVersionId: bulkItems.oldVersionId, newVersionId: bulkItems.newVersionId })
    .from(bulkItems)
    .where(and(eq(bulkItems.bulkId, bulkId), inArray(bulkItems.certificateId, certificateIds), isNotNull(bulkItems.outcome)));
  return rows.map((row) => ({ ...row, outcome: row.outcome! }));
}

/** The state and lifecycle workflow id of each certificate that exists, by id. */
export async function findCertificateStates(db: Queryable, certificateIds: string[]): Promise<Map<string, { state: string; workflowId: string }>> {
  if (certificateIds.length === 0) return new Map();
  const rows = await db
    .select({ id: certificates.id, state: certificates.state, workflowId: certificates.workflowId })
    .from(certificates)
    .where(inArray(certificates.id, certificateIds));
  return new Map(rows.map((row) => [row.id, { state: row.state, workflowId: row.workflowId }]));
}

export async function markItemsRevoked(db: Queryable, bulkId: string, certificateIds: string[], at: Date): Promise<void> {
  if (certificateIds.length === 0) return;
  await db
    .update(bulkItems)
    .set({ revokedAt: at, updatedAt: sql`now()` })
    .where(and(eq(bulkItems.bulkId, bulkId), inArray(bulkItems.certificateId, certificateIds), isNull(bulkItems.revokedAt)));
}

export async function listBulkItems(db: Queryable, bulkId: string, options: { after?: string; limit: number }): Promise<BulkItemRow[]> {
  const conditions = [eq(bulkItems.bulkId, bulkId)];
  if (options.after) conditions.push(gt(bulkItems.certificateId, options.after));
  return db.select().from(bulkItems).where(and(...conditions)).orderBy(asc(bulkItems.certificateId)).limit(options.limit);
}

/** ACME certificates of the operation whose clients were asked to renew (ARI), and how many of them have not renewed yet. */
export async function countSignalled(db: Queryable, bulkId: string): Promise<{ signalled: number; awaitingClient: number }> {
  const [row] = await db
    .select({
      signalled: sql<number>`count(*) filter (where ${bulkItems.signalledAt} is not null)::int`,
      awaitingClient: sql<number>`count(*) filter (where ${bulkItems.signalledAt} is not null and ${bulkItems.outcome} is null)::int`,
    })
    .from(bulkItems)
    .where(eq(bulkItems.bulkId, bulkId));
  return { signalled: row?.signalled ?? 0, awaitingClient: row?.awaitingClient ?? 0 };
}
