/**
 * Serving a registry as Prometheus text: a Hono handler (the API's GET /metrics) and, for the worker, a small
 * HTTP listener of its own. Both answer only GET /metrics, optionally behind a bearer token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Registry } from 'prom-client';

export interface MetricsAccess {
  /** CERTFLOW_METRICS_TOKEN: when set, scrapes must send `Authorization: Bearer <token>`. */
  token: string | null;
  /** No token configured and this set: /metrics answers 403 (the API in production). */
  refuseWithoutToken?: boolean;
}

/** GET /metrics: the registry's text, or a problem+json refusal. */
export function metricsHandler(registry: Registry, access: MetricsAccess) {
  return async (c: Context): Promise<Response> => {
    if (access.token === null && access.refuseWithoutToken) {
      return problem(c, 403, 'metrics-token-required', '/metrics is off in production until CERTFLOW_METRICS_TOKEN is set; give Prometheus the same token (authorization.credentials_file)');
    }
    if (access.token !== null && !bearerMatches(c.req.header('Authorization'), access.token)) {
      c.header('WWW-Authenticate', 'Bearer realm="certflow-metrics"');
      return problem(c, 401, 'unauthorized', '/metrics needs Authorization: Bearer <CERTFLOW_METRICS_TOKEN>');
    }
    const text = await registry.metrics();
    return c.body(text, 200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
  };
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function problem(c: Context, status: 401 | 403, type: string, detail: string): Response {
  return c.body(JSON.stringify({ type: `/problems/${type}`, title: status === 401 ? 'Unauthorized' : 'Forbidden', status, detail }), status, {
    'Content-Type': 'application/problem+json',
  });
}

export interface MetricsServer {
  /** `http://host:port` */
  url: string;
  close(): Promise<void>;
}

/** The worker's metrics listener: GET /metrics on host:port, 404 for anything else. */
export async function startMetricsServer(options: { registry: Registry; host: string; port: number; access: MetricsAccess }): Promise<MetricsServer> {
  const app = new Hono();
  app.get('/metrics', metricsHandler(options.registry, options.access));
  app.notFound((c) => c.text('not found: the metrics listener serves GET /metrics only\n', 404));
  const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
