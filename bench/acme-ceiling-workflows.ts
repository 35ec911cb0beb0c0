/**
 * The ceiling of the ACME benchmark (bench/acme.ts): a workflow of the lifecycle's shape on its issuing
 * path, doing nothing else. Started like a certificate's lifecycle (its five search attributes), it
 * upserts its state, runs one local activity that answers a version summary (issueCertificate's
 * place), upserts again (issuerId, notAfter, state) and ends where the lifecycle would set its renewal
 * timer. Workflow code: bundled by the Temporal worker, only @temporalio/workflow and core/.
 */
import { proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import type { VersionSummary } from '../core/types.js';

export interface CeilingActivities {
  ceilingIssue(input: { certificateId: string; generation: number }): Promise<VersionSummary>;
}

const { ceilingIssue } = proxyLocalActivities<CeilingActivities>({ startToCloseTimeout: '20 seconds', retry: { maximumAttempts: 2 } });

export async function ceilingIssuance(input: { certificateId: string }): Promise<VersionSummary> {
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTE_KEYS.certState, value: 'pending' },
    { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 },
    { key: SEARCH_ATTRIBUTE_KEYS.certStateSince, value: new Date(Date.now()) },
  ]);
  const version = await ceilingIssue({ certificateId: input.certificateId, generation: 1 });
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTE_KEYS.certState, value: 'active' },
    { key: SEARCH_ATTRIBUTE_KEYS.certStateSince, value: new Date(Date.now()) },
    { key: SEARCH_ATTRIBUTE_KEYS.issuerId, value: version.issuerId },
    { key: SEARCH_ATTRIBUTE_KEYS.notAfter, value: new Date(version.notAfter) },
  ]);
  return version;
}
