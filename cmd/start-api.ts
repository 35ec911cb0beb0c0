/** Composition root of the HTTP API: database, Temporal client, bootstrap token, HTTP server. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { ensureBootstrapToken } from '../db/tokens.js';
import type { Config } from './config.js';
import { deriveSecretsKey } from '../ca/key-encryption.js';
import { loadKek } from './kek.js';
import { createPool } from '../db/postgres-pool.js';
import { loadAuditKey } from './audit-key.js';
import { recordStart } from './audit-startup.js';

export interface RunningApi {
  url: string;
  bootstrapToken: string | null;
  stop(): Promise<void>;
}

const READINESS_DEADLINE_MS = 2_000;

export async function startApi(config: Config & { databaseUrl: string; temporalAddress: string }, log: (message: string) => void): Promise<RunningApi> {
  const pool = createPool(config.databaseUrl, log);
  await applyMigrations(pool, { appRole: config.dbAppRole });
  const db = createDatabase(pool, { auditKey: await loadAuditKey(config, log) });
  await recordStart(db, 'api', config);
  const bootstrapToken = await resolveBootstrapToken(config);
  if (bootstrapToken) await ensureBootstrapToken(db, bootstrapToken);

  const secretsKey = deriveSecretsKey(await loadKek(config, log));
  const connection = await Connection.connect({ address: config.temporalAddress });
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  const app = createApp(
    {
      db,
      temporal,
      taskQueue: config.taskQueue,
      now: () => new Date(),
      secretsKey,
      temporalUiUrl: config.temporalUiUrl,
      checkReadiness: async () => {
        const [postgres, temporalUp] = await Promise.all([
          withTimeout(pool.query('select 1'), READINESS_DEADLINE_MS).then(() => true, () => false),
          connection.withDeadline(Date.now() + READINESS_DEADLINE_MS, () => connection.workflowService.getSystemInfo({})).then(() => true, () => false),
        ]);
        return { postgres, temporal: temporalUp };
      },
    },
    (message, error) => log(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
  );

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host}:${port}`,
    bootstrapToken,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

/** `CERTFLOW_BOOTSTRAP_TOKEN`, or in dev mode a token generated once and kept under the data dir. */
async function resolveBootstrapToken(config: Config): Promise<string | null> {
  if (config.bootstrapToken) return config.bootstrapToken;
  if (config.production) return null;
  const path = join(config.dataDir, 'bootstrap-token');
  const existing = await readFile(path, 'utf8').catch(() => null);
  if (existing?.trim()) return existing.trim();
  await mkdir(config.dataDir, { recursive: true });
  const token = `cft_bootstrap_${randomBytes(24).toString('base64url')}`;
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return token;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
