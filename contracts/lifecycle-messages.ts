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
} from '../core/lifecycle.js';

export const renewNowSignal = defineSignal<[RenewNowRequest]>('renewNow');
/**
 * Revokes the certificate: a signal, so the request is durable as soon as the server has it (no
 * worker needed); the run cancels whatever it waits on and revokes, retried until done.
 */
export const revokeSignal = defineSignal<[RevokeRequest]>('revoke');
export const statusQuery = defineQuery<LifecycleStatus>('status');
export const approveUpdate = defineUpdate<ApprovalDecisionResult, [ApprovalDecisionRequest]>('approve');
export const rejectUpdate = defineUpdate<ApprovalDecisionResult, [ApprovalDecisionRequest]>('reject');
/** Retries a failed rollout now instead of at the next scheduled retry. */
export const retryRolloutSignal = defineSignal<[]>('retryRollout');


export function lifecycleWorkflowId(certificateId: string): string {
  return `certificate/${certificateId}`;
}

export const LIFECYCLE_TASK_QUEUE = 'certflow-lifecycle';
