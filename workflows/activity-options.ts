/**
 * Activity option presets of the lifecycle workflow: explicit timeouts and retry policies. Business
 * errors (core/errors.ts) are never retried; infrastructure errors retry with capped backoff, and
 * when an activity gives up the workflow backs off and tries again (certificate-lifecycle.ts).
 * Timeouts are short where they can be: if a worker dies mid-activity the server retries it
 * elsewhere after startToCloseTimeout (or heartbeatTimeout), so this bounds the delay of a crash.
 */
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES, ROLLOUT_ERROR_TYPES } from '../core/errors.js';

const INFRASTRUCTURE_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ...Object.values(ROLLOUT_ERROR_TYPES)],
};

/** Waiting activities heartbeat at least this often; a silent one is retried on another worker. */
const HEARTBEAT_TIMEOUT = '30 seconds';

export const ACTIVITY_PRESETS = {
  /** Signing; RSA-4096 key generation is the slowest part (a few seconds on a busy 2-core machine). */
  issuance: { startToCloseTimeout: '20 seconds', retry: INFRASTRUCTURE_RETRY },
  /** Writing files or POSTing a webhook. */
  delivery: { startToCloseTimeout: '30 seconds', retry: INFRASTRUCTURE_RETRY },
  /** Postgres-only bookkeeping: approvals, audit, reports, revocation. */
  records: { startToCloseTimeout: '15 seconds', retry: INFRASTRUCTURE_RETRY },
  /** Waiting for an agent's CSR: as long as it takes, heartbeating. */
  awaitCsr: { startToCloseTimeout: '1 hour', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: INFRASTRUCTURE_RETRY },
} as const satisfies Record<string, ActivityOptions>;

/** Waiting for an agent's deployment report, or for endpoints to serve a version: the wait plus a margin. */
export function waitingPreset(waitSeconds: number): ActivityOptions {
  return { startToCloseTimeout: `${waitSeconds + 60} seconds`, heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: INFRASTRUCTURE_RETRY };
}

/**
 * Local activities (renewal steps of runs with the lean-renewal patch). A local activity holds its
 * workflow task, and a status query waits for that task, so these stay short: one retry inside
 * the task, then the workflow's own backoff takes over (visible as lastError and RenewalAttempt).
 * If the worker dies mid-step the task times out and another worker runs the step again (the steps
 * are idempotent).
 */
const LOCAL_RETRY: RetryPolicy = { ...INFRASTRUCTURE_RETRY, maximumAttempts: 2 };

export const LOCAL_PRESETS = {
  issuance: { startToCloseTimeout: ACTIVITY_PRESETS.issuance.startToCloseTimeout, retry: LOCAL_RETRY },
  delivery: { startToCloseTimeout: ACTIVITY_PRESETS.delivery.startToCloseTimeout, retry: LOCAL_RETRY },
  records: { startToCloseTimeout: ACTIVITY_PRESETS.records.startToCloseTimeout, retry: LOCAL_RETRY },
  /** One round of TLS probes (at most a few seconds); a longer wait goes to the heartbeating activity. */
  firstProbe: { startToCloseTimeout: '30 seconds', retry: LOCAL_RETRY },
} as const satisfies Record<string, LocalActivityOptions>;
