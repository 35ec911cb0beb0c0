/**
 * CLIENT spans around Certflow's outgoing calls (webhook deliveries, TLS probes of verify endpoints),
 * made explicitly: they use node:http/https/tls from ES modules, which the http instrumentation's
 * require hook does not patch. Without a tracer provider (tracing off) these are no-op spans.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = () => trace.getTracer('certflow');

/** Runs `call` inside a CLIENT span named `name`; a throw marks the span as an error and is rethrown. */
export async function inClientSpan<T>(name: string, attributes: Attributes, call: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await call(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `headers` plus the W3C trace context of the active span (traceparent), so a receiver can continue the trace. */
export function withTraceHeaders(headers: Record<string, string>): Record<string, string> {
  const carrier: Record<string, string> = { ...headers };
  propagation.inject(context.active(), carrier);
  return carrier;
}
