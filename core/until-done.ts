/**
 * Steps retried until they are done (bulk reissue, the issuer compromise drill, CRL publication):
 * the backoff between two attempts, which failures are worth retrying, and the failure shown while a
 * step is retried (`lastError`). Pure, so workflows use it.
 */
import { NON_RETRYABLE_ERROR_TYPES } from './errors.js';

/** A step that failed and is being retried: what the progress and status queries show as `lastError`. */
export interface StepFailure {
  /** The step being retried, e.g. `send-renewals`. */
  step: string;
  /** The error type: an ApplicationFailure type, an error name, or a timeout (`StartToCloseTimeout`). */
  type: string;
  message: string;
  /** Failed attempts of this step in a row (each one already retried inside the activity). */
  attempt: number;
  at: string;
}

/**
 * Wait after the n-th failed attempt: 2 s doubling, capped at 2 minutes. The cap keeps an outage of
 * hours to ~30 attempts an hour (a few hundred history events), and a recovered dependency is used
 * again within 2 minutes.
 */
export const UNTIL_DONE_BACKOFF = { firstMs: 2_000, maxMs: 120_000 } as const;

export function untilDoneBackoffMs(attempt: number): number {
  return Math.min(UNTIL_DONE_BACKOFF.firstMs * 2 ** Math.max(0, attempt - 1), UNTIL_DONE_BACKOFF.maxMs);
}

/** Business errors (core/errors.ts) end the step at once: retrying cannot make them succeed. */
export function isRetriedUntilDone(errorType: string): boolean {
  return !NON_RETRYABLE_ERROR_TYPES.includes(errorType);
}
