/**
 * issuerCompromise — workflow id `issuer-compromise/<issuerId>`: the issuer compromise drill. Marks
 * the intermediate compromised (nothing new is signed by it), creates its successor under the same
 * root, reissues everything under the old intermediate onto the successor through a bulkReissue
 * child (superseded versions revoked), revokes the old intermediate and publishes the CRLs, and
 * returns (and stores) a report: what was replaced, what failed and why, timings.
 *
 * Every step is retried until done (workflows/until-done.ts; the failure being retried shows as
 * `lastError` in the drillStatus query), so an outage of Postgres delays the drill and nothing else.
 * Every step is also idempotent on the issuer, so running the drill again after a business error (the
 * issuer is then `compromised`) picks up where it stopped: the same successor, a new bulk operation
 * for what is still under the old intermediate.
 */
import { executeChild, ParentClosePolicy, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { BulkOptions, BulkProgress, BulkSelector } from '../core/bulk.js';
import {
  compromiseBulkReason,
  secondsBetween,
  type CompromisePhase,
  type CompromiseReport,
  type IssuerCompromiseInput,
} from '../core/issuer-compromise.js';
import type { StepFailure } from '../core/until-done.js';
import { UNTIL_DONE_PRESETS } from './activity-options.js';
import { untilDone } from './until-done.js';
import { bulkWorkflowId } from '../contracts/bulk-messages.js';
import type { bulkReissue } from './bulk-reissue.js';
import { drillStatusQuery } from '../contracts/issuer-compromise-messages.js';

const { markIssuerCompromised, openCompromiseBulk } = proxyActivities<Activities>(UNTIL_DONE_PRESETS.records);
/** Key generation and signing by the root. */
const { createSuccessorIntermediate } = proxyActivities<Activities>(UNTIL_DONE_PRESETS.issuance);
/** Revocation with CRLs and OCSP, and the report over every item of the bulk operation. */
const { revokeCompromisedIssuer, buildCompromiseReport } = proxyActivities<Activities>(UNTIL_DONE_PRESETS.publication);

const now = () => new Date(Date.now()).toISOString();

export async function issuerCompromise(input: IssuerCompromiseInput): Promise<CompromiseReport> {
  const { issuerId } = input;
  const startedAt = now();
  let phase: CompromisePhase = 'marking';
  let successorId: string | null = null;
  let bulkId: string | null = null;
  let lastError: StepFailure | null = null;
  setHandler(drillStatusQuery, () => ({ issuerId, phase, successorId, bulkId, lastError }));
  const step = <T>(name: string, run: () => Promise<T>): Promise<T> => untilDone(name, run, (failure) => (lastError = failure));

  const marked = await step('mark-compromised', () => markIssuerCompromised({ issuerId, reason: input.reason, actor: input.requestedBy }));

  phase = 'creating_successor';
  const successor = await step('create-successor', () => createSuccessorIntermediate({ issuerId }));
  successorId = successor.successorId;

  phase = 'reissuing';
  const selector: BulkSelector = { issuerIds: [issuerId] };
  const options: BulkOptions = {
    reason: compromiseBulkReason(issuerId, input.reason),
    maxConcurrent: input.maxConcurrent,
    maxPerSecond: input.maxPerSecond,
    revokeSuperseded: true,
  };
  const drillRunId = workflowInfo().runId;
  const opened = await step('open-bulk', () => openCompromiseBulk({ issuerId, drillRunId, selector, options, createdBy: input.requestedBy }));
  bulkId = opened.bulkId;
  const reissueStartedAt = now();
  // The reissue retries its own steps until done (its progress query shows its lastError).
  const progress: BulkProgress = await executeChild<typeof bulkReissue>('bulkReissue', {
    workflowId: bulkWorkflowId(opened.bulkId),
    args: [{ bulkId: opened.bulkId, selector, options }],
    // A drill that is ended (cancelled, terminated) asks the reissue to stop, which then records its state.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
  });
  const reissueFinishedAt = now();

  // A cancelled reissue leaves certificates on the old intermediate: revoking it now would break
  // them, so the drill stops with the intermediate compromised (not revoked) and says so.
  const finished = progress.state === 'completed';
  let revokedAt: string | null = null;
  let crls: CompromiseReport['crls'] = [];
  if (finished) {
    phase = 'revoking';
    const revoked = await step('revoke-issuer', () => revokeCompromisedIssuer({ issuerId, actor: input.requestedBy }));
    revokedAt = revoked.revokedAt;
    crls = revoked.crls;
  }

  phase = 'reporting';
  const finishedAt = now();
  const reportInput = {
    issuerId,
    successorId: successor.successorId,
    bulkId: opened.bulkId,
    reason: input.reason,
    actor: input.requestedBy,
    outcome: finished ? ('completed' as const) : ('incomplete' as const),
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
  };
  const report = await step('build-report', () => buildCompromiseReport(reportInput));
  phase = 'done';
  return report;
}
