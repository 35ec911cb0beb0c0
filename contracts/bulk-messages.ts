/**
 * Queries and updates of the bulkReissue workflow, defined once for the workflow and the API.
 * Lifecycles report outcomes through Postgres (the recordBulkOutcome activity), not by message.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { BulkProgress } from '../core/bulk.js';

export const bulkProgressQuery = defineQuery<BulkProgress>('progress');
export const pauseBulkUpdate = defineUpdate<BulkProgress, [{ by: string }]>('pause');
export const resumeBulkUpdate = defineUpdate<BulkProgress, [{ by: string }]>('resume');
/** Stops sending; renewals already under way finish and are recorded. */
export const cancelBulkUpdate = defineUpdate<BulkProgress, [{ by: string }]>('cancel');

export function bulkWorkflowId(bulkId: string): string {
  return `bulk/${bulkId}`;
}
