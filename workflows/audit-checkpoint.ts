/**
 * auditCheckpoint — started by the Temporal Schedule `audit-checkpoint` (cmd/audit-schedule.ts) every
 * minute: seals the audit chain's head so deleting the newest rows is detected (docs/security.md).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AuditCheckpointResult } from '../activities/audit-checkpoint.js';
import { UNTIL_DONE_PRESETS } from './activity-options.js';

const { checkpointAudit } = proxyActivities<Activities>(UNTIL_DONE_PRESETS.records);

export async function auditCheckpoint(): Promise<AuditCheckpointResult | null> {
  return checkpointAudit();
}
