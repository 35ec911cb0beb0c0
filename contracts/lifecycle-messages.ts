/**
 * Signals, queries and updates of the lifecycle workflow, defined once and
 * imported by both the workflow and the API.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  ApprovalDecisionRequest,
  ApprovalDecisionResult,
  LifecycleStatus,
  RenewNowRequest,
  RevokeRequest,
  RevokeResult,
} from '../core/lifecycle.js';

export const renewNowSignal = defineSignal<[RenewNowRequest]>('renewNow');
export const revokeUpdate = defineUpdate<RevokeResult, [RevokeRequest]>('revoke');
export const statusQuery = defineQuery<LifecycleStatus>('status');
export const approveUpdate = defineUpdate<ApprovalDecisionResult, [ApprovalDecisionRequest]>('approve');
export const rejectUpdate = defineUpdate<ApprovalDecisionResult, [ApprovalDecisionRequest]>('reject');
/** Retries a failed rollout now instead of at the next scheduled retry. */
export const retryRolloutSignal = defineSignal<[]>('retryRollout');


export function lifecycleWorkflowId(certificateId: string): string {
  return `certificate/${certificateId}`;
}

export const LIFECYCLE_TASK_QUEUE = 'certflow-lifecycle';
