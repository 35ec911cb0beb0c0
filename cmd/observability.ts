/**
 * The entry points' observability set-up, done once before anything else starts: the logger with
 * this process's secrets to redact, and tracing when the OTEL_* variables ask for it (cmd/tracing.ts).
 */
import type { Config } from './config.js';
import { configureLogging, logger } from './log.js';
import { startTracing, tracingSettings, type Tracing } from './tracing.js';

export function startObservability(config: Config, defaultServiceName: string): Tracing | null {
  configureLogging({
    knownSecrets: [config.kek, ...config.kekPrevious, config.auditKey, config.bootstrapToken, config.acme?.eabSecret].filter((secret): secret is string => secret !== undefined),
  });
  const settings = tracingSettings(defaultServiceName);
  if (!settings) return null;
  const tracing = startTracing(settings.serviceName, { exporter: settings.exporter });
  logger('tracing')(`tracing on: service ${settings.serviceName}, exporter ${settings.exporter}`);
  return tracing;
}
