/**
 * One certificate request is one trace: the HTTP request's SERVER span, the Temporal client's
 * StartWorkflow span, the workflow's spans (from the sandbox, through the sink), every activity's
 * span, and the Postgres queries under them, all with the same trace id and linked parent to child.
 * Real Temporal dev server and Postgres; spans kept in memory (the OTLP path is tracing-otlp.test.ts).
 */
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../../cmd/tracing.js';
import { createHarness, createTeamWithTokens, eventually, type Harness, type InProcessWorker, type Team } from '../support/harness.js';
import { certificatesAs } from '../support/integration-suite.js';
import { revokeAndWait } from '../support/revoke.js';
import { startTracedWorker, tracedApp } from '../support/traced-platform.js';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let harness: Harness;
let worker: InProcessWorker;
let team: Team;

beforeAll(async () => {
  tracing = startTracing('certflow-test', { spanProcessor: new SimpleSpanProcessor(exporter) });
  harness = await createHarness('tracing');
  worker = await startTracedWorker(harness, tracing);
  team = await createTeamWithTokens(harness);
});

afterAll(async () => {
  await worker?.stop();
  await harness?.close();
  await tracing?.shutdown();
});

describe('tracing', () => {
  it('follows one certificate request from the HTTP span through the workflow and each activity into Postgres', async () => {
    const app = tracedApp(harness, tracing);
    const certificates = certificatesAs(app, team.requester);
    exporter.reset();
    const { id } = await certificates.create({ team: team.teamName, commonName: 'traced.example.test', dnsNames: ['traced.example.test'], validity: 'P1D', destinations: [{ type: 'file', directory: 'traced' }] });
    await certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'issuance' });

    const server = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER && span.name === 'POST /v1/certificates');
    expect(server, 'the request span').toBeDefined();
    expect(server!.attributes['http.route']).toBe('/v1/certificates');
    expect(server!.attributes['http.response.status_code']).toBe(202);
    const traceId = server!.spanContext().traceId;

    // The lifecycle workflow's own span ends with the workflow: revoke it (another request, another
    // trace) and wait for the span, which the worker exports through the workflow sink.
    await revokeAndWait(app, id, team.requester);
    const spans = await eventually(
      async () => {
        const inTrace = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
        return inTrace.some((span) => span.name === 'RunWorkflow:certificateLifecycle') ? inTrace : undefined;
      },
      { timeoutMs: 30_000, what: 'the workflow span' },
    );
    const names = spans.map((span) => span.name);
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const ancestors = (span: ReadableSpan): string[] => {
      const chain: string[] = [];
      let parentId = span.parentSpanId;
      while (parentId) {
        const parent = byId.get(parentId);
        if (!parent) {
          chain.push(`(missing ${parentId})`);
          break;
        }
        chain.push(parent.name);
        parentId = parent.parentSpanId;
      }
      return chain;
    };

    // Every span of the trace hangs, through its parents, off the request span: one tree, not pieces.
    const orphans = spans.filter((span) => span.spanContext().spanId !== server!.spanContext().spanId && ancestors(span).at(-1) !== 'POST /v1/certificates');
    expect(orphans.map((span) => `${span.name} <- ${ancestors(span).join(' <- ')}`)).toEqual([]);

    expect(names).toContain('StartWorkflow:certificateLifecycle');
    expect(names).toContain('RunWorkflow:certificateLifecycle');
    const activities = spans.filter((span) => span.name.startsWith('RunActivity:'));
    const activityTypes = new Set(activities.map((span) => span.name.slice('RunActivity:'.length)));
    expect(activityTypes).toContain('issueCertificate');
    expect(activityTypes).toContain('deliverVersion');
    for (const activity of activities) expect(ancestors(activity), activity.name).toContain('RunWorkflow:certificateLifecycle');

    // Postgres: the request's own queries, and the activities' (the issuance writes the version).
    const queries = spans.filter((span) => span.attributes['db.system'] === 'postgresql');
    expect(queries.some((span) => ancestors(span)[0] === 'POST /v1/certificates')).toBe(true);
    const issuance = activities.find((span) => span.name === 'RunActivity:issueCertificate')!;
    const issuanceQueries = queries.filter((span) => ancestors(span).includes(issuance.name));
    expect(issuanceQueries.some((span) => /insert into "certificate_versions"/i.test(String(span.attributes['db.statement'])))).toBe(true);
  });

  it('names request spans by route template, never by the raw path', async () => {
    const app = tracedApp(harness, tracing);
    exporter.reset();
    const response = await app.request('/v1/certificates/crt_doesnotexist', { headers: { Authorization: `Bearer ${team.requester}` } });
    expect(response.status).toBe(404);
    const server = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER);
    expect(server?.name).toBe('GET /v1/certificates/:id');
    expect(server?.attributes['certflow.certificate.id']).toBe('crt_doesnotexist');
    expect(server?.attributes['http.response.status_code']).toBe(404);
  });

  it('starts a new trace, linking the caller\'s (W3C traceparent)', async () => {
    const app = tracedApp(harness, tracing);
    exporter.reset();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await app.request('/healthz', { headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` } });
    const server = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER);
    expect(server?.spanContext().traceId).not.toBe(callerTrace);
    expect(server?.parentSpanId).toBeUndefined();
    expect(server?.links.map((link) => [link.context.traceId, link.context.spanId])).toEqual([[callerTrace, '00f067aa0ba902b7']]);
  });
});
