/** The worker's own metrics, recorded by activities (activities/index.ts wraps the ones that count). */
import { Counter, Histogram, type Registry } from 'prom-client';
import { FAILURE_REASONS } from '../core/metrics-labels.js';
import type { DestinationType } from '../core/types.js';

/** Initialised to 0 for each; a destination type added later is counted from its first failure. */
export const DESTINATION_TYPES = ['file', 'agent', 'webhook'] as const satisfies readonly DestinationType[];

export function createWorkerMetrics(registry: Registry) {
  const renewalsStarted = new Counter({
    name: 'certflow_renewals_started_total',
    help: 'Renewal issuance attempts started (a generation after the first; each attempt of the issuance step counts).',
    registers: [registry],
  });
  const renewalsSucceeded = new Counter({
    name: 'certflow_renewals_succeeded_total',
    help: 'Renewal issuance attempts that signed and recorded the new version.',
    registers: [registry],
  });
  const renewalsFailed = new Counter({
    name: 'certflow_renewals_failed_total',
    help: 'Renewal issuance attempts that failed, by reason (the error type, snake_case; internal for any other error).',
    labelNames: ['reason'],
    registers: [registry],
  });
  const issuanceDuration = new Histogram({
    name: 'certflow_issuance_duration_seconds',
    help: 'Duration of the issuance step (key, CSR checks, policy, lint, signing, recording), by kind (first or renewal) and outcome.',
    labelNames: ['kind', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
    registers: [registry],
  });
  const rolloutFailures = new Counter({
    name: 'certflow_rollout_failures_total',
    help: 'Destinations whose rollout of a new version failed (and were rolled back), by destination type.',
    labelNames: ['destination_type'],
    registers: [registry],
  });
  const verificationFailures = new Counter({
    name: 'certflow_verification_failures_total',
    help: 'Verifications that a destination serves the new version which ended without it being served, by destination type.',
    labelNames: ['destination_type'],
    registers: [registry],
  });
  const crlPublications = new Counter({
    name: 'certflow_crl_publications_total',
    help: 'CRL publications by outcome (success or failure).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const reason of FAILURE_REASONS) renewalsFailed.inc({ reason }, 0);
  for (const destination_type of DESTINATION_TYPES) {
    rolloutFailures.inc({ destination_type }, 0);
    verificationFailures.inc({ destination_type }, 0);
  }
  for (const outcome of ['success', 'failure']) crlPublications.inc({ outcome }, 0);
  return { renewalsStarted, renewalsSucceeded, renewalsFailed, issuanceDuration, rolloutFailures, verificationFailures, crlPublications };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
