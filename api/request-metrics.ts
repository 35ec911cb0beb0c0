/** Middleware counting and timing every request by method, matched route pattern and status (never the raw path). */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { ApiMetrics } from '../metrics/api-metrics.js';

export function recordHttpRequests(metrics: ApiMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      // The pattern of the last route that matched (e.g. /v1/certificates/:id, or a middleware's `/v1/*` for a 404): code-defined, bounded.
      const route = routePath(c, -1);
      const method = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].includes(c.req.method) ? c.req.method : 'other';
      metrics.httpRequests.inc({ method, route, code: String(c.res.status) });
      metrics.httpRequestDuration.observe({ method, route }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
