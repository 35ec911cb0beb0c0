/** Signals, queries and updates of the bulkReissue workflow, defined once for the workflow and the API. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BulkOutcomeReport, BulkProgress } from '../core/bulk.js';

/** A lifecycle run started by the operation reports how its renewal ended. */
export const bulkOutcomeSignal = defineSignal<[BulkOutcomeReport]>('bulkOutcome');
export const bulkProgressQuery = defineQuery<BulkProgress>('progress');
export const pauseBulkUpdate = defineUpdate<BulkProgress, [{ by: string }]>('pause');
export const resumeBulkUpdate = defineUpdate<BulkProgress, [{ by: string }]>('resume');
/** Stops sending; renewals already under way finish and are recorded. */
export const cancelBulkUpdate = defineUpdate<BulkProgress, [{ by: string }]>('cancel');

export function bulkWorkflowId(bulkId: string): string {
  return `bulk/${bulkId}`;
}
