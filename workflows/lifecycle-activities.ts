/** The activities of the lifecycle workflow, each with its option preset (workflows/activity-options.ts). */
import { proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { signingTaskQueue } from '../core/signing-queue.js';
import { ACTIVITY_PRESETS, LOCAL_PRESETS, waitingPreset } from './activity-options.js';

const records = proxyActivities<Activities>(ACTIVITY_PRESETS.records);

export const lifecycleActivities = {
  // A proxy has no own keys to spread: each activity is named.
  openApproval: records.openApproval,
  escalateApproval: records.escalateApproval,
  recordApprovalDecision: records.recordApprovalDecision,
  reportRolloutFailed: records.reportRolloutFailed,
  reportRolloutRecovered: records.reportRolloutRecovered,
  requestClientRenewal: records.requestClientRenewal,
  markRenewalOverdue: records.markRenewalOverdue,
  reportRenewalFailing: records.reportRenewalFailing,
  revokeCertificate: proxyActivities<Activities>(ACTIVITY_PRESETS.revocation).revokeCertificate,
  awaitAgentCsr: proxyActivities<Activities>(ACTIVITY_PRESETS.awaitCsr).awaitAgentCsr,
  /** Over the network (webhooks): an ordinary activity. */
  deliverVersion: proxyActivities<Activities>(ACTIVITY_PRESETS.delivery).deliverVersion,
};

/**
 * Short steps run as local activities inside the workflow task: a renewal costs the server one task
 * instead of several. A local activity holds the task (and so a status query), so these stay short.
 */
export const localActivities = {
  issueCertificate: proxyLocalActivities<Activities>(LOCAL_PRESETS.issuance).issueCertificate,
  deliverToFiles: proxyLocalActivities<Activities>(LOCAL_PRESETS.delivery).deliverVersion,
  firstProbe: proxyLocalActivities<Activities>(LOCAL_PRESETS.firstProbe).verifyServed,
  recordBulkOutcome: proxyLocalActivities<Activities>(LOCAL_PRESETS.records).recordBulkOutcome,
};

/** Activities that wait for something outside (an agent's report, endpoints serving a version), heartbeating. */
export function waitingActivities(waitSeconds: number) {
  return proxyActivities<Activities>(waitingPreset(waitSeconds));
}

/** Signing, on the rate-limited signing task queue (core/signing-queue.ts). */
export function signingActivities() {
  return proxyActivities<Pick<Activities, 'issueCertificate'>>({ ...ACTIVITY_PRESETS.issuance, taskQueue: signingTaskQueue(workflowInfo().taskQueue) });
}
