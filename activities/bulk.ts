/**
 * Side effects of the bulkReissue workflow: page through the selection, signal renewals in
 * batches (one activity per batch keeps the workflow's history small), record and collect outcomes,
 * check renewals that may never report, revoke superseded versions and publish the revocation. All
 * idempotent: a retried batch signals a certificate twice at worst, and its lifecycle treats a second
 * renewNow of the same bulk as one; an item keeps the first outcome recorded for it.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { stalledSkipReason, type BulkCounts, type BulkOutcomeReport, type BulkSelector, type BulkState } from '../core/bulk.js';
import {
  addBulkItems,
  findBulkOperation,
  findCertificateStates,
  findRecordedOutcomes,
  markItemsRevoked,
  recordBulkOutcomes,
  selectPage,
  summarizeSelection,
  updateBulkOperation,
} from '../db/bulk.js';
import { findVersionsWithTeams, revokeSupersededVersions } from '../db/versions.js';
import { appendAuditEvent } from '../db/audit.js';
import { recordVersionsRevoked } from './audit-records.js';
import { renewNowSignal } from '../contracts/lifecycle-messages.js';
import type { ActivityDeps } from './deps.js';
import { notifyBulkFinished } from './bulk-notification.js';
import { publishCrl } from './publish-crl.js';
import { refreshOcspResponses } from './publish-ocsp.js';

export interface BulkTarget {
  certificateId: string;
  workflowId: string;
  oldVersionId: string | null;
}

export async function countBulkSelection(deps: ActivityDeps, input: { selector: BulkSelector }): Promise<number> {
  return (await summarizeSelection(deps.db, input.selector, 0)).count;
}

export async function selectBulkPage(deps: ActivityDeps, input: { selector: BulkSelector; after: string | null; limit: number }): Promise<BulkTarget[]> {
  const page = await selectPage(deps.db, input.selector, input.after, input.limit);
  return page.map((row) => ({ certificateId: row.certificateId, workflowId: row.workflowId, oldVersionId: row.currentVersionId }));
}

export interface SendRenewalsResult {
  sent: string[];
  skipped: BulkOutcomeReport[];
}

/** Signals `renewNow(reason, bulkId)` to each lifecycle; one that is not running is skipped with the reason. */
export async function sendBulkRenewals(
  deps: ActivityDeps,
  input: { bulkId: string; reason: string; targets: BulkTarget[] },
): Promise<SendRenewalsResult> {
  await addBulkItems(
    deps.db,
    input.bulkId,
    input.targets.map((target) => ({ certificateId: target.certificateId, oldVersionId: target.oldVersionId })),
  );
  const results = await Promise.all(
    input.targets.map(async (target) => {
      try {
        await deps.temporal.workflow.getHandle(target.workflowId).signal(renewNowSignal, { reason: input.reason, bulkOperationId: input.bulkId });
        return { target, skipped: null };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { target, skipped: 'its lifecycle workflow is not running (revoked or ended)' };
        throw error;
      }
    }),
  );
  const skipped: BulkOutcomeReport[] = results
    .filter((result) => result.skipped !== null)
    .map((result) => ({ certificateId: result.target.certificateId, outcome: 'skipped', reason: result.skipped, oldVersionId: result.target.oldVersionId, newVersionId: null }));
  if (skipped.length > 0) await recordBulkOutcomes(deps.db, input.bulkId, skipped);
  // First record wins: in a retried send, a lifecycle that took the first send and has ended since
  // has its own outcome recorded. It counts as sent, and its outcome is collected like any other.
  const recorded = await findRecordedOutcomes(deps.db, input.bulkId, skipped.map((report) => report.certificateId));
  const skippedIds = new Set(recorded.filter((report) => report.outcome === 'skipped').map((report) => report.certificateId));
  return {
    sent: input.targets.map((target) => target.certificateId).filter((certificateId) => !skippedIds.has(certificateId)),
    skipped: skipped.filter((report) => skippedIds.has(report.certificateId)),
  };
}

/**
 * The one channel of bulk outcomes: a lifecycle run records how its renewal for the operation ended.
 * Idempotent: the first outcome recorded for (bulkId, certificateId) stays; a retry or a later report
 * changes nothing.
 */
export async function recordBulkOutcome(deps: ActivityDeps, input: { bulkId: string; report: BulkOutcomeReport }): Promise<void> {
  await recordBulkOutcomes(deps.db, input.bulkId, [input.report]);
}

/** The outcomes recorded so far among the operation's renewals in flight. */
export async function collectBulkOutcomes(deps: ActivityDeps, input: { bulkId: string; certificateIds: string[] }): Promise<BulkOutcomeReport[]> {
  return findRecordedOutcomes(deps.db, input.bulkId, input.certificateIds);
}

/** How many lifecycle workflows are described at once. */
const DESCRIBE_CONCURRENCY = 10;

/**
 * The safety net for renewals in flight without an outcome: each certificate's row and its lifecycle
 * workflow are looked at, and one that can no longer report (core/bulk.ts stalledSkipReason) is
 * recorded `skipped` — first record wins, so a real outcome recorded meanwhile stays. Returns the
 * outcomes now recorded for these certificates (whoever recorded them).
 */
export async function checkStalledBulkItems(deps: ActivityDeps, input: { bulkId: string; certificateIds: string[] }): Promise<BulkOutcomeReport[]> {
  const rows = await findCertificateStates(deps.db, input.certificateIds);
  const skipped: BulkOutcomeReport[] = [];
  for (let start = 0; start < input.certificateIds.length; start += DESCRIBE_CONCURRENCY) {
    await Promise.all(
      input.certificateIds.slice(start, start + DESCRIBE_CONCURRENCY).map(async (certificateId) => {
        const row = rows.get(certificateId);
        const reason = stalledSkipReason({
          certificateState: row?.state ?? null,
          workflowStatus: row ? await workflowStatus(deps, row.workflowId) : null,
        });
        if (reason) skipped.push({ certificateId, outcome: 'skipped', reason, oldVersionId: null, newVersionId: null });
      }),
    );
  }
  await recordBulkOutcomes(deps.db, input.bulkId, skipped);
  return findRecordedOutcomes(deps.db, input.bulkId, input.certificateIds);
}

/** Temporal's status name of the workflow's latest run, or NOT_FOUND. */
async function workflowStatus(deps: ActivityDeps, workflowId: string): Promise<string> {
  try {
    return (await deps.temporal.workflow.getHandle(workflowId).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'NOT_FOUND';
    throw error;
  }
}

export async function recordBulkProgress(deps: ActivityDeps, input: { bulkId: string; state: BulkState; counts: BulkCounts; finished?: boolean }): Promise<void> {
  await updateBulkOperation(deps.db, input.bulkId, { state: input.state, counts: input.counts, ...(input.finished ? { finishedAt: deps.now() } : {}) });
  if (input.finished) {
    const operation = await findBulkOperation(deps.db, input.bulkId);
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      actor: 'workflow',
      action: 'bulk.finished',
      teamId: operation?.teamId ?? null,
      details: { bulkId: input.bulkId, state: input.state, counts: input.counts },
      dedupeKey: `bulk-finished/${input.bulkId}`,
    });
    await notifyBulkFinished(deps, { bulkId: input.bulkId, state: input.state, counts: input.counts, teamId: operation?.teamId ?? null, reason: operation?.options.reason ?? null });
  }
}

/**
 * Revokes superseded versions whose replacements are out, then publishes new OCSP responses and
 * CRLs of their issuers once for the whole batch. Returns how many it revoked now.
 */
export async function revokeBulkSuperseded(
  deps: ActivityDeps,
  input: { bulkId: string; items: { certificateId: string; versionId: string }[] },
): Promise<number> {
  const at = deps.now();
  const revoked = await revokeSupersededVersions(
    deps.db,
    input.items.map((item) => item.versionId),
    'superseded',
    at,
  );
  // One read for the batch; the events are appended together (the audit log's group commit, db/audit.ts).
  const versions = await findVersionsWithTeams(deps.db, input.items.map((item) => item.versionId));
  await Promise.all(versions.map(({ version, teamId }) => recordVersionsRevoked(deps.db, [version], teamId, { bulkId: input.bulkId })));
  await markItemsRevoked(
    deps.db,
    input.bulkId,
    input.items.map((item) => item.certificateId),
    at,
  );
  const serialsByIssuer = new Map<string, string[]>();
  for (const version of revoked) if (version.issuerId !== null) serialsByIssuer.set(version.issuerId, [...(serialsByIssuer.get(version.issuerId) ?? []), version.serial]);
  for (const [issuerId, serials] of serialsByIssuer) {
    await refreshOcspResponses(deps, { issuerId, serials });
    await publishCrl(deps, { issuerId });
  }
  return revoked.length;
}
