/**
 * A SERVER span per HTTP request (OpenTelemetry HTTP semantic conventions): named by method and
 * route template (`POST /v1/certificates`, never the raw path with ids), with the status code and
 * the certificate id when the route has one. Each request starts a new trace: a caller's W3C
 * traceparent (anyone's, unauthenticated, with its sampled flag) is kept as a link, not continued,
 * so no caller can switch off the tracing of what it asked for or splice into another trace.
 * Everything the handler does (Temporal client calls, Postgres queries) happens inside it.
 */
import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => {
    const keys: string[] = [];
    headers.forEach((_value, key) => keys.push(key));
    return keys;
  },
  get: (headers, key) => headers.get(key) ?? undefined,
};

export function traceRequests(tracer: Tracer): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    const caller = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, c.req.raw.headers, headerGetter));
    const links: Link[] = caller && isSpanContextValid(caller) ? [{ context: caller, attributes: { 'certflow.link': 'caller' } }] : [];
    const parent = context.active();
    const url = new URL(c.req.url);
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        root: true,
        links,
        attributes: {
          'http.request.method': method,
          'url.path': url.pathname,
          'url.scheme': url.protocol.replace(':', ''),
          ...(c.req.header('user-agent') ? { 'user_agent.original': c.req.header('user-agent') } : {}),
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = routePath(c, -1);
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
      const certificateId = route.startsWith('/v1/certificates/:id') ? c.req.param('id') : undefined;
      if (certificateId) span.setAttribute('certflow.certificate.id', certificateId);
      const status = c.res.status;
      span.setAttribute('http.response.status_code', status);
      if (c.error) span.recordException(c.error);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
