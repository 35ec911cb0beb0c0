/**
 * The entry points' observability set-up, done once before anything else starts: the logger with
 * this process's secrets to redact, and tracing when the OTEL_* variables ask for it (cmd/tracing.ts).
 */
import type { Config } from './config.js';
import { configureLogging, logger } from './log.js';
import { startTracing, tracingSettings, type Tracing } from './tracing.js';

/** The secrets this process holds, cut out of log lines and error groups wherever they appear. */
export function processSecrets(config: Config): string[] {
  const smtp = config.notifications.smtp && URL.canParse(config.notifications.smtp.url) ? new URL(config.notifications.smtp.url) : null;
  const smtpPassword = smtp?.password ? decodeURIComponent(smtp.password) : undefined;
  return [config.kek, ...config.kekPrevious, config.auditKey, config.bootstrapToken, config.acme?.eabSecret, config.metrics.token ?? undefined, smtpPassword, smtp?.password].filter(
    (secret): secret is string => secret !== undefined && secret !== '',
  );
}

export function startObservability(config: Config, defaultServiceName: string): Tracing | null {
  configureLogging({ knownSecrets: processSecrets(config) });
  const settings = tracingSettings(defaultServiceName);
  if (!settings) return null;
  const tracing = startTracing(settings.serviceName, { exporter: settings.exporter });
  logger('tracing')(`tracing on: service ${settings.serviceName}, exporter ${settings.exporter}`);
  return tracing;
}
