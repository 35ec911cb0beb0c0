/**
 * OpenTelemetry tracing of a process (API or worker), configured by the standard OTEL_* variables
 * (README "Tracing"). Off unless an OTLP endpoint or an exporter is configured: then nothing here is
 * installed at all (no provider, no interceptors, no middleware), so an untraced process pays nothing.
 *
 * On: a NodeTracerProvider (AsyncLocalStorage context, W3C trace context propagation) exporting in
 * batches over OTLP/HTTP (protobuf), and node-postgres patched by @opentelemetry/instrumentation-pg
 * directly: the `pg` module is imported from ES modules, which the require hook that auto-
 * instrumentation relies on does not see.
 */
import { createRequire } from 'node:module';
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import pg from 'pg';
import { z } from 'zod';
import { ConfigError } from './config.js';

/** The instrumentation scope of Certflow's own spans (HTTP server, outgoing webhooks and TLS probes). */
export const TRACER_NAME = 'certflow';

const optional = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const tracingEnvSchema = z.object({
  OTEL_SDK_DISABLED: optional.pipe(z.enum(['true', 'false']).optional()),
  /** One exporter: `otlp`, `console` (development) or `none`. */
  OTEL_TRACES_EXPORTER: optional.pipe(z.enum(['otlp', 'console', 'none']).optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: optional.pipe(z.enum(['http/protobuf'], { error: 'only http/protobuf is supported (the collector\'s port 4318)' }).optional()),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optional.pipe(z.enum(['http/protobuf'], { error: 'only http/protobuf is supported (the collector\'s port 4318)' }).optional()),
  OTEL_SERVICE_NAME: optional,
});

export type TracingSettings = { exporter: 'otlp' | 'console'; serviceName: string } | null;

/** Whether and how to trace; null (off) unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT or OTEL_TRACES_EXPORTER=otlp|console is set. */
export function tracingSettings(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): TracingSettings {
  const result = tracingEnvSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`invalid configuration:\n${result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n')}`);
  }
  const e = result.data;
  if (e.OTEL_SDK_DISABLED === 'true' || e.OTEL_TRACES_EXPORTER === 'none') return null;
  const exporter = e.OTEL_TRACES_EXPORTER ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : undefined);
  if (!exporter) return null;
  return { exporter, serviceName: e.OTEL_SERVICE_NAME ?? defaultServiceName };
}

export interface Tracing {
  tracer: Tracer;
  provider: NodeTracerProvider;
  /** Where spans go; the worker hands it to the workflow sink so workflow spans take the same path. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Installs tracing for this process: the global tracer provider, context manager and propagator,
 * and the Postgres instrumentation. `spanProcessor` replaces the OTLP exporter (tests: in memory).
 */
export function startTracing(serviceName: string, options: { exporter?: 'otlp' | 'console'; spanProcessor?: SpanProcessor } = {}): Tracing {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name.
  const resource = new Resource({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: certflowVersion() }).merge(envDetectorSync.detect());
  // The OTLP exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and the batch processor OTEL_BSP_*.
  const spanProcessor = options.spanProcessor ?? new BatchSpanProcessor(options.exporter === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  instrumentPostgres(provider);
  return {
    tracer: trace.getTracer(TRACER_NAME),
    provider,
    spanProcessor,
    resource,
    shutdown: () => provider.shutdown(),
  };
}

/** Patches node-postgres's Client (queries, connects) and pg-pool's connect, as the instrumentation would on `require`. */
function instrumentPostgres(provider: NodeTracerProvider): void {
  // Only queries inside a trace (a request, an activity): not start-up migrations or idle checks.
  const instrumentation = new PgInstrumentation({ enabled: false, requireParentSpan: true });
  instrumentation.setTracerProvider(provider);
  const requireFromPg = createRequire(createRequire(import.meta.url).resolve('pg'));
  for (const definition of instrumentation.getModuleDefinitions()) {
    if (definition.name === 'pg') definition.patch?.(pg, pgVersion());
    if (definition.name === 'pg-pool') definition.patch?.(requireFromPg('pg-pool'), undefined);
  }
}

function pgVersion(): string {
  return (createRequire(import.meta.url)('pg/package.json') as { version: string }).version;
}

function certflowVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}
