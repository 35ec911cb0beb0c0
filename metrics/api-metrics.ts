/** The API's own metrics, recorded by its routes (api/app.ts, api/routes/pki.ts). */
import { Counter, Histogram, type Registry } from 'prom-client';

/** What an OCSP answer was: a stored response's certStatus, or the error status answered instead (RFC 6960 §4.2.1). */
export const OCSP_RESPONSE_STATUSES = ['good', 'revoked', 'malformed_request', 'unauthorized', 'try_later'] as const;
export type OcspResponseStatus = (typeof OCSP_RESPONSE_STATUSES)[number];

export function createApiMetrics(registry: Registry) {
  const ocspResponses = new Counter({
    name: 'certflow_ocsp_responses_total',
    help: 'OCSP responses served, by status (good, revoked, or the error status: malformed_request, unauthorized, try_later).',
    labelNames: ['status'],
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'certflow_http_requests_total',
    help: 'HTTP requests answered, by method, matched route pattern (never the raw path) and status code.',
    labelNames: ['method', 'route', 'code'],
    registers: [registry],
  });
  const httpRequestDuration = new Histogram({
    name: 'certflow_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and matched route pattern.',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  for (const status of OCSP_RESPONSE_STATUSES) ocspResponses.inc({ status }, 0);
  return { ocspResponses, httpRequests, httpRequestDuration };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
