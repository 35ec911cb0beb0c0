/**
 * The fault suite's driver: its own restartable Postgres and Temporal dev server, the real API over
 * HTTP, and the fault worker as a child process. It requests certificates that renew every minute
 * or so, revokes some through the API and starts a bulk reissue with revokeSuperseded, while a
 * timeline of faults runs: worker SIGKILLs, Temporal dev server restarts on its SQLite file,
 * Postgres stopped with an immediate shutdown for 30 s, and a signer that fails a fraction of its
 * calls. Then everything settles with faults off, the worker stops gracefully (nothing moves any
 * more), and invariants.ts checks the result.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { ensureCaHierarchy } from '../../activities/ca-bootstrap.js';
import { createApp } from '../../api/app.js';
import { workerSealingKey } from '../../ca/destination-secrets.js';
import { createPool } from '../../db/postgres-pool.js';
import type { LifecycleStatus } from '../../core/lifecycle.js';
import { statusQuery } from '../../contracts/lifecycle-messages.js';
import { createDatabase, type Database } from '../../db/database.js';
import { AuditKey } from '../../db/audit-chain.js';
import { applyMigrations } from '../../db/migrate.js';
import { bulkOperations, certificates } from '../../db/schema.js';
import { ensureBootstrapToken } from '../../db/tokens.js';
import { findFreePort } from '../../devservices/free-port.js';
import { RestartablePostgres, RestartableTemporal, WorkerSupervisor } from './infra.js';
import { integrationTopology } from '../support/topology.js';

export const FAULT_KINDS = ['worker_sigkill', 'temporal_restart', 'postgres_immediate_stop', 'signer_failure'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultConfig {
  size: number;
  validitySeconds: number;
  /** Each certificate renews this long after its issuance (renewBefore = validity − this, minus ≤ 5 % jitter). */
  renewEverySeconds: number;
  chaosSeconds: number;
  workerKillEverySeconds: number;
  temporalRestartEverySeconds: number;
  postgresOutageEverySeconds: number;
  postgresOutageSeconds: number;
  signerFailureRate: number;
  revokeFraction: number;
  bulkWindow: number;
  settleTimeoutSeconds: number;
  /** OCSP is asked (openssl ocsp) for at most this many revoked serials (all of them in the small size). */
  ocspSample: number;
}

const int = (name: string, fallback: number) => {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : Number(value);
};

/** CERTFLOW_FAULTS_SIZE (default 40) scales the rest; each setting has its own CERTFLOW_FAULTS_* override. */
export function faultConfig(): FaultConfig {
  const size = int('CERTFLOW_FAULTS_SIZE', 40);
  const small = size <= 100;
  // About one renewal per certificate per minute in the small size; the full size keeps the steady renewal rate
  // near 4 per second (2 cores), leaving room for the bulk reissue and the restarts.
  const renewEverySeconds = int('CERTFLOW_FAULTS_RENEW_EVERY_SECONDS', Math.max(60, Math.ceil(size / 4)));
  return {
    size,
    validitySeconds: int('CERTFLOW_FAULTS_VALIDITY_SECONDS', Math.max(600, renewEverySeconds * 6)),
    renewEverySeconds,
    chaosSeconds: int('CERTFLOW_FAULTS_CHAOS_SECONDS', small ? 200 : Math.max(900, size / 2)),
    workerKillEverySeconds: int('CERTFLOW_FAULTS_WORKER_KILL_EVERY_SECONDS', small ? 35 : 60),
    temporalRestartEverySeconds: int('CERTFLOW_FAULTS_TEMPORAL_RESTART_EVERY_SECONDS', small ? 90 : 240),
    postgresOutageEverySeconds: int('CERTFLOW_FAULTS_POSTGRES_OUTAGE_EVERY_SECONDS', small ? 150 : 300),
    postgresOutageSeconds: int('CERTFLOW_FAULTS_POSTGRES_OUTAGE_SECONDS', 30),
    signerFailureRate: Number(process.env['CERTFLOW_FAULTS_SIGNER_FAILURE_RATE'] ?? '0.05'),
    revokeFraction: Number(process.env['CERTFLOW_FAULTS_REVOKE_FRACTION'] ?? '0.1'),
    bulkWindow: int('CERTFLOW_FAULTS_BULK_WINDOW', small ? 10 : 50),
    settleTimeoutSeconds: int('CERTFLOW_FAULTS_SETTLE_TIMEOUT_SECONDS', small ? 300 : 1800),
    ocspSample: int('CERTFLOW_FAULTS_OCSP_SAMPLE', small ? 1_000 : 200),
  };
}

export const KEK_HEX = 'c7'.repeat(32);
/** The audit key of the run's processes (CERTFLOW_AUDIT_KEY of the worker children). */
export const AUDIT_KEY_HEX = 'c8'.repeat(32);
export const BOOTSTRAP_TOKEN = 'cft_bootstrap_fault-suite-only-0001';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FaultEvent {
  kind: FaultKind;
  startedAt: string;
  endedAt: string;
  detail: string;
}

export interface RevocationRequest {
  certificateId: string;
  requestedAt: string;
  /** When the API accepted it (202/200, or 409 "already revoked"); null if it never did. */
  acceptedAt: string | null;
  answers: string[];
}

export interface BulkRequest {
  bulkId: string | null;
  requestedAt: string;
  answers: string[];
}

export interface SettleOutcome {
  settled: boolean;
  waitedMs: number;
  /** Lifecycle statuses of the certificates still mid-step (or unreadable) when the bound ran out. */
  unsettled: Array<{ certificateId: string; observed: string }>;
  statuses: Map<string, LifecycleStatus | { closed: string }>;
}

export interface RunContext {
  config: FaultConfig;
  dir: string;
  db: Database;
  client: Client;
  baseUrl: string;
  taskQueue: string;
  teamId: string;
  teamName: string;
  requesterToken: string;
  deliveryRoot: string;
  signerLog: string;
  events: FaultEvent[];
  revocations: RevocationRequest[];
  bulk: BulkRequest | null;
  createdIds: string[];
  creationFailures: string[];
  settle: SettleOutcome | null;
  timings: { startedAt: number; chaosEndedAt: number; settledAt: number; checkedAt: number };
  log: (message: string) => void;
  workers: WorkerSupervisor;
  postgres: RestartablePostgres;
  temporal: RestartableTemporal;
  close(): Promise<void>;
}

/** Starts the services, the API and a worker; creates the team. */
export async function setUp(config: FaultConfig, dir: string): Promise<RunContext> {
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, 'run.log');
  const log = (message: string) => appendFileSync(logFile, `${new Date().toISOString()} ${message}\n`);
  const infraLog = (message: string) => appendFileSync(path.join(dir, 'infra.log'), `${new Date().toISOString()} ${message}\n`);
  const postgres = new RestartablePostgres(path.join(dir, 'postgres'), infraLog);
  // CERTFLOW_IT_TOPOLOGY=postgres: the Temporal server on the run's Postgres instead of the SQLite dev server.
  const onPostgres = integrationTopology() === 'postgres';
  const temporal = new RestartableTemporal(path.join(dir, 'temporal'), infraLog, onPostgres ? () => postgres.url : undefined);
  if (onPostgres) {
    await postgres.start();
    await temporal.start();
  } else {
    await Promise.all([postgres.start(), temporal.start()]);
  }

  const pool = createPool(postgres.url, (message) => log(`test pool: ${message}`), 20);
  await applyMigrations(pool);
  const db = createDatabase(pool, { auditKey: AuditKey.fromSecret(Buffer.from(AUDIT_KEY_HEX, 'hex')) });
  const apiPort = await findFreePort();
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  await ensureCaHierarchy(db, Buffer.from(KEK_HEX, 'hex'), { organization: 'Certflow Faults', publicUrl: baseUrl, now: new Date(), log });
  await ensureBootstrapToken(db, BOOTSTRAP_TOKEN);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `faults-${randomUUID().slice(0, 8)}`;
  const app = createApp(
    {
      db,
      temporal: client,
      taskQueue,
      now: () => new Date(),
      sealingPublicKey: workerSealingKey(Buffer.from(KEK_HEX, 'hex')).publicKey,
      temporalUiUrl: 'http://127.0.0.1:8233',
      fileDestinationRoot: path.join(dir, 'deliveries'),
      destinationRules: { services: [{ name: 'Postgres', host: '127.0.0.1', port: Number(new URL(postgres.url).port) }], allowedExceptions: [], extraDenied: [] },
      checkReadiness: async () => ({ postgres: true, temporal: true }),
    },
    (message, error) => log(`api: ${message} ${String(error)}`),
  );
  const server: ServerType = await new Promise((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: apiPort }, () => resolve(started));
  });
  if ((server.address() as AddressInfo).port !== apiPort) throw new Error('the API did not listen on its port');

  const deliveryRoot = path.join(dir, 'deliveries');
  mkdirSync(deliveryRoot, { recursive: true });
  const signerLog = path.join(dir, 'signer.log');
  const workers = new WorkerSupervisor({
    databaseUrl: () => postgres.url,
    temporalAddress: () => temporal.address,
    taskQueue,
    kekHex: KEK_HEX,
    auditKeyHex: AUDIT_KEY_HEX,
    publicUrl: baseUrl,
    deliveryRoot,
    signerLog,
    outputFile: path.join(dir, 'workers.log'),
  });
  await workers.start(config.signerFailureRate);

  const teamName = `faults-${randomUUID().slice(0, 8)}`;
  const team = await api(baseUrl, 'POST', '/v1/teams', BOOTSTRAP_TOKEN, {
    name: teamName,
    policy: { allowedDomains: ['example.test'], maxValidity: 'P30D', keyAlgorithms: ['ECDSA-P256'] },
  });
  if (team.status !== 201) throw new Error(`creating the team failed: ${team.status} ${JSON.stringify(team.body)}`);
  const teamId = String(team.body['id']);
  const token = await api(baseUrl, 'POST', `/v1/teams/${teamId}/tokens`, BOOTSTRAP_TOKEN, { role: 'requester' });
  if (token.status !== 201) throw new Error(`creating a token failed: ${token.status} ${JSON.stringify(token.body)}`);

  return {
    config,
    dir,
    db,
    client,
    baseUrl,
    taskQueue,
    teamId,
    teamName,
    requesterToken: String(token.body['token']),
    deliveryRoot,
    signerLog,
    events: [],
    revocations: [],
    bulk: null,
    createdIds: [],
    creationFailures: [],
    settle: null,
    timings: { startedAt: Date.now(), chaosEndedAt: 0, settledAt: 0, checkedAt: 0 },
    log,
    workers,
    postgres,
    temporal,
    async close() {
      const steps = [
        () => workers.stop(),
        () => workers.close(),
        () => new Promise<void>((resolve) => server.close(() => resolve())),
        () => connection.close(),
        () => pool.end(),
        () => temporal.stop(),
        () => postgres.stop(),
      ];
      for (const step of steps) await step().catch((error: unknown) => log(`close: ${String(error)}`));
    },
  };
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** One HTTP call to the API; a transport error is status 0. */
export async function api(baseUrl: string, method: string, urlPath: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  try {
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(90_000),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    return { status: 0, body: { error: String(error) } };
  }
}

const describeAnswer = (answer: ApiAnswer) => `${answer.status} ${String(answer.body['detail'] ?? answer.body['title'] ?? answer.body['error'] ?? answer.body['state'] ?? '')}`.trim();

/** The chaos phase: load and faults together, for config.chaosSeconds. */
export async function runChaos(ctx: RunContext): Promise<void> {
  const { config } = ctx;
  const chaosMs = config.chaosSeconds * 1000;
  const start = Date.now();
  const at = (ms: number) => sleep(Math.max(0, start + ms - Date.now()));
  let chaosOver = false;

  // Certificates, requested over the first quarter so that issuance itself meets the faults.
  const creationWindowMs = chaosMs / 4;
  const creation = (async () => {
    const concurrency = 4;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let index = next++; index < config.size; index = next++) {
          await at((creationWindowMs * index) / config.size);
          const id = await createCertificate(ctx, index);
          if (id) ctx.createdIds.push(id);
        }
      }),
    );
  })();

  // Revocations through the API at random times (some while the bulk reissue runs, some during outages).
  const revokeCount = Math.max(2, Math.round(config.size * config.revokeFraction));
  const revocations = (async () => {
    await creation;
    const chosen = shuffle([...ctx.createdIds]).slice(0, revokeCount);
    const times = chosen.map(() => creationWindowMs + Math.random() * (chaosMs * 0.95 - creationWindowMs)).sort((a, b) => a - b);
    await Promise.all(chosen.map(async (certificateId, index) => {
      await at(times[index]!);
      await revokeThroughApi(ctx, certificateId, () => chaosOver);
    }));
  })();

  // The bulk reissue over the whole team, once every certificate exists, before the outages end.
  const bulk = (async () => {
    await creation;
    await at(chaosMs * 0.35);
    await startBulk(ctx);
  })();

  // The fault timeline, one fault at a time (the signer fails all along, in the worker).
  const timeline: Array<{ at: number; kind: Exclude<FaultKind, 'signer_failure'> }> = [];
  for (let t = 15_000; t < chaosMs - 10_000; t += config.workerKillEverySeconds * 1000) timeline.push({ at: t, kind: 'worker_sigkill' });
  for (let t = config.temporalRestartEverySeconds * 500; t < chaosMs - 10_000; t += config.temporalRestartEverySeconds * 1000) timeline.push({ at: t, kind: 'temporal_restart' });
  for (let t = config.postgresOutageEverySeconds * 500; t < chaosMs - config.postgresOutageSeconds * 1000; t += config.postgresOutageEverySeconds * 1000) {
    timeline.push({ at: t, kind: 'postgres_immediate_stop' });
  }
  timeline.sort((a, b) => a.at - b.at);
  const faults = (async () => {
    for (const event of timeline) {
      await at(event.at);
      await injectFault(ctx, event.kind);
    }
  })();

  await Promise.all([creation, bulk, faults, at(chaosMs)]);
  chaosOver = true;
  ctx.timings.chaosEndedAt = Date.now();
  ctx.log(`chaos over: ${ctx.events.length} faults, ${ctx.createdIds.length} certificates`);
  // Revocations still being retried finish in the quiet period (the worker runs without faults then).
  await ctx.workers.stop(); // graceful: switching to a worker whose signer never fails is not a fault
  await ctx.workers.start(0);
  await revocations;
}

async function injectFault(ctx: RunContext, kind: Exclude<FaultKind, 'signer_failure'>): Promise<void> {
  const startedAt = new Date().toISOString();
  let detail = '';
  try {
    switch (kind) {
      case 'worker_sigkill': {
        const pid = await ctx.workers.replace();
        detail = `killed worker pid ${pid ?? 'none (not running)'}`;
        if (pid === null) return; // nothing was killed: not counted
        break;
      }
      case 'temporal_restart':
        await ctx.temporal.kill();
        await sleep(2_000);
        await ctx.temporal.start();
        detail = `SIGKILL and restart on ${ctx.temporal.dir}`;
        break;
      case 'postgres_immediate_stop': {
        await ctx.postgres.stopImmediately();
        await sleep(ctx.config.postgresOutageSeconds * 1000);
        await ctx.postgres.start();
        detail = `pg_ctl stop -m immediate, ${ctx.config.postgresOutageSeconds} s down, restarted on port ${ctx.postgres.port}`;
        break;
      }
    }
    ctx.events.push({ kind, startedAt, endedAt: new Date().toISOString(), detail });
    ctx.log(`fault ${kind}: ${detail}`);
  } catch (error) {
    ctx.log(`fault ${kind} could not be injected: ${String(error)}`);
    throw error;
  }
}

async function createCertificate(ctx: RunContext, index: number): Promise<string | null> {
  const { config } = ctx;
  const body = {
    team: ctx.teamName,
    commonName: `f${index}.example.test`,
    dnsNames: [`f${index}.example.test`],
    keyAlgorithm: 'ECDSA-P256',
    validity: `PT${config.validitySeconds}S`,
    renewBefore: `PT${config.validitySeconds - config.renewEverySeconds}S`,
    destinations: [{ type: 'file', directory: `f${index}` }],
  };
  const key = randomUUID();
  const answers: string[] = [];
  for (let attempt = 1; attempt <= 40; attempt++) {
    const answer = await api(ctx.baseUrl, 'POST', '/v1/certificates', ctx.requesterToken, body, { 'Idempotency-Key': key });
    if (answer.status === 202) return String(answer.body['id']);
    answers.push(describeAnswer(answer));
    // 409: the same key is still being worked on (or its lease must run out first); its answer comes later.
    if (answer.status > 0 && answer.status < 500 && answer.status !== 409) break;
    await sleep(Math.min(5_000, 500 * attempt));
  }
  ctx.creationFailures.push(`f${index}: ${answers.join(' | ')}`);
  ctx.log(`creating f${index} failed: ${answers.join(' | ')}`);
  return null;
}

/** Retries until the API accepts the revocation (202/200, or 409 "already revoked"), with a bound well into the quiet period. */
async function revokeThroughApi(ctx: RunContext, certificateId: string, chaosOver: () => boolean): Promise<void> {
  const request: RevocationRequest = { certificateId, requestedAt: new Date().toISOString(), acceptedAt: null, answers: [] };
  ctx.revocations.push(request);
  let quietSince: number | null = null;
  for (let attempt = 1; ; attempt++) {
    const answer = await api(ctx.baseUrl, 'POST', `/v1/certificates/${certificateId}/revoke`, ctx.requesterToken, { reason: 'cessationOfOperation' });
    request.answers.push(describeAnswer(answer));
    // 202: durably accepted (the lifecycle revokes by itself); 200: revoked at once; 409: revoked already.
    if (answer.status === 202 || answer.status === 200 || (answer.status === 409 && /already revoked/.test(String(answer.body['detail'])))) {
      request.acceptedAt = new Date().toISOString();
      return;
    }
    if (chaosOver()) quietSince ??= Date.now();
    // Faults are over for two minutes and it still refuses: a lifecycle problem; the invariants will show it.
    if (quietSince !== null && Date.now() - quietSince > 120_000) return;
    await sleep(Math.min(5_000, 500 * attempt));
  }
}

async function startBulk(ctx: RunContext): Promise<void> {
  const request: BulkRequest = { bulkId: null, requestedAt: new Date().toISOString(), answers: [] };
  ctx.bulk = request;
  const body = { selector: { teams: [ctx.teamId] }, reason: 'fault suite', revokeSuperseded: true, maxConcurrent: ctx.config.bulkWindow, maxPerSecond: 50 };
  for (let attempt = 1; attempt <= 60; attempt++) {
    const answer = await api(ctx.baseUrl, 'POST', '/v1/bulk-reissues', BOOTSTRAP_TOKEN, body);
    request.answers.push(describeAnswer(answer));
    if (answer.status === 202) {
      request.bulkId = String(answer.body['id']);
      return;
    }
    if (answer.status > 0 && answer.status < 500) return;
    // A start that failed on the server side may have started it anyway: the invariants read every operation of the run.
    await sleep(Math.min(5_000, 500 * attempt));
  }
}

/**
 * The quiet period: faults off (the worker was replaced by one whose signer never fails), wait until
 * every bulk operation finished and no lifecycle is mid-step for long (renewals keep coming every
 * minute or so, so a step begun in the last 45 s without a failure counts as settled), then
 * publish CRLs and stop the worker gracefully.
 */
export async function settle(ctx: RunContext): Promise<SettleOutcome> {
  const started = Date.now();
  const deadline = started + ctx.config.settleTimeoutSeconds * 1000;
  let outcome: SettleOutcome;
  for (;;) {
    outcome = await observeLifecycles(ctx);
    const operations = await ctx.db.select().from(bulkOperations);
    const running = operations.filter((operation) => operation.state !== 'completed' && operation.state !== 'cancelled');
    for (const operation of running) outcome.unsettled.push({ certificateId: `bulk ${operation.id}`, observed: `bulk operation ${operation.state}` });
    outcome.settled = outcome.unsettled.length === 0;
    outcome.waitedMs = Date.now() - started;
    ctx.log(`settle: ${outcome.unsettled.length} unsettled after ${outcome.waitedMs} ms`);
    if (outcome.settled || Date.now() > deadline) break;
    await sleep(5_000);
  }
  ctx.timings.settledAt = Date.now();
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await ctx.client.workflow.execute('crlPublication', { taskQueue: ctx.taskQueue, workflowId: `faults-crl-publication-${attempt}-${Date.now()}`, args: [], workflowExecutionTimeout: '5 minutes' });
      break;
    } catch (error) {
      ctx.log(`crlPublication attempt ${attempt} failed: ${String(error)}`);
    }
  }
  // Graceful stop: in-flight tasks finish, then nothing moves while the invariants are checked.
  await ctx.workers.stop();
  ctx.settle = outcome;
  return outcome;
}

async function observeLifecycles(ctx: RunContext): Promise<SettleOutcome> {
  const rows = await ctx.db.select({ id: certificates.id, workflowId: certificates.workflowId }).from(certificates).where(eq(certificates.teamId, ctx.teamId));
  const statuses = new Map<string, LifecycleStatus | { closed: string }>();
  const unsettled: SettleOutcome['unsettled'] = [];
  const now = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let index = next++; index < rows.length; index = next++) {
        const row = rows[index]!;
        const handle = ctx.client.workflow.getHandle(row.workflowId);
        try {
          const description = await handle.describe();
          if (description.status.name !== 'RUNNING') {
            statuses.set(row.id, { closed: description.status.name });
            continue;
          }
          const status = await handle.query(statusQuery);
          statuses.set(row.id, status);
          const final = (status.state === 'active' && status.pendingStep === 'wait-for-renewal') || (status.state === 'revoked' && status.pendingStep === 'none');
          const freshStep = status.attempt === 0 && status.stateSince !== undefined && now - new Date(status.stateSince).getTime() < 45_000 && (status.state === 'renewing' || status.state === 'issuing' || status.state === 'active');
          if (!final && !freshStep) unsettled.push({ certificateId: row.id, observed: `${status.state}/${status.pendingStep} since ${status.stateSince}, attempt ${status.attempt}, lastError ${status.lastError?.type ?? '-'}: ${status.lastError?.message ?? ''}`.slice(0, 400) });
        } catch (error) {
          unsettled.push({ certificateId: row.id, observed: `status unreadable: ${String(error).slice(0, 300)}` });
        }
      }
    }),
  );
  return { settled: false, waitedMs: 0, unsettled, statuses };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
