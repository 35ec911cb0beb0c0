/**
 * One page of the inventory sweep (the `inventorySweep` workflow, a Temporal Schedule): for each
 * certificate, ask Temporal whether its lifecycle runs, decide (core/inventory-sweep.ts), and carry
 * the decision out — restart the lifecycle at its current generation (idempotent: the start is a
 * no-op when one runs, and issuance returns the version already recorded), or alert the team when
 * a restart is not safe; and announce an expiry threshold when no renewal will come in time. Every
 * restart, alert and notice is in the audit log; notices are deduplicated per version and threshold.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { lifecycleWorkflowId, statusQuery } from '../contracts/lifecycle-messages.js';
import { destinationPlans } from '../core/destination-plans.js';
import { decideSweep, type SweepFacts } from '../core/inventory-sweep.js';
import { daysLeft } from '../core/notifications.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { CERTIFICATE_SOURCES } from '../core/types.js';
import { appendAuditEvent } from '../db/audit.js';
import { findCertificate } from '../db/certificates.js';
import { selectSweepPage, type SweepCandidate } from '../db/inventory-sweep.js';
import { enqueueNotification } from '../db/notifications.js';
import type { ActivityDeps } from './deps.js';

export const SWEEP_PAGE_SIZE = 100;
/** Temporal describes at once (the sweep must not crowd out the lifecycles it checks). */
const DESCRIBE_CONCURRENCY = 8;

export interface SweepPageInput {
  after: string | null;
  /** Sweep one team only (an operator's targeted run); absent: every team. */
  teamId?: string;
  /** Names this sweep in the audit log's dedupe keys (the workflow id of the run). */
  sweepId: string;
}

export interface SweepCounts {
  checked: number;
  restarted: number;
  alerted: number;
  expiryNotices: number;
  /** Temporal did not answer for these: nothing was decided about them this time. */
  unknown: number;
}

export interface SweepPageResult {
  counts: SweepCounts;
  /** The last id of this page; null when the sweep is done. */
  next: string | null;
}

export function emptySweepCounts(): SweepCounts {
  return { checked: 0, restarted: 0, alerted: 0, expiryNotices: 0, unknown: 0 };
}

export async function sweepInventoryPage(deps: ActivityDeps, input: SweepPageInput): Promise<SweepPageResult> {
  const page = await selectSweepPage(deps.db, { after: input.after, limit: SWEEP_PAGE_SIZE, ...(input.teamId ? { teamId: input.teamId } : {}) });
  const counts = emptySweepCounts();
  const taskQueue = Context.current().info.taskQueue;
  for (let index = 0; index < page.length; index += DESCRIBE_CONCURRENCY) {
    await Promise.all(page.slice(index, index + DESCRIBE_CONCURRENCY).map((candidate) => sweepOne(deps, candidate, input.sweepId, taskQueue, counts)));
    Context.current().heartbeat();
  }
  return { counts, next: page.length === SWEEP_PAGE_SIZE ? page.at(-1)!.id : null };
}

async function sweepOne(deps: ActivityDeps, candidate: SweepCandidate, sweepId: string, taskQueue: string, counts: SweepCounts): Promise<void> {
  const managed = (CERTIFICATE_SOURCES as readonly string[]).includes(candidate.source) && candidate.workflowId !== null;
  const facts: SweepFacts = {
    certificateId: candidate.id,
    state: candidate.state,
    managed,
    keySource: candidate.keySource,
    renewBeforeSeconds: candidate.renewBeforeSeconds,
    version: candidate.version,
    workflow: managed ? await describeLifecycle(deps, candidate.workflowId!) : { kind: 'not_found' },
  };
  counts.checked++;
  if (facts.workflow.kind === 'unknown') counts.unknown++;
  const now = deps.now();
  const decision = decideSweep(facts, now);
  if (decision.action.kind === 'restart' && facts.workflow.kind === 'closed') {
    const ended = await endedRevoked(deps, candidate.workflowId!);
    // A lifecycle that ended revoked while the database says otherwise: the database is older (restored from a
    // backup). A restart would serve the revoked certificate again; a revocation always wins.
    if (ended === 'unknown') decision.action = { kind: 'none' };
    else if (ended) decision.action = { kind: 'alert', reason: 'its lifecycle ended revoked but the database does not say so (restored from an older backup?): run certflow reconcile (docs/operations.md §11)' };
  }
  if (decision.action.kind === 'restart' && !(await stillAsSeen(deps, candidate))) {
    // Changed since the page was read (a revocation, a renewal): the next sweep decides on what it is then.
  } else if (decision.action.kind === 'restart') {
    await restartLifecycle(deps, candidate, taskQueue);
    await audit(deps, candidate, 'sweep.lifecycle_restarted', { sweepId, workflowId: candidate.workflowId, generation: candidate.version?.generation, was: facts.workflow.kind }, `${sweepId}/${candidate.id}/restarted`);
    counts.restarted++;
  } else if (decision.action.kind === 'alert') {
    const reason = decision.action.reason;
    await audit(deps, candidate, 'sweep.lifecycle_not_running', { sweepId, state: candidate.state, reason }, `${sweepId}/${candidate.id}/not-running`);
    await enqueueNotification(deps.db, {
      teamId: candidate.teamId,
      certificateId: candidate.id,
      kind: 'lifecycle_not_running',
      recipients: ['team'],
      message: `certificate ${candidate.id} (${candidate.commonName ?? 'no common name'}) has no running lifecycle and was not restarted: ${reason}`,
      details: { state: candidate.state, reason },
      // Once per state it was found in: a certificate left alone is not announced every hour.
      dedupeKey: `${candidate.id}/not-running/${candidate.state}/${candidate.version?.id ?? 'none'}`,
    });
    counts.alerted++;
  }
  if (decision.expiryNotice !== null && candidate.version) {
    const days = decision.expiryNotice;
    const notAfter = candidate.version.notAfter.toISOString();
    const left = daysLeft(candidate.version.notAfter, now);
    const dedupeKey = `${candidate.version.id}/expiry/${days}d`;
    await enqueueNotification(deps.db, {
      teamId: candidate.teamId,
      certificateId: candidate.id,
      kind: 'expiry_warning',
      recipients: ['team'],
      message: `certificate ${candidate.id} (${candidate.commonName ?? 'no common name'}, serial ${candidate.version.serial}) expires at ${notAfter}, in ${left} day(s), and no renewal is working (state ${facts.workflow.kind === 'running' ? (facts.workflow.certState ?? candidate.state) : candidate.state}, lifecycle ${facts.workflow.kind})`,
      details: { thresholdDays: days, daysLeft: left, notAfter, versionId: candidate.version.id, serial: candidate.version.serial },
      dedupeKey,
    });
    await audit(deps, candidate, 'sweep.expiry_warning', { sweepId, thresholdDays: days, notAfter, versionId: candidate.version.id }, dedupeKey);
    counts.expiryNotices++;
  }
}

/** Whether a closed lifecycle ended revoked (its `status` query answers after the run closed). */
async function endedRevoked(deps: ActivityDeps, workflowId: string): Promise<boolean | 'unknown'> {
  try {
    const status = await deps.temporal.workflow.getHandle(workflowId).query(statusQuery);
    return status.state === 'revoked' || status.revokedAt !== null;
  } catch {
    return 'unknown';
  }
}

async function describeLifecycle(deps: ActivityDeps, workflowId: string): Promise<SweepFacts['workflow']> {
  try {
    const description = await deps.temporal.workflow.getHandle(workflowId).describe();
    if (description.status.name !== 'RUNNING') return { kind: 'closed' };
    const attributes = description.typedSearchAttributes;
    return {
      kind: 'running',
      certState: attributes.get(SEARCH_ATTRIBUTE_KEYS.certState) ?? null,
      attempt: attributes.get(SEARCH_ATTRIBUTE_KEYS.renewalAttempt) ?? 0,
    };
  } catch (error) {
    return error instanceof WorkflowNotFoundError ? { kind: 'not_found' } : { kind: 'unknown' };
  }
}

/**
 * Starts the lifecycle at the current version's generation. `USE_EXISTING` makes a start that
 * races another (a second sweep, the API) a no-op; the closed run's id may be reused.
 */
/**
 * Re-read right before a restart: a certificate revoked (or renewed) since its page was read must
 * not get a lifecycle started on the old facts; a revocation always wins.
 */
async function stillAsSeen(deps: ActivityDeps, candidate: SweepCandidate): Promise<boolean> {
  const current = await findCertificate(deps.db, candidate.id);
  return current !== null && current.state === candidate.state && current.currentVersionId === (candidate.version?.id ?? null);
}

export async function restartLifecycle(deps: ActivityDeps, candidate: SweepCandidate, taskQueue: string): Promise<void> {
  const version = candidate.version!;
  await deps.temporal.workflow.start('certificateLifecycle', {
    workflowId: candidate.workflowId ?? lifecycleWorkflowId(candidate.id),
    taskQueue,
    args: [
      {
        certificateId: candidate.id,
        generation: version.generation,
        currentVersion: null,
        renewalReason: 'restarted by the inventory sweep',
        renewBeforeSeconds: candidate.renewBeforeSeconds,
        destinations: destinationPlans(candidate.destinations),
        keySource: candidate.keySource,
        approval: null,
      },
    ],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTE_KEYS.certificateId, value: candidate.id },
      { key: SEARCH_ATTRIBUTE_KEYS.team, value: candidate.teamName },
      { key: SEARCH_ATTRIBUTE_KEYS.commonName, value: candidate.commonName ?? '' },
      { key: SEARCH_ATTRIBUTE_KEYS.certState, value: candidate.state },
      { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 },
    ],
  });
}

async function audit(deps: ActivityDeps, candidate: SweepCandidate, action: string, details: Record<string, unknown>, dedupeKey: string): Promise<void> {
  await appendAuditEvent(deps.db, { at: deps.now(), actor: 'inventory-sweep', action, teamId: candidate.teamId, certificateId: candidate.id, details, dedupeKey });
}
