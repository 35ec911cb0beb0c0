/**
 * Activities wrapped with the worker's metrics (metrics/worker-metrics.ts): the wrapper times and counts,
 * the activity itself is unchanged. Without metrics (tests, the CLI) the activity runs as is.
 */
import { ApplicationFailure } from '@temporalio/common';
import { failureReasonLabel } from '../core/metrics-labels.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';

/** The reason label of an activity failure: its ApplicationFailure type when it has one. */
export function failureReasonOf(error: unknown): string {
  return failureReasonLabel(error instanceof ApplicationFailure ? error.type : null);
}

/** Issuance of `generation` (1: first, later: a renewal): duration, and renewal started/succeeded/failed. */
export async function observeIssuance<T>(metrics: WorkerMetrics | undefined, generation: number, issue: () => Promise<T>): Promise<T> {
  if (!metrics) return await issue();
  const kind = generation > 1 ? 'renewal' : 'first';
  if (kind === 'renewal') metrics.renewalsStarted.inc();
  const stop = metrics.issuanceDuration.startTimer({ kind });
  try {
    const result = await issue();
    stop({ outcome: 'success' });
    if (kind === 'renewal') metrics.renewalsSucceeded.inc();
    return result;
  } catch (error) {
    stop({ outcome: 'failure' });
    if (kind === 'renewal') metrics.renewalsFailed.inc({ reason: failureReasonOf(error) });
    throw error;
  }
}

/** A CRL publication's outcome. */
export async function observeCrlPublication<T>(metrics: WorkerMetrics | undefined, publish: () => Promise<T>): Promise<T> {
  try {
    const result = await publish();
    metrics?.crlPublications.inc({ outcome: 'success' });
    return result;
  } catch (error) {
    metrics?.crlPublications.inc({ outcome: 'failure' });
    throw error;
  }
}
