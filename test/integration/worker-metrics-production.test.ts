/**
 * A production worker (NODE_ENV=production) without CERTFLOW_METRICS_TOKEN refuses GET /metrics (403),
 * as the API does: an unauthenticated scraper learns nothing. The worker is cmd/worker.ts as a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../devservices/free-port.js';
import { createHarness, startChildWorker, type ChildWorker, type Harness } from '../support/harness.js';

let harness: Harness;
let worker: ChildWorker | null = null;

beforeAll(async () => {
  harness = await createHarness('worker-metrics-production');
}, 300_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await harness?.close();
});

describe('worker metrics in production', () => {
  it('ok/a production worker without CERTFLOW_METRICS_TOKEN answers 403 problem+json on /metrics', async () => {
    const port = await findFreePort();
    worker = startChildWorker(harness, { NODE_ENV: 'production', CERTFLOW_WORKER_METRICS_PORT: String(port), CERTFLOW_WORKER_METRICS_HOST: '127.0.0.1' });
    await worker.ready;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await response.text();
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(text).not.toContain('certflow_renewals_failed_total');
  }, 180_000);
});
