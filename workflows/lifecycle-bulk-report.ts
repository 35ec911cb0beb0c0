/**
 * Bulk reporting: a lifecycle run records how its renewal ended for every bulk operation waiting for
 * it (a row in bulk_items that the operation collects), once each, retried until written.
 */
import { isCancellation, log, sleep } from '@temporalio/workflow';
import type { BulkOutcome } from '../core/bulk.js';
import { markReported, unreportedBulkIds } from '../core/lifecycle-inbox.js';
import { retryBackoffMs } from '../core/lifecycle.js';
import { localActivities } from './lifecycle-activities.js';
import type { LifecycleRun } from './lifecycle-run.js';

/** Longest pause between two attempts at recording an outcome. */
const REPORT_RETRY_CAP_MS = 30_000;

/**
 * Records `outcome` for each bulk operation still waiting; `includingNext` also answers the
 * operations whose renewal will now never happen (after a revocation).
 */
export async function reportToBulk(run: LifecycleRun, outcome: BulkOutcome, reason: string | null, includingNext = false): Promise<void> {
  const newVersion = run.status.currentVersion?.generation === run.input.generation ? run.status.currentVersion : null;
  for (const bulkId of unreportedBulkIds(run.inbox, includingNext)) {
    const report = { certificateId: run.certificateId, outcome, reason, oldVersionId: run.input.currentVersion?.versionId ?? null, newVersionId: newVersion?.versionId ?? null };
    for (let attempt = 1; ; attempt++) {
      try {
        await localActivities.recordBulkOutcome({ bulkId, report });
        break;
      } catch (error) {
        if (isCancellation(error)) throw error;
        log.warn('could not record the outcome for the bulk operation; retrying', { bulkOperationId: bulkId, attempt, error: String(error) });
        await sleep(Math.min(retryBackoffMs(attempt), REPORT_RETRY_CAP_MS));
      }
    }
    run.inbox = markReported(run.inbox, bulkId);
  }
}
