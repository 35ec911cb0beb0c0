/**
 * The API's narrow view of the lifecycle workflows: start, signal, update, query (queries and
 * updates with deadlines, api/workflow-calls.ts).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type {
  ApprovalDecisionRequest,
  ApprovalDecisionResult,
  LifecycleInput,
  LifecycleStatus,
  RenewNowRequest,
  RevokeRequest,
  RevokeResult,
} from '../core/lifecycle.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import type { certificateLifecycle } from '../workflows/certificate-lifecycle.js';
import {
  approveUpdate,
  lifecycleWorkflowId,
  rejectUpdate,
  renewNowSignal,
  retryRolloutSignal,
  revokeUpdate,
  statusQuery,
} from '../contracts/lifecycle-messages.js';
import { executeUpdateWithin, queryOrNull } from './workflow-calls.js';

export interface StartLifecycle {
  certificateId: string;
  teamName: string;
  commonName: string | null;
  input: LifecycleInput;
}

export async function startLifecycle(client: Client, taskQueue: string, start: StartLifecycle): Promise<string> {
  const workflowId = lifecycleWorkflowId(start.certificateId);
  await client.workflow.start<typeof certificateLifecycle>('certificateLifecycle', {
    workflowId,
    taskQueue,
    args: [start.input],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTE_KEYS.certificateId, value: start.certificateId },
      { key: SEARCH_ATTRIBUTE_KEYS.team, value: start.teamName },
      { key: SEARCH_ATTRIBUTE_KEYS.commonName, value: start.commonName ?? '' },
      { key: SEARCH_ATTRIBUTE_KEYS.certState, value: start.input.approval ? 'awaiting_approval' : 'pending' },
      { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 },
    ],
  });
  return workflowId;
}

export async function queryStatus(client: Client, workflowId: string): Promise<LifecycleStatus | null> {
  return queryOrNull(client, workflowId, statusQuery);
}

export async function signalRenewNow(client: Client, workflowId: string, request: RenewNowRequest): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(renewNowSignal, request);
}

/** Waits for the workflow to record the revocation; without a worker this ends in a 503, not a hang. */
export async function executeRevoke(client: Client, workflowId: string, request: RevokeRequest): Promise<RevokeResult> {
  return executeUpdateWithin(client, workflowId, revokeUpdate, request);
}

export async function signalRetryRollout(client: Client, workflowId: string): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(retryRolloutSignal);
}

/** Approve or reject through the workflow's validated update; returns once the decision is recorded. */
export async function executeDecision(
  client: Client,
  workflowId: string,
  decision: 'approve' | 'reject',
  request: ApprovalDecisionRequest,
): Promise<ApprovalDecisionResult> {
  const update = decision === 'approve' ? approveUpdate : rejectUpdate;
  return executeUpdateWithin(client, workflowId, update, request);
}

export { WorkflowExecutionAlreadyStartedError };
