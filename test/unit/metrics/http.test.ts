import { Hono } from 'hono';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricsHandler, startMetricsServer, type MetricsAccess } from '../../../metrics/http.js';
import { createMetricsRegistry } from '../../../metrics/registry.js';

function appWith(access: MetricsAccess) {
  const registry = createMetricsRegistry();
  new Counter({ name: 'certflow_test_total', help: 'a test counter', registers: [registry] }).inc(3);
  const app = new Hono();
  app.get('/metrics', metricsHandler(registry, access));
  return app;
}

describe('GET /metrics', () => {
  it('ok/no token configured: open, Prometheus text', async () => {
    const response = await appWith({ token: null }).request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toMatch(/^certflow_test_total 3$/m);
  });

  it('ok/the configured bearer token', async () => {
    const response = await appWith({ token: 'a-metrics-token-0123' }).request('/metrics', { headers: { Authorization: 'Bearer a-metrics-token-0123' } });
    expect(response.status).toBe(200);
  });

  it.each([
    ['fail/no Authorization', {}],
    ['fail/wrong token', { Authorization: 'Bearer a-metrics-token-0124' }],
    ['fail/a prefix of the token', { Authorization: 'Bearer a-metrics-token' }],
    ['fail/Basic scheme', { Authorization: 'Basic a-metrics-token-0123' }],
  ])('%s: 401 problem, no metrics', async (_name, headers) => {
    const response = await appWith({ token: 'a-metrics-token-0123' }).request('/metrics', { headers });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.text()).not.toContain('certflow_test_total');
  });

  it('fail/production API without a token: 403 saying to set CERTFLOW_METRICS_TOKEN', async () => {
    const response = await appWith({ token: null, refuseWithoutToken: true }).request('/metrics');
    expect(response.status).toBe(403);
    expect(((await response.json()) as { detail: string }).detail).toContain('CERTFLOW_METRICS_TOKEN');
  });

  it('drops prom-client gauges named like counters (promtool refuses them)', async () => {
    const text = await (await appWith({ token: null }).request('/metrics')).text();
    expect(text).not.toMatch(/^nodejs_active_handles_total/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total/m);
  });
});

describe('the worker metrics listener', () => {
  it('serves GET /metrics on loopback and 404 elsewhere; a taken port is an error for the caller', async () => {
    const registry = createMetricsRegistry();
    const server = await startMetricsServer({ registry, host: '127.0.0.1', port: 0, access: { token: null } });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${server.url}/other`)).status).toBe(404);
      const port = Number(new URL(server.url).port);
      await expect(startMetricsServer({ registry, host: '127.0.0.1', port, access: { token: null } })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await server.close();
    }
  });
});
