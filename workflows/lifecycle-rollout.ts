/**
 * Rollout: deliver a version to every destination, verify it is served where endpoints are named,
 * roll a destination that does not serve it back to the previous version, and retry failed
 * destinations later (or on `retryRollout`). Bulk operations waiting for the renewal hear how the
 * first round ended.
 */
import { condition, isCancellation, log } from '@temporalio/workflow';
import { ROLLOUT_ERROR_TYPES } from '../core/errors.js';
import { bulkOutcomeOf, describeRolloutFailures } from '../core/lifecycle-steps.js';
import { DEFAULT_ROLLOUT_RETRY_SECONDS, type DestinationPlan, type RolloutFailure } from '../core/lifecycle.js';
import type { VersionSummary } from '../core/types.js';
import { lifecycleActivities, localActivities, waitingActivities } from './lifecycle-activities.js';
import { reportToBulk } from './lifecycle-bulk-report.js';
import type { LifecycleRun } from './lifecycle-run.js';
import { describeStepFailure } from './until-done.js';

/** Delivery outcomes that fail the rollout of a destination (roll back, retry later) rather than the step. */
const ROLLOUT_FAILURES: readonly string[] = Object.values(ROLLOUT_ERROR_TYPES);

/** Rolls `version` out until every destination serves it; 'renew' when a renewal was asked for meanwhile. */
export async function rollOut(run: LifecycleRun, version: VersionSummary, previous: VersionSummary | null): Promise<'done' | 'renew'> {
  const { certificateId, input } = run;
  const plans = input.destinations;
  let pending = plans.map((_, index) => index);
  for (let round = 1; ; round++) {
    const failures: RolloutFailure[] = [];
    for (const index of pending) {
      const failure = await rollOutTo(run, index, plans[index]!, version, previous, round);
      if (failure) failures.push(failure);
    }
    run.status.rolloutFailures = failures;
    const { outcome, reason } = bulkOutcomeOf(plans, failures);
    await reportToBulk(run, outcome, reason);
    const rolloutKey = `g${input.generation}/rollout/${round}`;
    if (failures.length === 0) {
      if (round > 1) await run.untilDone('deliver', () => lifecycleActivities.reportRolloutRecovered({ certificateId, versionId: version.versionId, rolloutKey }));
      return 'done';
    }
    run.status.lastError = { type: 'RolloutFailed', message: describeRolloutFailures(failures), at: new Date(Date.now()).toISOString(), attempt: round };
    await run.untilDone('rollback', () =>
      lifecycleActivities.reportRolloutFailed({ certificateId, versionId: version.versionId, rolloutKey, failures, previousVersionId: previous?.versionId ?? null }),
    );
    const retryMs = (input.rolloutRetrySeconds ?? DEFAULT_ROLLOUT_RETRY_SECONDS) * 1000;
    run.status.nextRetryAt = new Date(Date.now() + retryMs).toISOString();
    run.inbox = { ...run.inbox, retryRollout: false };
    run.setState('rollout_failed', 'wait-for-rollout-retry');
    await condition(() => run.inbox.retryRollout || run.inbox.renewNext !== null, retryMs);
    run.status.nextRetryAt = null;
    if (run.inbox.renewNext) return 'renew';
    pending = failures.map((failure) => failure.destinationIndex);
    run.setState(run.workingState, 'deliver');
  }
}

async function rollOutTo(run: LifecycleRun, index: number, plan: DestinationPlan, version: VersionSummary, previous: VersionSummary | null, round: number): Promise<RolloutFailure | null> {
  const target = { certificateId: run.certificateId, destinationIndex: index };
  // Files are written locally; a webhook (the network) or an agent (waiting for its report) is an ordinary activity.
  const deliver =
    plan.type === 'agent' ? waitingActivities(plan.reportTimeoutSeconds ?? 600).deliverVersion : plan.type === 'file' ? localActivities.deliverToFiles : lifecycleActivities.deliverVersion;
  const deliverOrFailure = async (versionId: string, rolloutKey: string, purpose: 'rollout' | 'rollback'): Promise<string | null> => {
    try {
      await run.untilDone(purpose === 'rollout' ? 'deliver' : 'rollback', () => deliver({ ...target, versionId, rolloutKey, purpose }), { passThrough: ROLLOUT_FAILURES });
      return null;
    } catch (error) {
      if (isCancellation(error)) throw error;
      return describeStepFailure(purpose, error, 1).message;
    }
  };

  let reason = await deliverOrFailure(version.versionId, `g${run.input.generation}/rollout/${round}`, 'rollout');
  if (reason === null && plan.verify) {
    const request = { ...target, versionId: version.versionId, rolloutKey: `g${run.input.generation}/rollout/${round}` };
    // One local probe is usually enough right after delivery; otherwise a heartbeating activity waits (and decides).
    const firstProbe = await localActivities.firstProbe({ ...request, firstRoundOnly: true }).catch((error: unknown) => {
      if (isCancellation(error)) throw error;
      return null;
    });
    const verifyServed = waitingActivities(plan.verifyTimeoutSeconds ?? 300).verifyServed;
    const outcome = firstProbe?.served ? firstProbe : await run.untilDone('verify', () => verifyServed(request));
    if (!outcome.served) reason = outcome.detail;
  }
  if (reason === null) return null;
  log.warn('rollout failed; rolling back', { certificateId: run.certificateId, destinationIndex: index, reason });
  if (previous) {
    const rollbackFailure = await deliverOrFailure(previous.versionId, `g${run.input.generation}/rollback/${round}`, 'rollback');
    if (rollbackFailure) reason += `; the rollback to the previous certificate also failed: ${rollbackFailure}`;
  }
  return { destinationIndex: index, reason, at: new Date(Date.now()).toISOString() };
}
