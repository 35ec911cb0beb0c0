/**
 * A real Prometheus (Debian's `prometheus`, scripts/prometheus-tools.ts) on 127.0.0.1 at a free port, with its
 * data in a temp dir, for integration tests; and a small client of its HTTP API (/api/v1/query, /api/v1/alerts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreePort } from '../../devservices/free-port.js';

export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  /** A bearer token file (authorization.credentials_file). */
  tokenFile?: string;
}

export interface RunningPrometheus {
  url: string;
  output(): string;
  /** Instant query: the vector's samples (labels and numeric value). */
  query(expr: string): Promise<Array<{ labels: Record<string, string>; value: number }>>;
  alerts(): Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string; value: string }>>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: { binary: string; dir: string; rules: string; targets: ScrapeTarget[]; intervalSeconds: number }): Promise<RunningPrometheus> {
  await mkdir(join(options.dir, 'data'), { recursive: true });
  const rulesFile = join(options.dir, 'alerts.yml');
  await writeFile(rulesFile, options.rules);
  const config = {
    global: { scrape_interval: `${options.intervalSeconds}s`, evaluation_interval: `${options.intervalSeconds}s`, scrape_timeout: `${options.intervalSeconds}s` },
    rule_files: [rulesFile],
    scrape_configs: options.targets.map((target) => ({
      job_name: target.job,
      ...(target.tokenFile ? { authorization: { credentials_file: target.tokenFile } } : {}),
      static_configs: [{ targets: [target.target] }],
    })),
  };
  const configFile = join(options.dir, 'prometheus.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2)); // JSON is YAML
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    options.binary,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(options.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (code ${child.exitCode}):\n${output}`);
    const ready = await fetch(`${url}/-/ready`).then((response) => response.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready in 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    url,
    output: () => output,
    async query(expr) {
      const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      return data.result.map((sample) => ({ labels: sample.metric, value: Number(sample.value[1]) }));
    },
    async alerts() {
      return (await api<{ alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string; value: string }> }>('/api/v1/alerts')).alerts;
    },
    stop,
  };
}
