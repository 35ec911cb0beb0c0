/**
 * Vitest globalSetup for integration tests: one embedded Postgres and one headless Temporal dev server per run,
 * in a fresh temp dir on free ports. DATABASE_URL / TEMPORAL_ADDRESS (+ TEMPORAL_NAMESPACE) use existing servers
 * instead. Server logs go to <tempDir>/infra.log; set CERTFLOW_IT_KEEP_TEMP=1 to keep the temp dir afterwards.
 *
 * It also makes sure the ACME clients and pebble exist (scripts/acme-tools.ts: installed or built when missing,
 * a few stat calls when present). If that fails, only the ACME tests fail, with the reason (`acmeToolsError`).
 * Likewise etcd, kube-apiserver and cert-manager's CRDs for the Kubernetes tests (devservices/kube-binaries.ts;
 * `kubeToolsError`).
 */
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../devservices/embedded-postgres.js';
import { startTemporalDevServer } from '../../devservices/temporal-dev-server.js';
import { ensureKubeTools, type KubeTools } from '../../devservices/kube-binaries.js';
import { ensureAcmeTools, type AcmeTools } from '../../scripts/acme-tools.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    temporalNamespace: string;
    /** null when TEMPORAL_ADDRESS points to an external server. */
    temporalDbFile: string | null;
    /** Scratch dir for tests; removed after the run. */
    tempDir: string;
    /** Paths of the ACME clients and servers, or null when they could not be installed (see acmeToolsError). */
    acmeTools: AcmeTools | null;
    acmeToolsError: string | null;
    /** etcd, kube-apiserver and cert-manager's CRDs, or null when they could not be built (see kubeToolsError). */
    kubeTools: KubeTools | null;
    kubeToolsError: string | null;
  }
}

interface Started {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  temporalDbFile: string | null;
  stop: () => Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Before the servers: a first install keeps both cores busy for a while.
  const acme = await ensureAcmeTools((message) => process.stderr.write(`[acme-tools] ${message}\n`)).then(
    (tools) => ({ tools, error: null }),
    (error: unknown) => ({ tools: null, error: error instanceof Error ? error.message : String(error) }),
  );
  project.provide('acmeTools', acme.tools);
  project.provide('acmeToolsError', acme.error);
  const kube = await ensureKubeTools((message) => process.stderr.write(`[kube-tools] ${message}\n`)).then(
    (tools) => ({ tools, error: null }),
    (error: unknown) => ({ tools: null, error: error instanceof Error ? error.message : String(error) }),
  );
  project.provide('kubeTools', kube.tools);
  project.provide('kubeToolsError', kube.error);

  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certflow-it-'));
  // mkdtemp creates mode 0700, but as root Postgres runs as user postgres and must reach its data dir in here.
  await fs.chmod(tempDir, 0o755);
  const logStream = createWriteStream(path.join(tempDir, 'infra.log'));
  const log = (message: string) => logStream.write(`${new Date().toISOString()} ${message}\n`);
  const cleanUp = async () => {
    await new Promise<void>((resolve) => logStream.end(resolve));
    if (!process.env['CERTFLOW_IT_KEEP_TEMP']) await fs.rm(tempDir, { recursive: true, force: true });
  };

  let started: Started;
  try {
    started = await startServers(tempDir, log);
  } catch (error) {
    await cleanUp();
    throw error;
  }

  project.provide('databaseUrl', started.databaseUrl);
  project.provide('temporalAddress', started.temporalAddress);
  project.provide('temporalNamespace', started.temporalNamespace);
  project.provide('temporalDbFile', started.temporalDbFile);
  project.provide('tempDir', tempDir);

  return async () => {
    try {
      await started.stop();
    } finally {
      await cleanUp();
    }
  };
}

async function startServers(tempDir: string, log: (message: string) => void): Promise<Started> {
  const externalDatabaseUrl = process.env['DATABASE_URL'];
  const externalTemporal = process.env['TEMPORAL_ADDRESS'];
  const temporalDbFile = externalTemporal ? null : path.join(tempDir, 'temporal', 'temporal.db');

  const noop = async () => {};
  const [postgres, temporal] = await Promise.allSettled([
    externalDatabaseUrl
      ? { url: externalDatabaseUrl, stop: noop }
      : startEmbeddedPostgres({ dataDir: path.join(tempDir, 'postgres'), log }),
    externalTemporal
      ? { address: externalTemporal, namespace: process.env['TEMPORAL_NAMESPACE'] ?? 'default', stop: noop }
      : startTemporalDevServer({ dbFile: temporalDbFile ?? '', uiPort: null, log }),
  ]);
  const stop = async () => {
    const stops = [postgres, temporal].map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined));
    const failures = (await Promise.allSettled(stops)).filter((r) => r.status === 'rejected');
    if (failures.length > 0) throw new AggregateError(failures.map((f) => f.reason), 'stopping test servers failed');
  };

  if (postgres.status === 'rejected' || temporal.status === 'rejected') {
    await stop().catch(() => {});
    const reasons = [postgres, temporal].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    throw reasons.length === 1 ? reasons[0] : new AggregateError(reasons, 'starting test servers failed');
  }
  return {
    databaseUrl: postgres.value.url,
    temporalAddress: temporal.value.address,
    temporalNamespace: temporal.value.namespace,
    temporalDbFile,
    stop,
  };
}
