/**
 * The API's narrow view of the lifecycle workflows: start, signal, update, query (queries and
 * updates with deadlines, api/workflow-calls.ts).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type {
  ApprovalDecisionRequest,
  ApprovalDecisionResult,
  LifecycleInput,
  LifecycleStatus,
  RenewNowRequest,
  RevokeRequest,
} from '../core/lifecycle.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import type { certificateLifecycle } from '../workflows/certificate-lifecycle.js';
import {
  approveUpdate,
  lifecycleWorkflowId,
  rejectUpdate,
  renewNowSignal,
  retryRolloutSignal,
  revokeSignal,
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
    // A certificate's lifecycle starts once: a retried create whose first run has closed (revoked,
    // rejected) must not start another; "already started" counts as started.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: startAttributes(start),
  });
  return workflowId;
}

/** How long the API waits for Temporal to take a revocation before it answers 503 (nothing accepted). */
const REVOKE_SIGNAL_DEADLINE_MS = 10_000;

/**
 * Hands the revocation to the certificate's workflow: durable once this returns. If the
 * certificate's run has closed (failed, terminated), a run that only revokes is started instead.
 */
export async function signalRevoke(client: Client, taskQueue: string, start: StartLifecycle, request: RevokeRequest): Promise<void> {
  await client.connection.withDeadline(Date.now() + REVOKE_SIGNAL_DEADLINE_MS, () =>
    client.workflow.signalWithStart<typeof certificateLifecycle, [RevokeRequest]>('certificateLifecycle', {
      workflowId: lifecycleWorkflowId(start.certificateId),
      taskQueue,
      args: [{ ...start.input, revokeOnStart: request }],
      signal: revokeSignal,
      signalArgs: [request],
      typedSearchAttributes: startAttributes(start),
    }),
  );
}

function startAttributes(start: StartLifecycle): SearchAttributePair[] {
  return [
    { key: SEARCH_ATTRIBUTE_KEYS.certificateId, value: start.certificateId },
    { key: SEARCH_ATTRIBUTE_KEYS.team, value: start.teamName },
    { key: SEARCH_ATTRIBUTE_KEYS.commonName, value: start.commonName ?? '' },
    { key: SEARCH_ATTRIBUTE_KEYS.certState, value: start.input.revokeOnStart ? 'revoking' : start.input.approval ? 'awaiting_approval' : 'pending' },
    { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 },
  ];
}

export async function queryStatus(client: Client, workflowId: string): Promise<LifecycleStatus | null> {
  return queryOrNull(client, workflowId, statusQuery);
}

export async function signalRenewNow(client: Client, workflowId: string, request: RenewNowRequest): Promise<void> {
  await client.workflow.getHandle(workflowId).signal(renewNowSignal, request);
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
