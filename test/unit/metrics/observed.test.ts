import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { observeIssuance } from '../../../activities/observed.js';
import { createMetricsRegistry } from '../../../metrics/registry.js';
import { createWorkerMetrics } from '../../../metrics/worker-metrics.js';

async function value(metrics: ReturnType<typeof createWorkerMetrics>, name: keyof ReturnType<typeof createWorkerMetrics>, labels: Record<string, string> = {}) {
  const { values } = await metrics[name].get();
  return values.find((v) => {
    const own = v.labels as Record<string, string | number | undefined>;
    return Object.entries(labels).every(([k, l]) => own[k] === l) && !('le' in own);
  })?.value;
}

describe('issuance metrics', () => {
  it('counts a renewal started and failed by its error type; a first issuance is not a renewal', async () => {
    const metrics = createWorkerMetrics(createMetricsRegistry());
    expect(await value(metrics, 'renewalsFailed', { reason: 'policy_violation' })).toBe(0);
    await observeIssuance(metrics, 1, async () => 'v1');
    await expect(observeIssuance(metrics, 2, async () => { throw ApplicationFailure.nonRetryable('no', 'PolicyViolation'); })).rejects.toThrow('no');
    await expect(observeIssuance(metrics, 3, async () => { throw new Error('signer down'); })).rejects.toThrow('signer down');
    await observeIssuance(metrics, 4, async () => 'v4');
    expect(await value(metrics, 'renewalsStarted')).toBe(3);
    expect(await value(metrics, 'renewalsSucceeded')).toBe(1);
    expect(await value(metrics, 'renewalsFailed', { reason: 'policy_violation' })).toBe(1);
    expect(await value(metrics, 'renewalsFailed', { reason: 'internal' })).toBe(1);
    const durations = (await metrics.issuanceDuration.get()).values.filter((v) => v.metricName === 'certflow_issuance_duration_seconds_count');
    expect(durations.map((v) => [v.labels['kind'], v.labels['outcome'], v.value]).sort()).toEqual([
      ['first', 'success', 1],
      ['renewal', 'failure', 2],
      ['renewal', 'success', 1],
    ]);
  });

  it('without metrics, runs the issuance as is', async () => {
    await expect(observeIssuance(undefined, 2, async () => 'v')).resolves.toBe('v');
  });
});
