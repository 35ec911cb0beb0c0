/**
 * The API's narrow view of the bulkReissue workflow: start it, read its progress, steer it. Queries
 * and updates run on a worker, so they get deadlines: a request never hangs because no worker is up.
 */
import type { Client } from '@temporalio/client';
import type { BulkProgress, BulkReissueInput } from '../core/bulk.js';
import type { bulkReissue } from '../workflows/bulk-reissue.js';
import { bulkProgressQuery, bulkWorkflowId, cancelBulkUpdate, pauseBulkUpdate, resumeBulkUpdate } from '../contracts/bulk-messages.js';
import { executeUpdateWithin, queryOrNull } from './workflow-calls.js';

export const BULK_ACTIONS = ['pause', 'resume', 'cancel'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export async function startBulkReissue(client: Client, taskQueue: string, input: BulkReissueInput): Promise<string> {
  const workflowId = bulkWorkflowId(input.bulkId);
  await client.workflow.start<typeof bulkReissue>('bulkReissue', {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
  });
  return workflowId;
}

/** The live progress, or null when it cannot be had within the deadline (no worker, workflow gone). */
export async function queryBulkProgress(client: Client, workflowId: string): Promise<BulkProgress | null> {
  return queryOrNull(client, workflowId, bulkProgressQuery);
}

const UPDATES = { pause: pauseBulkUpdate, resume: resumeBulkUpdate, cancel: cancelBulkUpdate } as const;

/** Runs the workflow's validated update and returns the progress it answers with. */
export async function executeBulkAction(client: Client, workflowId: string, action: BulkAction, by: string): Promise<BulkProgress> {
  return executeUpdateWithin(client, workflowId, UPDATES[action], { by });
}
