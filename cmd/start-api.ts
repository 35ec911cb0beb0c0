/**
 * Composition root of the HTTP API: database, Temporal client, bootstrap token, HTTP server.
 * The API holds no KEK: it gets the worker's sealing public key (CERTFLOW_SEALING_PUBLIC_KEY) and
 * seals webhook secrets to it; `apiConfig` drops the KEK settings before anything here sees them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { createApp } from '../api/app.js';
import { acmeRoot } from '../api/acme/app.js';
import type { AcmeDeps } from '../api/acme/context.js';
import { startAcmeListener, type AcmeListener } from '../api/acme/listener.js';
import { acmeServerCertificate } from '../api/acme/server-certificate.js';
import { loadAcmeEabSecret } from './acme-eab-secret.js';
import { createOidcVerifier } from '../api/oidc.js';
import type { ApiDeps } from '../api/deps.js';
import { decodeSealingPublicKey, type SealingPublicKey } from '../ca/sealed-box.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { ensureBootstrapToken } from '../db/tokens.js';
import { ConfigError, type AcmeSettings, type Config } from './config.js';
import type { DevDefaults } from './destination-rules.js';
import { platformDestinationRules } from './destination-rules.js';
import { createPool } from '../db/postgres-pool.js';
import { loadAuditKey } from './audit-key.js';
import { recordStart } from './audit-startup.js';
import { apiMetrics } from './api-metrics.js';
import type { Tracing } from './tracing.js';
import { clientTracingInterceptors } from './worker-tracing.js';

export interface RunningApi {
  url: string;
  /** The ACME listener (https://…), once Certflow has issued its certificate; null when ACME is off. */
  acmeUrl: Promise<string> | null;
  bootstrapToken: string | null;
  /** What the app runs on (read-only; tests check that no KEK is among it). */
  deps: Readonly<ApiDeps>;
  stop(): Promise<void>;
}

/** The configuration the API is given: everything but the KEK settings. */
export type ApiConfig = Omit<Config, 'kek' | 'kekPrevious'>;

/** Drops the KEK settings from a configuration (a full Config may be handed to the API's start-up). */
export function apiConfig<T extends object>(config: T): Omit<T, 'kek' | 'kekPrevious'> {
  const { kek: _kek, kekPrevious: _kekPrevious, ...rest } = config as T & { kek?: unknown; kekPrevious?: unknown };
  return rest;
}

/** CERTFLOW_SEALING_PUBLIC_KEY; required in production, optional in dev mode (webhooks are then refused). */
export function resolveSealingPublicKey(config: ApiConfig, log: (message: string) => void): SealingPublicKey | null {
  if (config.sealingPublicKey) {
    try {
      return decodeSealingPublicKey(config.sealingPublicKey);
    } catch (error) {
      throw new ConfigError(`CERTFLOW_SEALING_PUBLIC_KEY: ${(error as Error).message} (print it with \`npm run cli -- kek public-key\` where the worker's KEK is)`);
    }
  }
  if (config.production) throw new ConfigError('CERTFLOW_SEALING_PUBLIC_KEY is required when NODE_ENV=production (print it with `npm run cli -- kek public-key` where the worker\'s KEK is)');
  log('WARNING: CERTFLOW_SEALING_PUBLIC_KEY is not set: webhook destinations are refused (503) until it is');
  return null;
}

const READINESS_DEADLINE_MS = 2_000;

export async function startApi(
  given: ApiConfig & { databaseUrl: string; temporalAddress: string; devDefaults?: DevDefaults },
  log: (message: string) => void,
  options: { tracing?: Tracing | null } = {},
): Promise<RunningApi> {
  // A full Config may be passed: its KEK settings stop here.
  const config = apiConfig(given);
  const sealingPublicKey = resolveSealingPublicKey(config, log);
  const pool = createPool(config.databaseUrl, log);
  await applyMigrations(pool, { appRole: config.dbAppRole });
  const db = createDatabase(pool, { auditKey: await loadAuditKey(config, log) });
  await recordStart(db, 'api', config);
  const configuredBootstrapToken = await resolveBootstrapToken(config);
  // The configured token seeds the bootstrap token once; a revoked or rotated one stays so.
  const bootstrapState = configuredBootstrapToken ? await ensureBootstrapToken(db, configuredBootstrapToken) : null;
  if (bootstrapState === 'revoked') log('the bootstrap token is revoked and stays revoked (rotate it with `npm run cli -- token rotate-bootstrap`)');
  if (bootstrapState === 'rotated') log('the configured bootstrap token was rotated away; use the token printed by `token rotate-bootstrap`');
  const bootstrapToken = bootstrapState === 'created' || bootstrapState === 'active' ? configuredBootstrapToken : null;

  const connection = await Connection.connect({ address: config.temporalAddress });
  const tracing = options.tracing ?? null;
  const temporal = new Client({ connection, namespace: config.temporalNamespace, interceptors: clientTracingInterceptors(tracing) });
  const deps: ApiDeps = {
    db,
    temporal,
    taskQueue: config.taskQueue,
    now: () => new Date(),
    sealingPublicKey,
    temporalUiUrl: config.temporalUiUrl,
    minValiditySeconds: config.minValiditySeconds,
    fileDestinationRoot: config.fileDestinationRoot,
    destinationRules: platformDestinationRules(config, { allowPrivate: config.devDefaults?.allowPrivateDestinations }),
    ...(config.rateLimit ? { rateLimit: config.rateLimit } : {}),
    ...(config.oidc ? { oidc: createOidcVerifier(config.oidc) } : {}),
    ...(config.oidc?.cliClientId ? { oidcLogin: { issuer: config.oidc.issuer, audience: config.oidc.audience, cliClientId: config.oidc.cliClientId } } : {}),
    checkReadiness: readinessCheck(pool, connection),
    metrics: apiMetrics({ db, temporal, now: () => new Date(), settings: config.metrics, production: config.production, log }),
    reservedNames: config.acme?.hostnames ?? [],
    ...(tracing ? { tracer: tracing.tracer } : {}),
    ...(config.acme
      ? {
          acme: {
            eabSecret: await loadAcmeEabSecret(config, config.acme.eabSecret, log),
            allowUnboundAccounts: config.acme.allowUnboundAccounts,
            validitySeconds: config.acme.validitySeconds,
          },
        }
      : {}),
  };
  if (config.production && !config.metrics.token) log('GET /metrics answers 403 until CERTFLOW_METRICS_TOKEN is set (production)');
  const logError = (message: string, error?: unknown) => log(`${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const app = createApp(deps, logError);
  const acmeListener = config.acme ? await startAcme(deps as AcmeDeps, config, config.acme, logError, log) : null;

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host}:${port}`,
    acmeUrl: acmeListener?.ready ?? null,
    bootstrapToken,
    deps,
    async stop() {
      await acmeListener?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

/** The HTTPS listener for ACME clients; it starts serving once the worker has issued its certificate. */
async function startAcme(deps: AcmeDeps, config: ApiConfig, settings: AcmeSettings, logError: (message: string, error?: unknown) => void, log: (message: string) => void): Promise<AcmeListener> {
  const currentTls = await acmeServerCertificate(deps, { hostnames: settings.hostnames, directory: join(config.dataDir, 'acme-tls'), log });
  const listener = startAcmeListener(acmeRoot(deps, logError), { host: config.host, port: settings.port, currentTls, log });
  listener.ready.then((url) => log(`ACME directory at ${url}/acme/directory`), (error: unknown) => logError('the ACME listener did not start', error));
  return listener;
}

/** `CERTFLOW_BOOTSTRAP_TOKEN`, or in dev mode a token generated once and kept under the data dir. */
export async function resolveBootstrapToken(config: ApiConfig): Promise<string | null> {
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

/** `/readyz`: Postgres answers a query and Temporal its system info, each within the deadline. */
export function readinessCheck(pool: pg.Pool, connection: Connection): ApiDeps['checkReadiness'] {
  return async () => {
    const [postgres, temporal] = await Promise.all([
      withTimeout(pool.query('select 1'), READINESS_DEADLINE_MS).then(() => true, () => false),
      connection.withDeadline(Date.now() + READINESS_DEADLINE_MS, () => connection.workflowService.getSystemInfo({})).then(() => true, () => false),
    ]);
    return { postgres, temporal };
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
