/**
 * Runs a workflow step until it is done: an infrastructure failure (Postgres or Temporal down, a
 * timeout) is shown through `onFailure`, waited out (core/until-done.ts backoff) and retried, for
 * hours if need be; a business error (core/errors.ts) or a cancellation is thrown at once.
 * Used by bulkReissue, issuerCompromise and crlPublication, whose activities retry only a little
 * themselves (workflows/activity-options.ts UNTIL_DONE_PRESETS) so the workflow sees the failure.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, log, sleep, TimeoutFailure } from '@temporalio/workflow';
import { isRetriedUntilDone, untilDoneBackoffMs, type StepFailure } from '../core/until-done.js';

/** `onFailure(failure)` on each failed attempt, `onFailure(null)` once the step succeeded after failing. */
export type FailureListener = (failure: StepFailure | null) => void;

export async function untilDone<T>(step: string, run: () => Promise<T>, onFailure: FailureListener): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await run();
      if (attempt > 1) onFailure(null);
      return result;
    } catch (error) {
      if (isCancellation(error)) throw error;
      const failure = describeStepFailure(step, error, attempt);
      if (!isRetriedUntilDone(failure.type)) throw error;
      onFailure(failure);
      log.warn('step failed; retrying', { ...failure });
      await sleep(untilDoneBackoffMs(attempt));
    }
  }
}

export function describeStepFailure(step: string, error: unknown, attempt: number): StepFailure {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
  if (cause instanceof TimeoutFailure) {
    return { step, type: 'Timeout', message: cause.message || `${cause.timeoutType} timeout`, attempt, at: new Date(Date.now()).toISOString() };
  }
  const type = cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : cause instanceof Error ? cause.name : 'Error';
  const message = cause instanceof Error ? cause.message : String(cause);
  return { step, type, message, attempt, at: new Date(Date.now()).toISOString() };
}
