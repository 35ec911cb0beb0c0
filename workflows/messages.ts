/**
 * Signals, queries and updates of the lifecycle workflow, defined once and
 * imported by both the workflow and the API.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { LifecycleStatus, RenewNowRequest, RevokeRequest, RevokeResult } from '../core/lifecycle.js';

export const renewNowSignal = defineSignal<[RenewNowRequest]>('renewNow');
export const revokeUpdate = defineUpdate<RevokeResult, [RevokeRequest]>('revoke');
export const statusQuery = defineQuery<LifecycleStatus>('status');


export function lifecycleWorkflowId(certificateId: string): string {
  return `certificate/${certificateId}`;
}

export const LIFECYCLE_TASK_QUEUE = 'certflow-lifecycle';
