/**
 * The OTLP receiver of the tracing tests: a minimal OpenTelemetry Collector (OTLP receiver, file
 * exporter) built from the collector's Go modules in test/otel-collector (go build, cached in the
 * certflow cache dir by version and source hash: devservices/go-program.ts). OTELCOL_PATH uses a
 * collector of your own instead (it needs the otlp receiver and the file exporter).
 *
 *   npx tsx scripts/otel-collector.ts   # builds it (a few minutes on 2 cores the first time)
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBuildCached } from '../devservices/go-program.js';
import { executableFromEnv, isEntryPoint, type Log } from '../devservices/process-helpers.js';

const COLLECTOR_DIR = fileURLToPath(new URL('../test/otel-collector/', import.meta.url));

export async function ensureOtelCollector(env: NodeJS.ProcessEnv = process.env, log: Log = () => {}): Promise<string> {
  const explicit = await executableFromEnv(env, 'OTELCOL_PATH');
  if (explicit) return explicit;
  const goMod = await fs.readFile(path.join(COLLECTOR_DIR, 'go.mod'), 'utf8');
  const version = /go\.opentelemetry\.io\/collector\/otelcol (v\S+)/.exec(goMod)?.[1] ?? 'unknown';
  const binary = await goBuildCached({ name: 'otelcol-certflow', sourceDir: COLLECTOR_DIR, version, env, log });
  if (!binary) {
    throw new Error(
      `${path.relative(process.cwd(), COLLECTOR_DIR)} is not built and there is no go on PATH to build it. ` +
        'Install Go 1.26 or newer (https://go.dev/dl), or build it yourself with `go build` in that dir and set OTELCOL_PATH.',
    );
  }
  return binary;
}

if (isEntryPoint(import.meta.url)) {
  ensureOtelCollector(process.env, (message) => console.log(message)).then(
    (binary) => console.log(binary),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
