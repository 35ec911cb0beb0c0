/**
 * A real OpenTelemetry Collector on 127.0.0.1 (scripts/otel-collector.ts builds it): OTLP/HTTP in,
 * every span written as OTLP JSON lines to a file the test reads back.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreePort } from '../../devservices/free-port.js';
import { ensureOtelCollector } from '../../scripts/otel-collector.js';

export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  serviceName: string;
  attributes: Record<string, unknown>;
}

export interface RunningCollector {
  /** OTEL_EXPORTER_OTLP_ENDPOINT for it. */
  endpoint: string;
  /** Every span the collector has written so far. */
  spans(): Promise<ExportedSpan[]>;
  stop(): Promise<void>;
}

export async function startOtelCollector(dir: string, log: (message: string) => void = () => {}): Promise<RunningCollector> {
  const binary = await ensureOtelCollector(process.env, log);
  const port = await findFreePort();
  const output = join(dir, 'spans.jsonl');
  const config = join(dir, 'otelcol.yaml');
  await writeFile(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${output}`,
      'service:',
      // No internal metrics server (it would take port 8888 on a shared machine).
      '  telemetry:',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    traces:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['--config', `file:${config}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the collector did not start within 30 s:\n${logs}`)), 30_000);
    const onData = (chunk: Buffer) => {
      logs += chunk.toString();
      if (logs.includes('Everything is ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the collector exited (code ${code}):\n${logs}`));
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async spans() {
      const text = await readFile(output, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).flatMap((line) => spansOf(JSON.parse(line) as OtlpTraces));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: { key: string; value: OtlpValue }[] }[] }[];
  }[];
}

function spansOf(traces: OtlpTraces): ExportedSpan[] {
  return (traces.resourceSpans ?? []).flatMap((resourceSpans) => {
    const serviceName = String(resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value.stringValue ?? '');
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        serviceName,
        attributes: Object.fromEntries((span.attributes ?? []).map((attribute) => [attribute.key, attribute.value.stringValue ?? attribute.value.intValue ?? attribute.value.boolValue])),
      })),
    );
  });
}
