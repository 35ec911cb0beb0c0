/**
 * issuerCompromise — workflow id `issuer-compromise/<issuerId>`: the issuer compromise drill. Marks
 * the intermediate compromised (nothing new is signed by it), creates its successor under the same
 * root, reissues everything under the old intermediate onto the successor through a bulkReissue
 * child (superseded versions revoked), revokes the old intermediate and publishes the CRLs, and
 * returns (and stores) a report: what was replaced, what failed and why, timings.
 *
 * Every step is idempotent on the issuer, so running the drill again after a failure (the issuer
 * is then `compromised`) picks up where it stopped: the same successor, a new bulk operation for
 * what is still under the old intermediate.
 */
import { executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { BulkOptions, BulkProgress, BulkSelector } from '../core/bulk.js';
import {
  compromiseBulkReason,
  secondsBetween,
  type CompromisePhase,
  type CompromiseReport,
  type IssuerCompromiseInput,
} from '../core/issuer-compromise.js';
import { ACTIVITY_PRESETS } from './activity-options.js';
import { bulkWorkflowId } from '../contracts/bulk-messages.js';
import type { bulkReissue } from './bulk-reissue.js';
import { drillStatusQuery } from '../contracts/issuer-compromise-messages.js';

const { markIssuerCompromised, openCompromiseBulk, revokeCompromisedIssuer, buildCompromiseReport } = proxyActivities<Activities>(ACTIVITY_PRESETS.records);
/** Key generation and signing by the root: the issuance preset's timeouts. */
const { createSuccessorIntermediate } = proxyActivities<Activities>(ACTIVITY_PRESETS.issuance);

const now = () => new Date(Date.now()).toISOString();

export async function issuerCompromise(input: IssuerCompromiseInput): Promise<CompromiseReport> {
  const { issuerId } = input;
  const startedAt = now();
  let phase: CompromisePhase = 'marking';
  let successorId: string | null = null;
  let bulkId: string | null = null;
  setHandler(drillStatusQuery, () => ({ issuerId, phase, successorId, bulkId }));

  const marked = await markIssuerCompromised({ issuerId, reason: input.reason, actor: input.requestedBy });

  phase = 'creating_successor';
  const successor = await createSuccessorIntermediate({ issuerId });
  successorId = successor.successorId;

  phase = 'reissuing';
  const selector: BulkSelector = { issuerIds: [issuerId] };
  const options: BulkOptions = {
    reason: compromiseBulkReason(issuerId, input.reason),
    maxConcurrent: input.maxConcurrent,
    maxPerSecond: input.maxPerSecond,
    revokeSuperseded: true,
  };
  const opened = await openCompromiseBulk({ issuerId, drillRunId: workflowInfo().runId, selector, options, createdBy: input.requestedBy });
  bulkId = opened.bulkId;
  const reissueStartedAt = now();
  const progress: BulkProgress = await executeChild<typeof bulkReissue>('bulkReissue', {
    workflowId: bulkWorkflowId(opened.bulkId),
    args: [{ bulkId: opened.bulkId, selector, options }],
  });
  const reissueFinishedAt = now();

  // A cancelled reissue leaves certificates on the old intermediate: revoking it now would break
  // them, so the drill stops with the intermediate compromised (not revoked) and says so.
  const finished = progress.state === 'completed';
  let revokedAt: string | null = null;
  let crls: CompromiseReport['crls'] = [];
  if (finished) {
    phase = 'revoking';
    const revoked = await revokeCompromisedIssuer({ issuerId, actor: input.requestedBy });
    revokedAt = revoked.revokedAt;
    crls = revoked.crls;
  }

  phase = 'reporting';
  const finishedAt = now();
  const report = await buildCompromiseReport({
    issuerId,
    successorId: successor.successorId,
    bulkId: opened.bulkId,
    reason: input.reason,
    actor: input.requestedBy,
    outcome: finished ? 'completed' : 'incomplete',
    bulkCounts: progress.counts,
    crls,
    timings: {
      startedAt,
      markedAt: marked.markedAt,
      successorAt: successor.createdAt,
      reissueStartedAt,
      reissueFinishedAt,
      revokedAt,
      finishedAt,
      totalSeconds: secondsBetween(startedAt, finishedAt),
    },
  });
  phase = 'done';
  return report;
}
