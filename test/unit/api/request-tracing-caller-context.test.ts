/**
 * The API does not continue a caller's W3C trace context, sampling flag included. Were it to, with
 * the default sampler (parentbased_always_on) a caller that sends `traceparent: …-00` switches off
 * the trace of its own request — and of the workflow and activities it starts — so what it did is
 * absent from the traces the on-call engineer reads. The edge starts a new trace, keeping the
 * caller's as a link.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { traceRequests } from '../../../api/request-tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
afterAll(() => provider.shutdown());

describe('a caller\'s traceparent', () => {
  it('ok/control: without a traceparent the request is traced', async () => {
    exporter.reset();
    const app = new Hono();
    app.use('*', traceRequests(provider.getTracer('certflow')));
    app.get('/v1/errors', (c) => c.json({ items: [] }));
    await app.request('/v1/errors');
    expect(exporter.getFinishedSpans().map((span) => span.name)).toContain('GET /v1/errors');
  });

  it('ok/a caller-sent unsampled traceparent does not remove its request from the traces; it is a link', async () => {
    exporter.reset();
    const app = new Hono();
    app.use('*', traceRequests(provider.getTracer('certflow')));
    app.post('/v1/certificates/:id/revoke', (c) => c.json({ ok: true }));
    const response = await app.request('/v1/certificates/crt_x/revoke', { method: 'POST', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' } });
    expect(response.status).toBe(200);
    const span = exporter.getFinishedSpans().find((candidate) => candidate.name === 'POST /v1/certificates/:id/revoke');
    expect(span).toBeDefined();
    expect(span!.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span!.links.map((link) => link.context.traceId)).toEqual(['0af7651916cd43dd8448eb211c80319c']);
  });
});
