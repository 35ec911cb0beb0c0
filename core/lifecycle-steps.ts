/**
 * The decisions of a lifecycle run that are not about messages (core/lifecycle-inbox.ts): the
 * first status, what a failed step leads to, what a rollout round reports, and the next run's input.
 */
import type { BulkOutcome } from './bulk.js';
import { NON_RETRYABLE_ERROR_TYPES } from './errors.js';
import { retryBackoffMs, type DestinationPlan, type LifecycleInput, type LifecycleStatus, type RolloutFailure } from './lifecycle.js';
import type { CertState, VersionSummary } from './types.js';

/** The state of a run that is issuing: the first generation is `issuing`, a renewal `renewing`. */
export function workingState(input: LifecycleInput): CertState {
  return input.generation === 1 ? 'issuing' : 'renewing';
}

export function initialStatus(input: LifecycleInput, now: Date): LifecycleStatus {
  return {
    certificateId: input.certificateId,
    state: input.revokeOnStart ? 'revoking' : workingState(input),
    generation: input.generation,
    pendingStep: input.revokeOnStart ? 'revoke' : 'issue',
    currentVersion: input.currentVersion ?? null,
    nextRenewalAt: null,
    nextRetryAt: null,
    attempt: 0,
    lastError: null,
    revokedAt: null,
    stateSince: now.toISOString(),
    approval: null,
    rolloutFailures: [],
  };
}

export type FailureDecision =
  /** A business error: retrying cannot help until someone changes the request or the policy. */
  | { kind: 'wait-for-operator' }
  /** An infrastructure error: wait, then try the step again. */
  | { kind: 'backoff'; ms: number };

/** What a step's failure (after the activity's own retries) leads to, by its error type and attempt. */
export function afterFailure(errorType: string, attempt: number, backoffCapMs?: number): FailureDecision {
  if (NON_RETRYABLE_ERROR_TYPES.includes(errorType)) return { kind: 'wait-for-operator' };
  const ms = retryBackoffMs(attempt);
  return { kind: 'backoff', ms: backoffCapMs === undefined ? ms : Math.min(ms, backoffCapMs) };
}

/** How a renewal went for the bulk operations waiting for it, from a rollout round. */
export function bulkOutcomeOf(plans: readonly DestinationPlan[], failures: readonly RolloutFailure[]): { outcome: BulkOutcome; reason: string | null } {
  if (failures.length > 0) return { outcome: 'failed', reason: describeRolloutFailures(failures) };
  if (plans.length === 0) return { outcome: 'reissued', reason: null };
  return { outcome: plans.some((plan) => plan.verify) ? 'verified' : 'rolled_out', reason: null };
}

export function describeRolloutFailures(failures: readonly RolloutFailure[]): string {
  return failures.map((failure) => `destination #${failure.destinationIndex}: ${failure.reason}`).join('; ');
}

/** The input of the run that issues the next generation. */
export function nextRunInput(input: LifecycleInput, currentVersion: VersionSummary | null, renewal: { reason: string; bulkIds: string[] } | null): LifecycleInput {
  return {
    ...input,
    generation: input.generation + 1,
    currentVersion,
    renewalReason: renewal?.reason ?? 'scheduled renewal',
    approval: null,
    bulkOperationIds: renewal?.bulkIds ?? [],
    revokeOnStart: null,
  };
}
