/**
 * Integration-test harness on the real services started by global-setup.ts: a Postgres pool with
 * migrations applied, a Temporal client, the real HTTP app, an in-process worker on a task queue of
 * the test file's own, and a worker as a child process (for kill -9 tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type pg from 'pg';
import { inject } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { ActivityDeps } from '../../activities/deps.js';
import { ensureCaHierarchy } from '../../activities/ca-bootstrap.js';
import { DestinationGuard } from '../../activities/destination-guard.js';
import { IssuerStore } from '../../activities/issuer-store.js';
import { createApp } from '../../api/app.js';
import type { ApiDeps } from '../../api/deps.js';
import { workerSealingKey } from '../../ca/destination-secrets.js';
import { loadConfig } from '../../cmd/config.js';
import { readinessCheck } from '../../cmd/start-api.js';
import { LOOPBACK_RANGES, type PlatformDestinationRules } from '../../core/destination-hosts.js';
import { createPool } from '../../db/postgres-pool.js';
import { WORKFLOWS_PATH } from '../../workflows/workflows-path.js';
import { createDatabase, type Database } from '../../db/database.js';
import { AuditKey } from '../../db/audit-chain.js';
import { applyMigrations } from '../../db/migrate.js';
import { newId } from '../../db/ids.js';
import { ensureBootstrapToken } from '../../db/tokens.js';
import { createSigningWorker } from '../../activities/signing-worker.js';

/** Fixed for the whole test run: every worker of the run must open the CA keys the first one sealed. */
export const TEST_KEK_HEX = 'a3'.repeat(32);
/** The audit key of the run's processes (CERTFLOW_AUDIT_KEY of child workers and the audit CLI). */
export const TEST_AUDIT_KEY_HEX = 'a4'.repeat(32);
export const TEST_BOOTSTRAP_TOKEN = 'cft_bootstrap_integration-tests-only';
export const TEST_PUBLIC_URL = 'http://127.0.0.1:8080';
export const TEST_TEMPORAL_UI_URL = 'http://127.0.0.1:8233';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What every harness team may reach: the tests' own receivers and TLS services listen on loopback
 * (the platform's deny list lets loopback through only by the operator exception below).
 */
export const TEST_DESTINATION_HOSTS = { zones: ['example.test'], cidrs: ['127.0.0.0/8', '::1/128'], ports: [] as number[] };

/**
 * The platform rules of the tests: loopback allowed as an operator exception (as
 * CERTFLOW_ALLOW_PRIVATE_DESTINATIONS=loopback would), the test Postgres and Temporal denied.
 */
export function testDestinationRules(databaseUrl: string, temporalAddress: string): PlatformDestinationRules {
  const database = new URL(databaseUrl);
  const [temporalHost = '127.0.0.1', temporalPort = '7233'] = temporalAddress.split(':');
  return {
    services: [
      { name: 'Postgres', host: database.hostname, port: Number(database.port || 5432) },
      { name: 'Temporal server', host: temporalHost, port: Number(temporalPort) },
    ],
    allowedExceptions: [...LOOPBACK_RANGES],
    extraDenied: [],
  };
}

let runtimeInstalled = false;
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
}

export interface Harness {
  db: Database;
  pool: pg.Pool;
  client: Client;
  app: ReturnType<typeof createApp>;
  /** What `app` was built from: a test that needs the app with other settings (OIDC, rate limits) spreads these. */
  apiDeps: ApiDeps;
  taskQueue: string;
  deliveryRoot: string;
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  close(): Promise<void>;
}

/**
 * `temporalAddress` points the harness at a server of the test's own (e.g. one the test restarts); `databaseUrl` at a
 * database of the test's own. `bootstrapCa: false` leaves the CA hierarchy to the worker the test starts.
 */
export async function createHarness(name: string, options: { temporalAddress?: string; databaseUrl?: string; bootstrapCa?: boolean } = {}): Promise<Harness> {
  installQuietRuntime();
  const databaseUrl = options.databaseUrl ?? inject('databaseUrl');
  const temporalAddress = options.temporalAddress ?? inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const pool = createPool(databaseUrl, () => undefined);
  await applyMigrations(pool);
  const db = createDatabase(pool, { auditKey: AuditKey.fromSecret(Buffer.from(TEST_AUDIT_KEY_HEX, 'hex')) });
  if (options.bootstrapCa !== false) {
    await ensureCaHierarchy(db, Buffer.from(TEST_KEK_HEX, 'hex'), { organization: 'Certflow Test', publicUrl: TEST_PUBLIC_URL, now: new Date(), log: () => undefined });
  }
  await ensureBootstrapToken(db, TEST_BOOTSTRAP_TOKEN);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace });
  const taskQueue = `it-${name}-${newId('crt').slice(4, 12)}`;
  const deliveryRoot = await mkdtemp(join(inject('tempDir'), `deliveries-${name}-`));
  const apiDeps: ApiDeps = {
    db,
    temporal: client,
    taskQueue,
    now: () => new Date(),
    sealingPublicKey: workerSealingKey(Buffer.from(TEST_KEK_HEX, 'hex')).publicKey,
    temporalUiUrl: TEST_TEMPORAL_UI_URL,
    fileDestinationRoot: deliveryRoot,
    destinationRules: testDestinationRules(databaseUrl, temporalAddress),
    checkReadiness: readinessCheck(pool, connection),
  };
  const app = createApp(apiDeps, (message, error) => console.error(message, error));
  return {
    db,
    apiDeps,
    pool,
    client,
    app,
    taskQueue,
    deliveryRoot,
    databaseUrl,
    temporalAddress,
    namespace,
    async close() {
      await connection.close();
      await pool.end();
    },
  };
}

let bundle: Promise<{ code: string }> | null = null;
function workflowBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

export interface InProcessWorker {
  stop(): Promise<void>;
}

/** What the real activities run on: the harness's database and Temporal client, the test KEK, its delivery root. */
export function activityDeps(harness: Harness): ActivityDeps {
  const kek = Buffer.from(TEST_KEK_HEX, 'hex');
  return {
    db: harness.db,
    kek,
    issuers: new IssuerStore(harness.db, kek, TEST_PUBLIC_URL),
    now: () => new Date(),
    fileDestinationRoot: harness.deliveryRoot,
    destinationGuard: new DestinationGuard(testDestinationRules(harness.databaseUrl, harness.temporalAddress)),
    temporal: harness.client,
  };
}

/** A worker in the test process, with the real activities against the real database (`deps` replaces some of them). */
export async function startInProcessWorker(
  harness: Harness,
  address = harness.temporalAddress,
  deps: Partial<ActivityDeps> = {},
  signing: { maxPerSecond?: number | null; maxConcurrent?: number } = {},
): Promise<InProcessWorker> {
  const connection = await NativeConnection.connect({ address });
  const activities = createActivities({ ...activityDeps(harness), ...deps });
  const worker = await Worker.create({
    connection,
    namespace: harness.namespace,
    taskQueue: harness.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const signingWorker = await createSigningWorker({ connection, namespace: harness.namespace, taskQueue: harness.taskQueue, activities, ...signing });
  const running = Promise.all([worker.run(), signingWorker.run()]);
  return {
    async stop() {
      for (const each of [worker, signingWorker]) if (each.getState() === 'RUNNING') each.shutdown();
      await running;
      await connection.close();
    },
  };
}

export interface ChildWorker {
  process: ChildProcess;
  output: () => string;
  /** Resolves once the worker reports that it polls its task queue. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The environment of a worker process (or a worker-side command such as `certflow reconcile`) on this harness, plus `extraEnv`. */
export function childWorkerEnvironment(harness: Harness, extraEnv: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // No metrics listener unless the test asks for one (CERTFLOW_WORKER_METRICS_PORT in extraEnv): workers of
    // parallel runs would otherwise all try the default port.
    CERTFLOW_WORKER_METRICS_PORT: '0',
    // The delivery and sweep schedules are namespace-wide: a test that wants them creates its own (test/integration/notifications.test.ts).
    CERTFLOW_NOTIFICATION_INTERVAL: 'off',
    CERTFLOW_INVENTORY_SWEEP_INTERVAL: 'off',
    ...extraEnv,
    DATABASE_URL: harness.databaseUrl,
    TEMPORAL_ADDRESS: harness.temporalAddress,
    TEMPORAL_NAMESPACE: harness.namespace,
    CERTFLOW_TASK_QUEUE: harness.taskQueue,
    CERTFLOW_KEK: TEST_KEK_HEX,
    CERTFLOW_AUDIT_KEY: TEST_AUDIT_KEY_HEX,
    CERTFLOW_FILE_DESTINATION_ROOT: harness.deliveryRoot,
    CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'loopback',
    CERTFLOW_DATA_DIR: join(harness.deliveryRoot, '.worker-data'),
  };
}

/** `cmd/worker.ts` as a real child process, configured like production through the environment (plus `extraEnv`). */
export function startChildWorker(harness: Harness, extraEnv: Record<string, string> = {}): ChildWorker {
  const env = childWorkerEnvironment(harness, extraEnv);
  // Validate the same way the worker will, so a bad test environment fails here with a clear message.
  loadConfig(env);
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/worker.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker polling task queue')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`worker exited early (code ${code}, signal ${signal}):\n${output}`)));
  });
  ready.catch(() => undefined);
  return {
    process: child,
    output: () => output,
    ready,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

export function authHeaders(token: string, json = true): Record<string, string> {
  return json ? { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } : { Authorization: `Bearer ${token}` };
}

/** A team made by createTeamWithTokens: its id and name, and a requester and an admin token. */
export interface Team {
  teamId: string;
  teamName: string;
  requester: string;
  admin: string;
}

/** Creates a team (through the API) and a token of each given role for it. */
export async function createTeamWithTokens(harness: Harness, options: { name?: string; policy?: Record<string, unknown> } = {}): Promise<Team> {
  const teamName = options.name ?? `team-${newId('team').slice(5, 15)}`;
  const policy = {
    destinationHosts: TEST_DESTINATION_HOSTS,
    ...(options.policy ?? { allowedDomains: ['example.test'], allowIpSans: true, maxValidity: 'P30D', keyAlgorithms: ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'Ed25519'] }),
  };
  const teamResponse = await harness.app.request('/v1/teams', {
    method: 'POST',
    headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
    body: JSON.stringify({ name: teamName, policy }),
  });
  if (teamResponse.status !== 201) throw new Error(`creating team failed: ${teamResponse.status} ${await teamResponse.text()}`);
  const { id: teamId } = (await teamResponse.json()) as { id: string };
  const token = async (role: string) => (await createToken(harness, teamId, role)).token;
  return { teamId, teamName, requester: await token('requester'), admin: await token('admin') };
}

/** Mints a token of `role` for the team (through the API, as the platform admin): its id and secret. */
export async function createToken(harness: Harness, teamId: string, role: string): Promise<{ id: string; token: string }> {
  const response = await harness.app.request(`/v1/teams/${teamId}/tokens`, { method: 'POST', headers: authHeaders(TEST_BOOTSTRAP_TOKEN), body: JSON.stringify({ role }) });
  if (response.status !== 201) throw new Error(`creating token failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; token: string };
}

/** Polls `check` until it returns a value other than undefined, or fails with the last observation. */
export async function eventually<T>(check: () => Promise<T | undefined>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
