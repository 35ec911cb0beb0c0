/**
 * The Temporal SDK's logs (worker, activities' `log`, workflows' `log`) as structured JSON lines of
 * the process logger (cmd/log.ts), so they carry the same redaction and, inside a traced activity,
 * the trace ids the OpenTelemetry outbound interceptor adds. A workflow id `certificate/<id>` is also
 * given as `certificate_id`.
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import type { StructuredLogger } from './log.js';

const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

export class TemporalLogger implements Logger {
  constructor(
    private readonly target: StructuredLogger,
    /** Lines below this level are dropped (the SDK is chatty at INFO). */
    private readonly minimum: LogLevel = 'WARN',
  ) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    if (RANK[level] < RANK[this.minimum]) return;
    const workflowId = typeof meta['workflowId'] === 'string' ? meta['workflowId'] : undefined;
    const certificateId = workflowId?.startsWith('certificate/') ? workflowId.slice('certificate/'.length) : undefined;
    this.target[PINO_LEVEL[level]]({ ...meta, ...(certificateId ? { certificate_id: certificateId } : {}) }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
