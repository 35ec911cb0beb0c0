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
  /**
   * Revocation: retried until done (never given up), at most 10 s apart, so it completes within
   * seconds of Postgres coming back; each failed attempt shows in the Temporal UI's pending activity.
   */
  revocation: { startToCloseTimeout: '30 seconds', retry: { ...INFRASTRUCTURE_RETRY, maximumInterval: '10 seconds', maximumAttempts: Number.POSITIVE_INFINITY } },
  /** Waiting for an agent's CSR: as long as it takes, heartbeating. */
  awaitCsr: { startToCloseTimeout: '1 hour', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: INFRASTRUCTURE_RETRY },
} as const satisfies Record<string, ActivityOptions>;

/** Waiting for an agent's deployment report, or for endpoints to serve a version: the wait plus a margin. */
export function waitingPreset(waitSeconds: number): ActivityOptions {
  return { startToCloseTimeout: `${waitSeconds + 60} seconds`, heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: INFRASTRUCTURE_RETRY };
}

/**
 * Local activities (the short renewal steps). A local activity holds its
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

/**
 * Presets of the workflows that retry every step until it is done (bulk reissue, the compromise
 * drill, CRL publication; workflows/until-done.ts): two quick attempts inside the activity, then the
 * workflow shows the failure as `lastError`, backs off and tries again, for as long as it takes.
 * Business errors fail at once.
 */
const UNTIL_DONE_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  maximumAttempts: 2,
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
};

export const UNTIL_DONE_PRESETS = {
  /** Postgres bookkeeping, and signalling or describing a window of lifecycle workflows. */
  records: { startToCloseTimeout: '15 seconds', retry: UNTIL_DONE_RETRY },
  /** Key generation and signing (the successor intermediate). */
  issuance: { startToCloseTimeout: '30 seconds', retry: UNTIL_DONE_RETRY },
  /** Revocations with their CRLs and OCSP responses, the drill's report, OCSP refresh batches. */
  publication: { startToCloseTimeout: '2 minutes', retry: UNTIL_DONE_RETRY },
} as const satisfies Record<string, ActivityOptions>;

/**
 * The bulk operation's collection of outcomes (one SELECT, a local activity): one short attempt, as
 * it holds the workflow task; a failure is shown and the next collection comes after a backoff.
 */
export const UNTIL_DONE_LOCAL_PRESETS = {
  collect: { startToCloseTimeout: '5 seconds', retry: { ...UNTIL_DONE_RETRY, maximumAttempts: 1 } },
} as const satisfies Record<string, LocalActivityOptions>;
