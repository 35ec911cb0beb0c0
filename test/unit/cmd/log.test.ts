import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createStructuredLogger } from '../../../cmd/log.js';
import { TemporalLogger } from '../../../cmd/temporal-logger.js';

const KEK = 'a3'.repeat(32);
const TOKEN = 'cft_5fq3abcdefgh_Zm9vYmFyYmF6cXV4cXV1eHh5eXp6';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createStructuredLogger({ destination, knownSecrets: [KEK] }) };
}

// As cmd/tracing.ts installs it: the global provider and its AsyncLocalStorage context manager.
const provider = new NodeTracerProvider();
provider.register();
afterAll(() => provider.shutdown());

describe('structured logs', () => {
  it('ok/one JSON object a line, secrets redacted in fields and in the message', () => {
    const { lines, logger } = capture();
    logger.child({ component: 'api' }).warn({ headers: { authorization: `Bearer ${TOKEN}` }, eab: { keyId: 'eab_1', hmacKey: 'c2VjcmV0LWhtYWMta2V5' }, certificateId: 'crt_1' }, `login with ${TOKEN} under KEK ${KEK}`);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    const text = JSON.stringify(line);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(KEK);
    expect(text).not.toContain('c2VjcmV0LWhtYWMta2V5');
    expect(line).toMatchObject({ level: 'warn', component: 'api', certificateId: 'crt_1', eab: { keyId: 'eab_1', hmacKey: '[REDACTED]' }, msg: 'login with [REDACTED] under KEK [REDACTED]' });
    expect(typeof line['time']).toBe('string');
  });

  it('ok/carries the active span\'s trace and span ids, none outside a span', () => {
    const { lines, logger } = capture();
    const tracer = trace.getTracer('test');
    const span = tracer.startSpan('request');
    context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
    logger.info('outside');
    span.end();
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  it('ok/Temporal SDK lines: certificate id from the workflow id, below WARN dropped', () => {
    const { lines, logger } = capture();
    const temporal = new TemporalLogger(logger);
    temporal.info('chatty');
    temporal.warn('activity failed', { workflowId: 'certificate/crt_abc', activityType: 'issueCertificate', password: 'hunter2hunter2' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', certificate_id: 'crt_abc', activityType: 'issueCertificate', password: '[REDACTED]' });
  });
});

describe('processSecrets', () => {
  it('ok/includes the metrics token and the SMTP password (as written and decoded)', async () => {
    const { loadConfig } = await import('../../../cmd/config.js');
    const { processSecrets } = await import('../../../cmd/observability.js');
    const config = loadConfig({
      DATABASE_URL: 'postgres://certflow@127.0.0.1:5432/certflow',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      CERTFLOW_METRICS_TOKEN: 'metrics-token-0123456789',
      CERTFLOW_SMTP_URL: 'smtp://certflow:p%40ssw0rd-long@relay.internal:587',
      CERTFLOW_SMTP_FROM: 'certflow@example.test',
    });
    const secrets = processSecrets(config);
    expect(secrets).toContain('metrics-token-0123456789');
    expect(secrets).toContain('p@ssw0rd-long');
  });
});
