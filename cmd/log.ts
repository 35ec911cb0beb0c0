/**
 * Process logging for the entry points: one JSON object a line (pino), with the component, the
 * active trace's `trace_id`/`span_id` when there is one, and secrets redacted (core/redaction.ts:
 * secret-named fields, bearer tokens, API tokens, private keys, and the secrets this process was
 * configured with). docs/operations.md "Logs" describes the fields.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import { redactText, redactValue } from '../core/redaction.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type StructuredLogger = pino.Logger;

export interface LoggingOptions {
  level?: LogLevel;
  /** Values to cut out of every line wherever they appear (KEK, audit key, bootstrap token, EAB secret). */
  knownSecrets?: readonly string[];
  /** Where lines go (default: stdout, synchronously, so nothing is lost on exit). */
  destination?: pino.DestinationStream;
}

/** trace_id and span_id of the span active where the line is logged, if any. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

/** A JSON logger whose every line is redacted and carries the active trace ids. */
export function createStructuredLogger(options: LoggingOptions = {}): StructuredLogger {
  const knownSecrets = (options.knownSecrets ?? []).filter((secret) => secret.length >= 8);
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg) => (typeof arg === 'string' ? redactText(arg, knownSecrets) : redactValue(arg, knownSecrets)));
          return method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

let root: StructuredLogger = createStructuredLogger({ level: levelFromEnv() });

/** Replaces the process's logger (level, known secrets) once the configuration is loaded. */
export function configureLogging(options: LoggingOptions): void {
  root = createStructuredLogger({ level: options.level ?? levelFromEnv(), ...options });
}

/** The process's structured logger for `component` (fields: component, and whatever the caller adds). */
export function componentLogger(component: string): StructuredLogger {
  return root.child({ component });
}

/** The message-only logging the composition roots pass around: each call is one `info` line of `component`. */
export function logger(component: string): (message: string) => void {
  return (message) => root.info({ component }, message);
}

function levelFromEnv(): LogLevel {
  const value = process.env['CERTFLOW_LOG_LEVEL'];
  return value === 'trace' || value === 'debug' || value === 'warn' || value === 'error' || value === 'fatal' ? value : 'info';
}

/** Runs `main`, printing a clean one-line error (not a stack) for configuration mistakes. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error && error.name === 'ConfigError' ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`certflow: ${redactText(message)}`);
    process.exit(1);
  });
}

/** Calls `stop` once on SIGINT/SIGTERM; a second signal exits at once. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    root.info({ component: 'process' }, `received ${signal}, shutting down…`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        root.error({ component: 'process', err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
