/**
 * `npm run bench:acme` (and the second phase of `npm run bench`): full ACME issuances per second, new
 * order → valid authorization → finalize → download, against Certflow and against Debian's pebble, with
 * the same clients on the same machine in the same run.
 *
 *   Certflow  embedded Postgres, Temporal dev server (SQLite), the real worker (cmd/worker.ts) as a child
 *             process, and in this process the API's dependencies with the ACME listener on 127.0.0.1
 *             (its TLS certificate issued by the worker); a team whose policy has acme.preauthorized
 *             (authorizations valid at once) and allows bench.example.test; EAB keys for every account
 *   pebble    Debian's pebble 2.4 with PEBBLE_VA_ALWAYS_VALID (each challenge still has to be answered,
 *             then passes unchecked), no EAB, no authorization reuse
 *
 *   light     bench/acme-client.ts, a child process: FLOWS concurrent acme-client flows (one account
 *             each, registered before timing; CSRs with fresh P-256 keys made before timing), a warm-up
 *             round of one issuance per flow, then N timed issuances; issuances/s, p50/p95 latency and,
 *             for Certflow, CPU seconds per issuance by process and Postgres statements per issuance
 *   heavy     Debian's lego, LEGO_PARALLEL processes at a time, each `lego run` for a new name, LEGO_N in
 *             all (one lego directory, so one account, per parallel slot, registered by an untimed run)
 *   ceiling   on the same Temporal server: a workflow started like a lifecycle that runs one local
 *             activity answering a version summary and ends (bench/acme-ceiling-workflows.ts), by its
 *             own worker process, FLOWS at a time; Certflow's light rate as a fraction of it
 *   check     every certificate Certflow handed out has its certificate row (source acme), its version
 *             row, its `certificate.requested` audit event and its lifecycle workflow; every order of the
 *             team is recorded with its certificate
 *
 * Environment: CERTFLOW_BENCH_ACME_N (default 600), CERTFLOW_BENCH_ACME_FLOWS (32),
 * CERTFLOW_BENCH_ACME_LEGO_N (80), CERTFLOW_BENCH_ACME_LEGO_PARALLEL (8), CERTFLOW_BENCH_ACME_POLL_MS
 * (acme-client's first poll delay, 50; doubling up to 1 s), CERTFLOW_BENCH_ACME_ONLY=light|heavy|ceiling
 * (comma-separated; default all), CERTFLOW_BENCH_ACME_TARGETS=certflow|pebble (default both),
 * CERTFLOW_BENCH_ACME_STATEMENTS (how many of the most called statements to show, 12), CERTFLOW_BENCH_PROFILE=<dir> (V8 CPU profiles of the worker and of this
 * process during Certflow's timed light run). Ctrl-C (or SIGTERM) stops everything it started.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { and, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import { ensureCaHierarchy } from '../activities/ca-bootstrap.js';
import { acmeRoot } from '../api/acme/app.js';
import type { AcmeDeps } from '../api/acme/context.js';
import { EabSecret } from '../api/acme/eab.js';
import { startAcmeListener } from '../api/acme/listener.js';
import { acmeServerCertificate } from '../api/acme/server-certificate.js';
import { createApp } from '../api/app.js';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { AuditKey } from '../db/audit-chain.js';
import { createDatabase, type Database } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { createPool } from '../db/postgres-pool.js';
import { acmeOrders, auditEvents, certificates, certificateVersions } from '../db/schema.js';
import { ensureBootstrapToken } from '../db/tokens.js';
import { startEmbeddedPostgres } from '../devservices/embedded-postgres.js';
import { findFreePort } from '../devservices/free-port.js';
import { startTemporalDevServer } from '../devservices/temporal-dev-server.js';
import { ensureAcmeDebianTools } from '../scripts/acme-tools.js';
import { startPebble, type Pebble } from '../test/support/pebble.js';
import type { ChildMessage, ClientSetup, RunResult } from './acme-client.js';
import { cpuSeconds, machineCpuSeconds, postmasterPid, REPO_ROOT, spawnPollingWorker, startWorkerProcess, threadCpuSeconds, treeCpuSeconds } from './processes.js';

const ADMIN = 'cft_bootstrap_acme-benchmark-only';
const KEK_HEX = '5d'.repeat(32);
const AUDIT_KEY_HEX = '5e'.repeat(32);
const TASK_QUEUE = 'bench-acme';
const CEILING_TASK_QUEUE = 'bench-acme-ceiling';
const DOMAIN = 'bench.example.test';
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const N = env('CERTFLOW_BENCH_ACME_N', 600);
const FLOWS = env('CERTFLOW_BENCH_ACME_FLOWS', 32);
const LEGO_N = env('CERTFLOW_BENCH_ACME_LEGO_N', 80);
const LEGO_PARALLEL = env('CERTFLOW_BENCH_ACME_LEGO_PARALLEL', 8);
const POLL_MS = env('CERTFLOW_BENCH_ACME_POLL_MS', 50);
const POLL_MAX_MS = 1_000;
const ONLY = new Set((process.env.CERTFLOW_BENCH_ACME_ONLY ?? 'light,heavy,ceiling').split(','));
const TARGETS = new Set((process.env.CERTFLOW_BENCH_ACME_TARGETS ?? 'certflow,pebble').split(','));
const STATEMENTS_SHOWN = env('CERTFLOW_BENCH_ACME_STATEMENTS', 12);
const PROFILE_DIR = process.env.CERTFLOW_BENCH_PROFILE;
/** Issue 12's targets. */
const TARGET_PER_SECOND = 50;

const log = (message: string) => console.log(`  ${message}`);

/** Things to stop, last started first. */
const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
const onCleanup = (name: string, run: () => Promise<unknown>) => cleanups.push({ name, run });
let cleaning: Promise<void> | null = null;
/** Stops everything started so far, once (Ctrl-C and the end of the run may both ask). */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, run } of cleanups.splice(0).reverse()) {
      await run().catch((error: unknown) => console.error(`  stopping ${name}: ${error instanceof Error ? error.message : String(error)}`));
    }
  })();
  return cleaning;
}

let interrupted = false;
/** Between steps: after Ctrl-C nothing new starts (the services are being stopped). */
function stopIfInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

/** A run that did not end in time: its server stopped answering (Debian's pebble 2.4 sometimes deadlocks under load). */
class Stalled extends Error {
  override name = 'Stalled';
}

/** How long a light run may take: far more than any run that works takes on this machine. */
const lightDeadlineMs = (issuances: number) => 120_000 + issuances * 250;
/** How long the timed lego runs may take, all together. */
const HEAVY_DEADLINE_MS = 120_000 + LEGO_N * 3_000;

/** SIGTERM (unless `signal` is false: it was asked to exit), SIGKILL after `graceMs`. */
function stopChild(child: ChildProcess, graceMs = 10_000, signal = true): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (signal) child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------------------
// CPU accounting

interface Processes {
  worker: number;
  temporal: number;
  postgres: number;
  client?: number;
  pebble?: number;
}

interface CpuSnapshot {
  at: number;
  self: number;
  /** Reaped children of this process (lego runs). */
  reaped: number;
  byProcess: Map<string, number>;
  machine: number;
}

async function snapshot(processes: Processes): Promise<CpuSnapshot> {
  const byProcess = new Map<string, number>();
  for (const [name, pid] of Object.entries(processes) as [string, number | undefined][]) {
    if (pid === undefined) continue;
    byProcess.set(name, await (name === 'postgres' ? treeCpuSeconds(pid) : cpuSeconds(pid)).catch(() => 0));
  }
  const usage = process.cpuUsage();
  const stat = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ');
  return { at: performance.now(), self: (usage.user + usage.system) / 1e6, reaped: (Number(stat[13]) + Number(stat[14])) / 100, byProcess, machine: await machineCpuSeconds() };
}

interface CpuUse {
  seconds: number;
  self: number;
  reaped: number;
  byProcess: Map<string, number>;
  machine: number;
}

function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const byProcess = new Map<string, number>();
  for (const [name, value] of b.byProcess) byProcess.set(name, value - (a.byProcess.get(name) ?? value));
  return { seconds: (b.at - a.at) / 1000, self: b.self - a.self, reaped: b.reaped - a.reaped, byProcess, machine: b.machine - a.machine };
}

// ---------------------------------------------------------------------------------------------------------
// Postgres statements (pg_stat_statements)

interface StatementCount {
  query: string;
  calls: number;
  totalMs: number;
}

async function statementStats(db: Database): Promise<StatementCount[]> {
  const result = await db.execute(
    sql`select query, calls::float8 as calls, total_exec_time as total_ms from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database()) and query not like '%pg_stat_statements%'`,
  );
  return (result.rows as { query: string; calls: number; total_ms: number }[]).map((row) => ({ query: row.query, calls: Number(row.calls), totalMs: Number(row.total_ms) }));
}

async function transactionsCommitted(db: Database): Promise<number> {
  const result = await db.execute(sql`select xact_commit::float8 as commits from pg_stat_database where datname = current_database()`);
  return Number((result.rows[0] as { commits: number }).commits);
}

// ---------------------------------------------------------------------------------------------------------
// Light client (bench/acme-client.ts in a child process)

interface LightTarget {
  name: string;
  directoryUrl: string;
  caFile: string;
  /** Makes an EAB credential; null: accounts register without one. */
  eab: (() => Promise<{ kid: string; hmacKey: string }>) | null;
}

interface LightOutcome {
  target: string;
  result: RunResult;
  warmup: RunResult;
  cpu: CpuUse;
  clientPid: number;
}

class ClientProcess {
  private readonly child: ChildProcess;
  private waiting: { resolve: (message: ChildMessage) => void; reject: (error: Error) => void } | null = null;

  constructor(caFile: string, profileDir?: string) {
    const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    this.child = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/acme-client.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: ChildMessage) => {
      const waiting = this.waiting;
      this.waiting = null;
      if (message.type === 'error') waiting?.reject(new Error(`the ACME client failed: ${message.message}`));
      else waiting?.resolve(message);
    });
    this.child.once('exit', (code) => this.waiting?.reject(new Error(`the ACME client exited (${code})`)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends `message` and waits for the answer, at most `deadlineMs` (then the client is killed and this throws Stalled). */
  ask<T extends ChildMessage>(message: object, deadlineMs: number): Promise<T> {
    return new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.child.kill('SIGKILL');
        reject(new Stalled(`the ACME client got no answer within ${deadlineMs / 1000} s`));
      }, deadlineMs);
      const settle = () => clearTimeout(timer);
      this.waiting = {
        resolve: (answer) => (settle(), resolve(answer)),
        reject: (error) => (settle(), reject(error)),
      };
      this.child.send(message);
    }) as Promise<T>;
  }

  /** Asks it to exit (so that a CPU profile is written), then stops it. */
  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'exit' });
    await stopChild(this.child, 5_000, false);
  }
}

async function runLight(target: LightTarget, processes: Processes, profile?: { start(): Promise<void>; stop(): Promise<void> }): Promise<LightOutcome> {
  const client = new ClientProcess(target.caFile, PROFILE_DIR ? join(PROFILE_DIR, `client-${target.name.toLowerCase()}`) : undefined);
  onCleanup(`${target.name} light client`, () => client.stop());
  const eab = target.eab ? await Promise.all(Array.from({ length: FLOWS }, () => target.eab!())) : null;
  const run = randomBytes(3).toString('hex');
  const names = Array.from({ length: FLOWS + N }, (_, index) => `l${index}-${run}.${DOMAIN}`);
  const setup: ClientSetup = { type: 'setup', directoryUrl: target.directoryUrl, flows: FLOWS, eab, names, backoffMinMs: POLL_MS, backoffMaxMs: POLL_MAX_MS };
  const ready = await client.ask<{ type: 'ready'; setupSeconds: number }>(setup, lightDeadlineMs(names.length));
  log(`${target.name}: ${FLOWS} accounts registered, ${names.length} CSRs made (${ready.setupSeconds.toFixed(1)} s, untimed)`);
  stopIfInterrupted();
  const warmup = await client.ask<RunResult>({ type: 'run', count: FLOWS }, lightDeadlineMs(FLOWS));
  log(`${target.name}: warm-up ${warmup.latenciesMs.length}/${FLOWS} issued in ${warmup.seconds.toFixed(1)} s${warmup.failures.length ? `; failures: ${warmup.failures.slice(0, 3).join('; ')}` : ''}`);
  const withClient = { ...processes, client: client.pid };
  await profile?.start();
  const before = await snapshot(withClient);
  const result = await client.ask<RunResult>({ type: 'run', count: N }, lightDeadlineMs(N)).catch(async (error: unknown) => {
    await profile?.stop();
    throw error;
  });
  const after = await snapshot(withClient);
  await profile?.stop();
  log(`${target.name}: ${result.latenciesMs.length}/${N} issued in ${result.seconds.toFixed(1)} s${result.failures.length ? `; ${result.failures.length} failures, e.g. ${result.failures.slice(0, 3).join('; ')}` : ''}`);
  await client.stop();
  return { target: target.name, result, warmup, cpu: cpuBetween(before, after), clientPid: client.pid };
}

// ---------------------------------------------------------------------------------------------------------
// Heavy client (lego)

interface LegoTarget {
  name: string;
  directoryUrl: string;
  caFile: string;
  eab: (() => Promise<{ kid: string; hmacKey: string }>) | null;
}

interface LegoOutcome {
  target: string;
  seconds: number;
  issued: number;
  failures: string[];
  fingerprints: string[];
  latenciesMs: number[];
  cpu: CpuUse;
}

function lego(binary: string, target: LegoTarget, dir: string, eab: { kid: string; hmacKey: string } | null, name: string): Promise<{ ok: boolean; output: string }> {
  const args = [
    '--server', target.directoryUrl,
    '--accept-tos',
    '--email', `bench@${DOMAIN}`,
    ...(eab ? ['--eab', '--kid', eab.kid, '--hmac', eab.hmacKey] : []),
    '--path', dir,
    '--http', '--http.port', '127.0.0.1:0',
    '--domains', name,
    'run',
  ];
  return new Promise((resolve) => {
    const child = execFile(binary, args, { env: { ...process.env, LEGO_CA_CERTIFICATES: target.caFile }, timeout: 120_000 }, (error, stdout, stderr) => {
      legoRuns.delete(child);
      resolve({ ok: !error, output: `${stdout}${stderr}` });
    });
    legoRuns.add(child);
  });
}

/** The lego processes running now: an interrupted run kills them (lego retries a server that is gone for minutes). */
const legoRuns = new Set<ChildProcess>();

async function legoFingerprint(dir: string, name: string): Promise<string> {
  const pem = await readFile(join(dir, 'certificates', `${name}.crt`), 'utf8');
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

async function runHeavy(binary: string, target: LegoTarget, temp: string, processes: Processes): Promise<LegoOutcome> {
  onCleanup(`${target.name} lego runs`, async () => {
    for (const child of legoRuns) child.kill('SIGKILL');
  });
  const run = randomBytes(3).toString('hex');
  const slots = await Promise.all(
    Array.from({ length: LEGO_PARALLEL }, async (_, slot) => {
      const dir = join(temp, `lego-${target.name.toLowerCase()}-${slot}`);
      await mkdir(dir, { recursive: true });
      return { dir, eab: target.eab ? await target.eab() : null };
    }),
  );
  // One untimed run per slot registers its account (lego keeps it in the slot's directory).
  const fingerprints: string[] = [];
  const warmups = await Promise.all(slots.map((slot, index) => lego(binary, target, slot.dir, slot.eab, `w${index}-${run}.${DOMAIN}`)));
  const failedWarmup = warmups.find((outcome) => !outcome.ok);
  if (failedWarmup) throw new Error(`lego against ${target.name} failed to register: ${failedWarmup.output.slice(-2000)}`);
  for (const [index, slot] of slots.entries()) fingerprints.push(await legoFingerprint(slot.dir, `w${index}-${run}.${DOMAIN}`));

  const failures: string[] = [];
  const latenciesMs: number[] = [];
  let next = 0;
  let stalled = false;
  const deadline = setTimeout(() => {
    stalled = true;
    for (const child of legoRuns) child.kill('SIGKILL');
  }, HEAVY_DEADLINE_MS);
  const before = await snapshot(processes);
  await Promise.all(
    slots.map(async (slot) => {
      for (let index = next++; index < LEGO_N && !stalled; index = next++) {
        stopIfInterrupted();
        const name = `h${index}-${run}.${DOMAIN}`;
        const started = performance.now();
        const outcome = await lego(binary, target, slot.dir, slot.eab, name);
        if (!outcome.ok) {
          failures.push(`${name}: ${outcome.output.split('\n').filter(Boolean).slice(-2).join(' ')}`);
          continue;
        }
        latenciesMs.push(performance.now() - started);
        fingerprints.push(await legoFingerprint(slot.dir, name));
      }
    }),
  );
  clearTimeout(deadline);
  if (stalled) throw new Stalled(`the lego runs did not end within ${HEAVY_DEADLINE_MS / 1000} s (${latenciesMs.length} of ${LEGO_N} issued)`);
  const after = await snapshot(processes);
  const cpu = cpuBetween(before, after);
  log(`${target.name}: lego ${latenciesMs.length}/${LEGO_N} issued in ${cpu.seconds.toFixed(1)} s${failures.length ? `; failures: ${failures.slice(0, 3).join('; ')}` : ''}`);
  return { target: target.name, seconds: cpu.seconds, issued: latenciesMs.length, failures, fingerprints, latenciesMs, cpu };
}

// ---------------------------------------------------------------------------------------------------------
// Ceiling: a workflow start and one local activity on the same Temporal server

interface CeilingOutcome {
  seconds: number;
  completed: number;
  latenciesMs: number[];
  cpu: CpuUse;
}

async function runCeiling(temporal: { address: string }, client: Client, processes: Processes): Promise<CeilingOutcome> {
  const worker = await spawnPollingWorker('bench/acme-ceiling-worker.ts', { TEMPORAL_ADDRESS: temporal.address, CERTFLOW_TASK_QUEUE: CEILING_TASK_QUEUE });
  onCleanup('ceiling worker', () => stopChild(worker));
  const run = randomBytes(3).toString('hex');
  const once = (index: number) => {
    const certificateId = `crt_ceiling_${run}_${index}`;
    return client.workflow.execute('ceilingIssuance', {
      taskQueue: CEILING_TASK_QUEUE,
      workflowId: `ceiling/${certificateId}`,
      args: [{ certificateId }],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTE_KEYS.certificateId, value: certificateId },
        { key: SEARCH_ATTRIBUTE_KEYS.team, value: 'bench' },
        { key: SEARCH_ATTRIBUTE_KEYS.commonName, value: `${certificateId}.${DOMAIN}` },
        { key: SEARCH_ATTRIBUTE_KEYS.certState, value: 'pending' },
        { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 },
      ],
    });
  };
  const drive = async (from: number, total: number, latenciesMs: number[]) => {
    let next = from;
    const end = from + total;
    await Promise.all(
      Array.from({ length: FLOWS }, async () => {
        for (let index = next++; index < end; index = next++) {
          stopIfInterrupted();
          const started = performance.now();
          await once(index);
          latenciesMs.push(performance.now() - started);
        }
      }),
    );
  };
  const withWorker = { ...processes, client: worker.pid! };
  await drive(0, FLOWS, []);
  const latenciesMs: number[] = [];
  const before = await snapshot(withWorker);
  await drive(FLOWS, N, latenciesMs);
  const after = await snapshot(withWorker);
  await stopChild(worker);
  const cpu = cpuBetween(before, after);
  log(`ceiling: ${latenciesMs.length}/${N} workflows in ${cpu.seconds.toFixed(1)} s`);
  return { seconds: cpu.seconds, completed: latenciesMs.length, latenciesMs, cpu };
}

// ---------------------------------------------------------------------------------------------------------
// Durability check

interface DurabilityReport {
  handedOut: number;
  versions: number;
  acmeCertificates: number;
  requestedEvents: number;
  workflows: number;
  orders: number;
  ordersWithCertificate: number;
  problems: string[];
}

async function checkDurability(db: Database, client: Client, teamId: string, fingerprints: string[]): Promise<DurabilityReport> {
  const problems: string[] = [];
  const unique = [...new Set(fingerprints)];
  if (unique.length !== fingerprints.length) problems.push(`${fingerprints.length - unique.length} certificates were handed out twice`);
  const versions = await db.select({ id: certificateVersions.id, certificateId: certificateVersions.certificateId }).from(certificateVersions).where(inArray(certificateVersions.fingerprintSha256, unique));
  const certificateIds = [...new Set(versions.map((version) => version.certificateId))];
  const rows = certificateIds.length
    ? await db.select({ id: certificates.id, workflowId: certificates.workflowId }).from(certificates).where(and(inArray(certificates.id, certificateIds), eq(certificates.source, 'acme'), eq(certificates.teamId, teamId)))
    : [];
  const requested = certificateIds.length
    ? await db.selectDistinct({ certificateId: auditEvents.certificateId }).from(auditEvents).where(and(eq(auditEvents.action, 'certificate.requested'), inArray(auditEvents.certificateId, certificateIds)))
    : [];
  const workflowIds = new Set<string>();
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'certificateLifecycle'` })) workflowIds.add(execution.workflowId);
  const withWorkflow = rows.filter((row) => workflowIds.has(row.workflowId)).length;
  const [orders] = await db.select({ all: count(), unissued: sql<number>`count(*) filter (where ${acmeOrders.certificateId} is null)` }).from(acmeOrders).where(eq(acmeOrders.teamId, teamId));
  const [unfinished] = await db.select({ n: count() }).from(acmeOrders).where(and(eq(acmeOrders.teamId, teamId), isNull(acmeOrders.certificateId)));
  if (versions.length !== unique.length) problems.push(`${unique.length - versions.length} handed-out certificates have no version row`);
  if (rows.length !== certificateIds.length) problems.push(`${certificateIds.length - rows.length} certificates are not the team's ACME certificates`);
  if (requested.length !== certificateIds.length) problems.push(`${certificateIds.length - requested.length} certificates have no certificate.requested event`);
  if (withWorkflow !== rows.length) problems.push(`${rows.length - withWorkflow} certificates have no lifecycle workflow`);
  if (unfinished!.n > 0) problems.push(`${unfinished!.n} orders of the team have no certificate`);
  return {
    handedOut: fingerprints.length,
    versions: versions.length,
    acmeCertificates: rows.length,
    requestedEvents: requested.length,
    workflows: withWorkflow,
    orders: orders!.all,
    ordersWithCertificate: orders!.all - Number(orders!.unissued),
    problems,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Report

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

function cpuLine(cpu: CpuUse, issued: number, names: [string, string][]): string {
  const parts = names.map(([key, label]) => {
    const seconds = key === 'self' ? cpu.self : key === 'reaped' ? cpu.reaped : (cpu.byProcess.get(key) ?? 0);
    return `${label} ${fixed((1000 * seconds) / issued)}`;
  });
  const ours = cpu.self + cpu.reaped + [...cpu.byProcess.values()].reduce((sum, seconds) => sum + seconds, 0);
  return (
    `${parts.join(', ')}; machine ${fixed((1000 * cpu.machine) / issued)} ms (${fixed((100 * cpu.machine) / (cpu.seconds * cpus().length), 0)} % of ${cpus().length} CPUs, ` +
    `of which ${fixed((1000 * Math.max(0, cpu.machine - ours)) / issued)} ms by processes this benchmark did not start)`
  );
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log('Certflow ACME benchmark (issue 12)');
  console.log(`  node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}); light: ${FLOWS} acme-client flows, ${N} issuances; heavy: lego ×${LEGO_PARALLEL}, ${LEGO_N} issuances; poll ${POLL_MS} ms doubling to ${POLL_MAX_MS} ms`);
  const tools = await ensureAcmeDebianTools(process.env, (message) => log(message));
  const temp = await mkdtemp(join(tmpdir(), 'certflow-bench-acme-'));
  await chmod(temp, 0o755);
  onCleanup('temp dir', () => rm(temp, { recursive: true, force: true }));

  const postgres = await startEmbeddedPostgres({ dataDir: join(temp, 'postgres'), settings: { shared_preload_libraries: 'pg_stat_statements' } });
  onCleanup('postgres', () => postgres.stop());
  const temporal = await startTemporalDevServer({ dbFile: join(temp, 'temporal.db'), uiPort: null });
  onCleanup('temporal', () => temporal.stop());
  const pool = createPool(postgres.url, () => undefined);
  onCleanup('pool', () => pool.end());
  await applyMigrations(pool);
  const db = createDatabase(pool, { auditKey: AuditKey.fromSecret(Buffer.from(AUDIT_KEY_HEX, 'hex')) });
  await db.execute(sql`create extension if not exists pg_stat_statements`);
  const kek = Buffer.from(KEK_HEX, 'hex');
  await ensureCaHierarchy(db, kek, { organization: 'Certflow Bench', publicUrl: 'http://127.0.0.1:8080', now: new Date(), log: () => undefined });
  await ensureBootstrapToken(db, ADMIN);
  const connection = await Connection.connect({ address: temporal.address });
  onCleanup('temporal connection', () => connection.close());
  const client = new Client({ connection });
  const deps: AcmeDeps = {
    db,
    temporal: client,
    taskQueue: TASK_QUEUE,
    now: () => new Date(),
    sealingPublicKey: workerSealingKey(kek).publicKey,
    temporalUiUrl: 'http://127.0.0.1:8233',
    fileDestinationRoot: join(temp, 'deliveries'),
    destinationRules: { services: [], allowedExceptions: [], extraDenied: [] },
    checkReadiness: async () => ({ postgres: true, temporal: true }),
    acme: { eabSecret: EabSecret.fromBytes(randomBytes(32)), allowUnboundAccounts: false, validitySeconds: 7 * 86_400 },
  };
  const app = createApp(deps);
  const worker = await startWorkerProcess(
    {
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporal.address,
      CERTFLOW_TASK_QUEUE: TASK_QUEUE,
      CERTFLOW_KEK: KEK_HEX,
      CERTFLOW_AUDIT_KEY: AUDIT_KEY_HEX,
      CERTFLOW_FILE_DESTINATION_ROOT: join(temp, 'deliveries'),
      CERTFLOW_DATA_DIR: join(temp, 'worker-data'),
    },
    PROFILE_DIR,
  );
  onCleanup('worker', () => stopChild(worker, 30_000));

  const admin = { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' };
  const teamResponse = await app.request('/v1/teams', {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'bench', policy: { allowedDomains: [DOMAIN], acme: { preauthorized: true } } }),
  });
  if (teamResponse.status !== 201) throw new Error(`creating the team: ${teamResponse.status} ${await teamResponse.text()}`);
  const { id: teamId } = (await teamResponse.json()) as { id: string };
  const certflowEab = async () => {
    const response = await app.request(`/v1/teams/${teamId}/acme-eab-keys`, { method: 'POST', headers: admin });
    if (response.status !== 201) throw new Error(`creating an EAB key: ${response.status} ${await response.text()}`);
    const key = (await response.json()) as { keyId: string; hmacKey: string };
    return { kid: key.keyId, hmacKey: key.hmacKey };
  };

  const currentTls = await acmeServerCertificate(deps, { hostnames: ['127.0.0.1'], directory: join(temp, 'acme-tls'), log: () => undefined });
  const listener = startAcmeListener(acmeRoot(deps, (message, error) => interrupted || console.error(message, error)), { host: '127.0.0.1', port: 0, currentTls, log: () => undefined });
  onCleanup('ACME listener', () => listener.stop());
  const baseUrl = await listener.ready;
  const rootsFile = join(temp, 'certflow-roots.pem');
  await writeFile(rootsFile, await (await app.request('/pki/roots.pem')).text());

  let pebbles = 0;
  const startBenchPebble = async (): Promise<Pebble> => {
    const started = await startPebble({ binary: tools.pebble, dir: join(temp, `pebble-${pebbles++}`), dnsServer: `127.0.0.1:${await findFreePort()}`, eab: 'off', alwaysValid: true, authzReusePercent: 0 });
    onCleanup('pebble', () => started.stop());
    return started;
  };
  let pebble = await startBenchPebble();
  const stalls: string[] = [];
  /**
   * A pebble phase, once more on a new pebble if the first attempt stalled (Debian's pebble 2.4 now and
   * then stops answering under 32 concurrent flows, its in-memory store deadlocked); a second stall is reported.
   */
  const onPebble = async <T>(phase: string, run: (current: Pebble) => Promise<T>): Promise<T | null> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(pebble);
      } catch (error) {
        if (!(error instanceof Stalled)) throw error;
        stalls.push(`${phase} pebble (attempt ${attempt}): ${error.message}`);
        log(`pebble stalled (${error.message}); starting a new pebble${attempt === 1 ? ' and running the phase again' : ''}`);
        await pebble.stop();
        stopIfInterrupted();
        pebble = await startBenchPebble();
        if (attempt === 2) return null;
      }
    }
  };
  const postgresPid = await postmasterPid(join(temp, 'postgres'));
  const processes: Processes = { worker: worker.pid!, temporal: temporal.pid!, postgres: postgresPid };
  const [fsync, synchronousCommit] = await Promise.all(['fsync', 'synchronous_commit'].map(async (name) => ((await db.execute(sql.raw(`show ${name}`))).rows[0] as Record<string, string>)[name]));
  log(`Certflow ACME directory ${baseUrl}/acme/directory (Postgres fsync=${fsync}, synchronous_commit=${synchronousCommit}); pebble ${pebble.directoryUrl}`);

  const certflowFingerprints: string[] = [];
  const light: LightOutcome[] = [];
  let statements: { perIssuance: number; transactionsPerIssuance: number; top: StatementCount[] } | null = null;
  stopIfInterrupted();
  if (ONLY.has('light')) {
    console.log('\nlight client: acme-client');
    let session: Session | null = null;
    const profile = PROFILE_DIR
      ? {
          start: async () => {
            session = new Session();
            session.connect();
            await session.post('Profiler.enable');
            await session.post('Profiler.start');
          },
          stop: async () => {
            const { profile: result } = await session!.post('Profiler.stop');
            await mkdir(PROFILE_DIR, { recursive: true });
            await writeFile(join(PROFILE_DIR, 'api.cpuprofile'), JSON.stringify(result));
            session!.disconnect();
          },
        }
      : undefined;
    // Statements and transactions of Certflow's timed run only: reset after its warm-up (the profile hook runs then).
    let transactionsBefore = 0;
    const measuredProfile = {
      start: async () => {
        await db.execute(sql`select pg_stat_statements_reset()`);
        transactionsBefore = await transactionsCommitted(db);
        await profile?.start();
      },
      stop: async () => {
        await profile?.stop();
        const transactions = (await transactionsCommitted(db)) - transactionsBefore;
        const top = (await statementStats(db)).sort((a, b) => b.calls - a.calls);
        const calls = top.reduce((sum, statement) => sum + statement.calls, 0);
        statements = { perIssuance: calls / N, transactionsPerIssuance: transactions / N, top };
      },
    };
    if (TARGETS.has('certflow')) {
      const certflowLight = await runLight({ name: 'Certflow', directoryUrl: `${baseUrl}/acme/directory`, caFile: rootsFile, eab: certflowEab }, processes, measuredProfile);
      certflowFingerprints.push(...certflowLight.warmup.fingerprints, ...certflowLight.result.fingerprints);
      light.push(certflowLight);
    }
    if (TARGETS.has('pebble')) {
      const pebbleLight = await onPebble('light', (current) =>
        runLight({ name: 'pebble', directoryUrl: current.directoryUrl, caFile: current.caBundlePath, eab: null }, { ...processes, pebble: current.process.pid! }),
      );
      if (pebbleLight) light.push(pebbleLight);
    }
  }

  const heavy: LegoOutcome[] = [];
  stopIfInterrupted();
  if (ONLY.has('heavy')) {
    console.log('\nheavy client: lego');
    if (TARGETS.has('certflow')) {
      const certflowHeavy = await runHeavy(tools.lego, { name: 'Certflow', directoryUrl: `${baseUrl}/acme/directory`, caFile: rootsFile, eab: certflowEab }, temp, processes);
      certflowFingerprints.push(...certflowHeavy.fingerprints);
      heavy.push(certflowHeavy);
    }
    if (TARGETS.has('pebble')) {
      const pebbleHeavy = await onPebble('heavy', (current) =>
        runHeavy(tools.lego, { name: 'pebble', directoryUrl: current.directoryUrl, caFile: current.caBundlePath, eab: null }, temp, { ...processes, pebble: current.process.pid! }),
      );
      if (pebbleHeavy) heavy.push(pebbleHeavy);
    }
  }

  let ceiling: CeilingOutcome | null = null;
  stopIfInterrupted();
  if (ONLY.has('ceiling')) {
    console.log('\nceiling: workflow start + one local activity, same Temporal server');
    ceiling = await runCeiling(temporal, client, processes);
  }

  stopIfInterrupted();
  console.log('\ncheck: every certificate Certflow handed out is recorded');
  const durability = await checkDurability(db, client, teamId, certflowFingerprints);
  log(
    `${durability.handedOut} handed out: ${durability.versions} version rows, ${durability.acmeCertificates} certificate rows (source acme), ` +
      `${durability.requestedEvents} certificate.requested events, ${durability.workflows} lifecycle workflows; team orders ${durability.orders}, with a certificate ${durability.ordersWithCertificate}`,
  );
  log(durability.problems.length === 0 ? 'durability: OK' : `durability: FAILED: ${durability.problems.join('; ')}`);

  console.log('\nresults');
  for (const outcome of light) {
    const { result } = outcome;
    const issued = result.latenciesMs.length;
    const rate = issued / result.seconds;
    log(
      `light ${outcome.target.padEnd(8)} ${fixed(rate).padStart(6)} issuances/s   p50 ${fixed(percentile(result.latenciesMs, 50), 0)} ms, p95 ${fixed(percentile(result.latenciesMs, 95), 0)} ms, ` +
        `${fixed(result.requests / Math.max(1, issued))} HTTP requests per issuance${result.failures.length ? `, ${result.failures.length} FAILED` : ''}`,
    );
    const names: [string, string][] = outcome.target === 'Certflow'
      ? [['self', 'API'], ['worker', 'worker'], ['temporal', 'Temporal'], ['postgres', 'Postgres'], ['client', 'client']]
      : [['pebble', 'pebble'], ['client', 'client'], ['self', 'bench process']];
    log(`      CPU ms per issuance: ${cpuLine(outcome.cpu, issued, names)}`);
  }
  const certflowRate = light.find((outcome) => outcome.target === 'Certflow');
  const pebbleRate = light.find((outcome) => outcome.target === 'pebble');
  if (certflowRate && pebbleRate) {
    const certflow = certflowRate.result.latenciesMs.length / certflowRate.result.seconds;
    const reference = pebbleRate.result.latenciesMs.length / pebbleRate.result.seconds;
    log(`light: Certflow ${fixed((100 * certflow) / reference, 0)} % of pebble's rate (target ≥ 100 %: ${certflow >= reference ? 'met' : 'MISSED'}); ≥ ${TARGET_PER_SECOND}/s: ${certflow >= TARGET_PER_SECOND ? 'met' : 'MISSED'}`);
  }
  if (statements) {
    const stats = statements as { perIssuance: number; transactionsPerIssuance: number; top: StatementCount[] };
    log(`Postgres during Certflow's timed light run: ${fixed(stats.perIssuance)} statements and ${fixed(stats.transactionsPerIssuance)} commits per issuance; most called (calls per issuance, mean ms):`);
    for (const statement of stats.top.slice(0, STATEMENTS_SHOWN)) log(`      ${fixed(statement.calls / N).padStart(5)}  ${fixed(statement.totalMs / statement.calls, 2).padStart(6)}  ${statement.query.replace(/\s+/g, ' ').slice(0, 110)}`);
  }
  if (certflowRate) {
    const threads = await threadCpuSeconds(worker.pid!).catch(() => new Map<string, number>());
    log(`worker threads (whole run, CPU s): ${[...threads].filter(([, seconds]) => seconds >= 0.5).sort((a, b) => b[1] - a[1]).map(([name, seconds]) => `${name} ${fixed(seconds)}`).join(', ')}`);
  }
  for (const outcome of heavy) {
    log(
      `heavy ${outcome.target.padEnd(8)} ${fixed(outcome.issued / outcome.seconds).padStart(6)} issuances/s   p50 ${fixed(percentile(outcome.latenciesMs, 50), 0)} ms, p95 ${fixed(percentile(outcome.latenciesMs, 95), 0)} ms per lego run${outcome.failures.length ? `, ${outcome.failures.length} FAILED` : ''}`,
    );
    const names: [string, string][] = outcome.target === 'Certflow'
      ? [['self', 'API'], ['worker', 'worker'], ['temporal', 'Temporal'], ['postgres', 'Postgres'], ['reaped', 'lego']]
      : [['pebble', 'pebble'], ['reaped', 'lego']];
    log(`      CPU ms per issuance: ${cpuLine(outcome.cpu, outcome.issued, names)}`);
  }
  if (ceiling) {
    const rate = ceiling.completed / ceiling.seconds;
    log(`ceiling        ${fixed(rate).padStart(6)} workflows/s      p50 ${fixed(percentile(ceiling.latenciesMs, 50), 0)} ms, p95 ${fixed(percentile(ceiling.latenciesMs, 95), 0)} ms (start + one local activity, ${FLOWS} at a time)`);
    log(`      CPU ms per workflow: ${cpuLine(ceiling.cpu, ceiling.completed, [['self', 'starter'], ['client', 'ceiling worker'], ['temporal', 'Temporal'], ['worker', 'idle Certflow worker'], ['postgres', 'Postgres']])}`);
    if (certflowRate) {
      const certflow = certflowRate.result.latenciesMs.length / certflowRate.result.seconds;
      log(`Certflow light rate is ${fixed((100 * certflow) / rate, 0)} % of the ceiling`);
    }
  }
  for (const stall of stalls) log(`STALLED: ${stall}`);
  const pebbleMissing = TARGETS.has('pebble') && ((ONLY.has('light') && !pebbleRate) || (ONLY.has('heavy') && !heavy.some((outcome) => outcome.target === 'pebble')));
  if (pebbleMissing) log('no pebble figure for a phase: pebble stalled twice');
  if (durability.problems.length > 0 || pebbleMissing || light.some((outcome) => outcome.result.failures.length > 0) || heavy.some((outcome) => outcome.failures.length > 0)) process.exitCode = 1;
}

const interrupt = () => {
  if (interrupted) return;
  interrupted = true;
  console.error('\ninterrupted: stopping everything started');
  void cleanUp().finally(() => process.exit(130));
};
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);
try {
  await main();
} catch (error) {
  if (!interrupted) console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
// Nothing started is left; connections the SDKs keep must not hold the process.
process.exit(interrupted ? 130 : (process.exitCode ?? 0));
