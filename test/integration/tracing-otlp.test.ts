/**
 * The same trace through the production path: the worker is `cmd/worker.ts` as a child process with
 * tracing configured by OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME, the API side in this
 * process configured the same way; both export over OTLP/HTTP to a real OpenTelemetry Collector built
 * from its Go modules (test/otel-collector), which writes what it received to a file.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTracing, tracingSettings, type Tracing } from '../../cmd/tracing.js';
import { createHarness, createTeamWithTokens, eventually, startChildWorker, type ChildWorker, type Harness, type Team } from '../support/harness.js';
import { certificatesAs } from '../support/integration-suite.js';
import { startOtelCollector, type RunningCollector } from '../support/otel-collector.js';
import { revokeAndWait } from '../support/revoke.js';
import { tracedApp } from '../support/traced-platform.js';

let collector: RunningCollector;
let tracing: Tracing;
let harness: Harness;
let worker: ChildWorker;
let team: Team;

beforeAll(async () => {
  collector = await startOtelCollector(await mkdtemp(join(inject('tempDir'), 'otelcol-')), (message) => process.stderr.write(`[otelcol] ${message}\n`));
  const settings = tracingSettings('certflow-api', { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint });
  expect(settings).toEqual({ exporter: 'otlp', serviceName: 'certflow-api' });
  // The exporter reads the endpoint from the environment, as in production.
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = collector.endpoint;
  tracing = startTracing(settings!.serviceName, { exporter: settings!.exporter });
  harness = await createHarness('tracing-otlp');
  // Spans leave the worker every 200 ms instead of every 5 s (the batch processor reads OTEL_BSP_*).
  worker = startChildWorker(harness, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' });
  await worker.ready;
  team = await createTeamWithTokens(harness);
});

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await harness?.close();
  await tracing?.shutdown();
  await collector?.stop();
  delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
});

describe('tracing over OTLP', () => {
  it('delivers the request\'s whole trace to an OpenTelemetry Collector', async () => {
    const app = tracedApp(harness, tracing);
    const certificates = certificatesAs(app, team.requester);
    const { id } = await certificates.create({ team: team.teamName, commonName: 'otlp.example.test', dnsNames: ['otlp.example.test'], validity: 'P1D', destinations: [{ type: 'file', directory: 'otlp' }] });
    await certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'issuance' });
    await revokeAndWait(app, id, team.requester);

    const trace = await eventually(
      async () => {
        await tracing.provider.forceFlush();
        const spans = await collector.spans();
        const request = spans.find((span) => span.name === 'POST /v1/certificates');
        const inTrace = request ? spans.filter((span) => span.traceId === request.traceId) : [];
        return inTrace.some((span) => span.name === 'RunWorkflow:certificateLifecycle') ? inTrace : undefined;
      },
      { timeoutMs: 30_000, what: 'the collector to have the workflow span of the request\'s trace' },
    );
    const names = new Set(trace.map((span) => span.name));
    for (const name of ['POST /v1/certificates', 'StartWorkflow:certificateLifecycle', 'RunWorkflow:certificateLifecycle', 'RunActivity:issueCertificate', 'RunActivity:deliverVersion']) {
      expect(names, name).toContain(name);
    }
    expect(trace.filter((span) => span.attributes['db.system'] === 'postgresql').length).toBeGreaterThan(5);
    // The request and the workflow start come from the API, the workflow and its activities from the worker process.
    const serviceOf = (name: string) => trace.find((span) => span.name === name)?.serviceName;
    expect(serviceOf('POST /v1/certificates')).toBe('certflow-api');
    expect(serviceOf('StartWorkflow:certificateLifecycle')).toBe('certflow-api');
    expect(serviceOf('RunWorkflow:certificateLifecycle')).toBe('certflow-worker');
    expect(serviceOf('RunActivity:issueCertificate')).toBe('certflow-worker');
    expect(trace.filter((span) => span.serviceName === 'certflow-worker' && span.attributes['db.system'] === 'postgresql').length).toBeGreaterThan(3);
    // One tree: every parent named in the trace is a span of the trace.
    const ids = new Set(trace.map((span) => span.spanId));
    expect(trace.filter((span) => span.parentSpanId !== '' && !ids.has(span.parentSpanId)).map((span) => span.name)).toEqual([]);
  });
});
