/**
 * The same trace through the production path: tracing configured by OTEL_EXPORTER_OTLP_ENDPOINT and
 * OTEL_SERVICE_NAME (cmd/tracing.ts), exported over OTLP/HTTP to a real OpenTelemetry Collector built
 * from its Go modules (test/otel-collector), which writes what it received to a file.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTracing, tracingSettings, type Tracing } from '../../cmd/tracing.js';
import { createHarness, createTeamWithTokens, eventually, type Harness, type InProcessWorker, type Team } from '../support/harness.js';
import { certificatesAs } from '../support/integration-suite.js';
import { startOtelCollector, type RunningCollector } from '../support/otel-collector.js';
import { revokeAndWait } from '../support/revoke.js';
import { startTracedWorker, tracedApp } from '../support/traced-platform.js';

let collector: RunningCollector;
let tracing: Tracing;
let harness: Harness;
let worker: InProcessWorker;
let team: Team;

beforeAll(async () => {
  collector = await startOtelCollector(await mkdtemp(join(inject('tempDir'), 'otelcol-')), (message) => process.stderr.write(`[otelcol] ${message}\n`));
  const settings = tracingSettings('certflow-worker', { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_SERVICE_NAME: 'certflow-otlp-test' });
  expect(settings).toEqual({ exporter: 'otlp', serviceName: 'certflow-otlp-test' });
  // The exporter reads the endpoint from the environment, as in production.
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = collector.endpoint;
  tracing = startTracing(settings!.serviceName, { exporter: settings!.exporter });
  harness = await createHarness('tracing-otlp');
  worker = await startTracedWorker(harness, tracing);
  team = await createTeamWithTokens(harness);
});

afterAll(async () => {
  await worker?.stop();
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
    expect(new Set(trace.map((span) => span.serviceName))).toEqual(new Set(['certflow-otlp-test']));
    // One tree: every parent named in the trace is a span of the trace.
    const ids = new Set(trace.map((span) => span.spanId));
    expect(trace.filter((span) => span.parentSpanId !== '' && !ids.has(span.parentSpanId)).map((span) => span.name)).toEqual([]);
  });
});
