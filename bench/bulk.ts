/**
 * `npm run bench:bulk [-- N ...]` (default N = 2000): a full bulk reissue on one machine, on the
 * Temporal dev server (SQLite) and an embedded Postgres, with the real worker as a child process.
 *
 *   seed    N managed certificates through the API, each with a file destination whose `verify`
 *           names a TLS endpoint (one SNI server serving every destination's files), all active
 *   measure one bulkReissue over all of them (reissue + deliver + verify, superseded versions
 *           revoked), from start to the last outcome, with the worker's, the server's and
 *           Postgres' CPU time and peak memory (RSS sampled every 250 ms) during the run
 *   check   every certificate has exactly one new active version and a `verified` outcome
 *
 * Window and rate: CERTFLOW_BULK_MAX_CONCURRENT (default 100), CERTFLOW_BULK_MAX_PER_SECOND (default 200).
 * Profile: CERTFLOW_BENCH_WORKER_PROFILE=<dir> makes the worker write V8 CPU profiles there.
 * Ctrl-C (or SIGTERM) stops everything it started.
 */
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, createServer, type SecureContext } from 'node:tls';
import { Client, Connection } from '@temporalio/client';
import { and, count, eq, inArray } from 'drizzle-orm';
import { ensureCaHierarchy } from '../activities/ca-bootstrap.js';
import { createApp } from '../api/app.js';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { EMPTY_COUNTS, type BulkProgress, type BulkReissueInput } from '../core/bulk.js';
import { createPool } from '../db/postgres-pool.js';
import { insertBulkOperation, listBulkItems } from '../db/bulk.js';
import { createDatabase, type Database } from '../db/database.js';
import { AuditKey } from '../db/audit-chain.js';
import { newId } from '../db/ids.js';
import { applyMigrations } from '../db/migrate.js';
import { certificates, certificateVersions } from '../db/schema.js';
import { ensureBootstrapToken } from '../db/tokens.js';
import { startEmbeddedPostgres } from '../devservices/embedded-postgres.js';
import { startTemporalDevServer } from '../devservices/temporal-dev-server.js';
import { bulkProgressQuery, bulkWorkflowId } from '../contracts/bulk-messages.js';
import { childPids, cpuSeconds, machineCpuSeconds, postmasterPid, rssBytes, startWorkerProcess, threadCpuSeconds, treeCpuSeconds, treeRssBytes } from './processes.js';

const ADMIN = 'cft_bootstrap_bulk-benchmark-only';
const KEK_HEX = '5b'.repeat(32);
const AUDIT_KEY_HEX = '5c'.repeat(32);
const TASK_QUEUE = 'bench-bulk';
const SEED_CONCURRENCY = 32;
const MAX_CONCURRENT = Number(process.env.CERTFLOW_BULK_MAX_CONCURRENT ?? 100);
const MAX_PER_SECOND = Number(process.env.CERTFLOW_BULK_MAX_PER_SECOND ?? 200);
const TARGET_SECONDS: Record<number, number> = { 2000: 60, 10000: 300 };

interface ProcessSample {
  name: string;
  pid: number;
  cpuStart: number;
  peakRssBytes: number;
}

/** One TLS server for every destination: the SNI name picks `<root>/<name>/fullchain.pem` and `key.pem`. */
async function startSniService(deliveryRoot: string) {
  const cache = new Map<string, { certificate: string; context: SecureContext }>();
  const server = createServer({
    SNICallback: (name, callback) => {
      const directory = join(deliveryRoot, name.split('.')[0]!);
      Promise.all([readFile(join(directory, 'fullchain.pem'), 'utf8'), readFile(join(directory, 'key.pem'), 'utf8')]).then(
        ([certificate, key]) => {
          const cached = cache.get(name);
          if (cached?.certificate === certificate) return callback(null, cached.context);
          const context = createSecureContext({ cert: certificate, key });
          cache.set(name, { certificate, context });
          callback(null, context);
        },
        (error: Error) => callback(error),
      );
    },
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function seed(app: ReturnType<typeof createApp>, db: Database, team: string, n: number, tlsPort: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      for (let index = next++; index < n; index = next++) {
        const name = `c${index}`;
        const response = await app.request('/v1/certificates', {
          method: 'POST',
          headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            team,
            dnsNames: [`${name}.bench.test`],
            validity: 'P7D',
            destinations: [{ type: 'file', directory: name, verify: { endpoints: [{ host: '127.0.0.1', port: tlsPort }], timeout: 'PT120S' } }],
          }),
        });
        if (response.status !== 202) throw new Error(`seeding ${name}: ${response.status} ${await response.text()}`);
        ids.push(((await response.json()) as { id: string }).id);
      }
    }),
  );
  for (;;) {
    const [row] = await db.select({ active: count() }).from(certificates).where(eq(certificates.state, 'active'));
    process.stdout.write(`\r  seeding: ${row!.active}/${n} active (${((performance.now() - started) / 1000).toFixed(0)} s)   `);
    if (row!.active >= n) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  process.stdout.write('\n');
  return ids;
}

async function runOnce(n: number): Promise<void> {
  const temp = await mkdtemp(join(tmpdir(), 'certflow-bench-bulk-'));
  await chmod(temp, 0o755);
  const statementsFile = process.env.CERTFLOW_BENCH_PG_STATEMENTS; // <file>: pg_stat_statements of the measured run written there
  const postgres = await startEmbeddedPostgres({ dataDir: join(temp, 'postgres'), settings: statementsFile ? { shared_preload_libraries: 'pg_stat_statements' } : {} });
  const temporal = await startTemporalDevServer({ dbFile: join(temp, 'temporal.db'), uiPort: null });
  const pool = createPool(postgres.url, () => undefined);
  const deliveryRoot = join(temp, 'deliveries');
  await mkdir(deliveryRoot, { mode: 0o755 });
  let worker: ChildProcess | null = null;
  const connection = await Connection.connect({ address: temporal.address });
  const tls = await startSniService(deliveryRoot);
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    worker?.kill('SIGKILL');
    void Promise.allSettled([temporal.stop(), postgres.stop()]).then(() => rm(temp, { recursive: true, force: true })).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await applyMigrations(pool);
    const db = createDatabase(pool, { auditKey: AuditKey.fromSecret(Buffer.from(AUDIT_KEY_HEX, 'hex')) });
    const kek = Buffer.from(KEK_HEX, 'hex');
    await ensureCaHierarchy(db, kek, { organization: 'Certflow Bench', publicUrl: 'http://127.0.0.1:8080', now: new Date(), log: () => undefined });
    await ensureBootstrapToken(db, ADMIN);
    const client = new Client({ connection });
    const app = createApp({
      db,
      temporal: client,
      taskQueue: TASK_QUEUE,
      now: () => new Date(),
      sealingPublicKey: workerSealingKey(kek).publicKey,
      temporalUiUrl: 'http://127.0.0.1:8233',
      fileDestinationRoot: deliveryRoot,
      destinationRules: { services: [], allowedExceptions: ['127.0.0.0/8'], extraDenied: [] }, // the TLS endpoint is on loopback
      checkReadiness: async () => ({ postgres: true, temporal: true }),
    });
    worker = await startWorkerProcess({
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporal.address,
      CERTFLOW_TASK_QUEUE: TASK_QUEUE,
      CERTFLOW_KEK: KEK_HEX,
      CERTFLOW_AUDIT_KEY: AUDIT_KEY_HEX,
      CERTFLOW_FILE_DESTINATION_ROOT: deliveryRoot,
      CERTFLOW_DATA_DIR: join(temp, 'worker-data'),
      CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'loopback',
    }, process.env.CERTFLOW_BENCH_WORKER_PROFILE);
    const teamResponse = await app.request('/v1/teams', {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bench', policy: { allowedDomains: ['bench.test'], maxValidity: 'P30D', destinationHosts: { cidrs: ['127.0.0.0/8'] } } }),
    });
    const { id: teamId } = (await teamResponse.json()) as { id: string };

    console.log(`\nN = ${n}`);
    const ids = await seed(app, db, 'bench', n, tls.port);

    const postmaster = await postmasterPid(join(temp, 'postgres'));
    const processes: ProcessSample[] = [];
    for (const [name, pid] of [
      ['worker', worker.pid!],
      ['temporal server', temporal.pid!],
    ] as const) {
      processes.push({ name, pid, cpuStart: await cpuSeconds(pid), peakRssBytes: await rssBytes(pid) });
    }
    let postgresPeak = await treeRssBytes(postmaster);
    const postgresCpuStart = await treeCpuSeconds(postmaster);
    if (statementsFile) await pool.query('create extension if not exists pg_stat_statements; select pg_stat_statements_reset()');
    const transactionsStart = await postgresTransactions(pool);
    const benchCpuStart = process.cpuUsage();
    const workerThreadsStart = await threadCpuSeconds(worker.pid!);
    // The backends of the pools are long-lived: list them every 5 s, not at every sample (a scan of /proc costs).
    let postgresPids = [postmaster, ...(await childPids(postmaster))];
    let samples = 0;
    const sampler = setInterval(() => {
      for (const sample of processes) void rssBytes(sample.pid).then((rss) => (sample.peakRssBytes = Math.max(sample.peakRssBytes, rss)), () => undefined);
      if (++samples % 20 === 0) void childPids(postmaster).then((children) => (postgresPids = [postmaster, ...children]), () => undefined);
      void Promise.all(postgresPids.map((pid) => rssBytes(pid).catch(() => 0))).then((sizes) => (postgresPeak = Math.max(postgresPeak, sizes.reduce((a, b) => a + b, 0))));
    }, 250);
    const machineCpuStart = await machineCpuSeconds();

    const bulkId = newId('blk');
    const input: BulkReissueInput = {
      bulkId,
      selector: { teamIds: [teamId] },
      options: { reason: 'benchmark', maxConcurrent: MAX_CONCURRENT, maxPerSecond: MAX_PER_SECOND, revokeSuperseded: true },
    };
    await insertBulkOperation(db, { id: bulkId, selector: input.selector, options: input.options, state: 'running', counts: EMPTY_COUNTS, workflowId: bulkWorkflowId(bulkId), createdBy: 'bench' });
    const started = performance.now();
    const handle = await client.workflow.start('bulkReissue', { workflowId: bulkWorkflowId(bulkId), taskQueue: TASK_QUEUE, args: [input] });
    const done = handle.result() as Promise<BulkProgress>;
    let finished: BulkProgress | null = null;
    void done.then((value) => (finished = value));
    while (!finished) {
      const progress = await handle.query(bulkProgressQuery).catch(() => null);
      if (progress) {
        const ended = progress.counts.verified + progress.counts.rolled_out + progress.counts.reissued + progress.counts.failed + progress.counts.skipped;
        process.stdout.write(`\r  bulk: ${ended}/${progress.counts.selected} done, ${progress.inFlight} in flight, ${progress.ratePerSecond.toFixed(1)}/s   `);
      }
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const machineCpu = (await machineCpuSeconds()) - machineCpuStart;
    const postgresCpu = (await treeCpuSeconds(postmaster)) - postgresCpuStart;
    const transactions = (await postgresTransactions(pool)) - transactionsStart;
    if (statementsFile) await writeFile(statementsFile, JSON.stringify((await pool.query("select calls::int, rows::int, total_exec_time, query from pg_stat_statements where query not like '%pg_stat%' order by calls desc")).rows, null, 1));
    const benchCpu = process.cpuUsage(benchCpuStart);
    const workerThreads = await threadCpuSeconds(worker.pid!);
    const result = (await done) as BulkProgress;
    process.stdout.write('\n');

    const versions = await db.select({ id: certificateVersions.id }).from(certificateVersions).where(and(inArray(certificateVersions.certificateId, ids), eq(certificateVersions.generation, 2), eq(certificateVersions.status, 'active')));
    const items = await listBulkItems(db, bulkId, { limit: n + 1 });
    const verified = items.filter((item) => item.outcome === 'verified').length;
    const target = TARGET_SECONDS[n];
    console.log(`  server: Temporal CLI dev server (SQLite, one file), ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}); window ${MAX_CONCURRENT}, rate ≤ ${MAX_PER_SECOND}/s`);
    console.log(`  bulk reissue of ${n}: ${seconds.toFixed(1)} s (${(n / seconds).toFixed(1)} certificates/s)${target ? `  target ≤ ${target} s: ${seconds <= target ? 'met' : 'MISSED'}` : ''}`);
    console.log(`  outcome: ${JSON.stringify(result.counts)}; generation 2 active: ${versions.length}/${n}; items verified: ${verified}/${n}`);
    for (const sample of processes) {
      const cpu = (await cpuSeconds(sample.pid)) - sample.cpuStart;
      console.log(`  ${sample.name.padEnd(16)} CPU ${cpu.toFixed(1)} s (${((100 * cpu) / seconds).toFixed(0)} % of one core), peak RSS ${(sample.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    const threadLines = [...workerThreads]
      .map(([name, cpu]) => [name, cpu - (workerThreadsStart.get(name) ?? 0)] as const)
      .filter(([, cpu]) => cpu >= 0.5)
      .sort((a, b) => b[1] - a[1]);
    console.log(`  ${''.padEnd(16)} worker threads: ${threadLines.map(([name, cpu]) => `${name} ${cpu.toFixed(1)} s`).join(', ')}`);
    console.log(`  ${'postgres'.padEnd(16)} CPU ${postgresCpu.toFixed(1)} s (${((100 * postgresCpu) / seconds).toFixed(0)} % of one core), peak RSS ${(postgresPeak / 2 ** 20).toFixed(0)} MiB (postmaster + backends), ${transactions} transactions (${(transactions / n).toFixed(1)} per certificate)`);
    const benchSeconds = (benchCpu.user + benchCpu.system) / 1e6;
    console.log(`  ${'this process'.padEnd(16)} CPU ${benchSeconds.toFixed(1)} s (the TLS endpoint every destination is verified on, progress polling, sampling)`);
    console.log(`  machine          CPU ${machineCpu.toFixed(1)} s of ${(seconds * cpus().length).toFixed(1)} s available (${((100 * machineCpu) / (seconds * cpus().length)).toFixed(0)} %)`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (interrupted) return;
    worker?.kill('SIGTERM');
    await tls.close();
    await connection.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await temporal.stop();
    await postgres.stop();
    await rm(temp, { recursive: true, force: true });
  }
}

/** Committed transactions of the database so far (every statement outside BEGIN is one). */
async function postgresTransactions(pool: ReturnType<typeof createPool>): Promise<number> {
  const result = await pool.query<{ count: string }>('SELECT xact_commit::text AS count FROM pg_stat_database WHERE datname = current_database()');
  return Number(result.rows[0]!.count);
}

const sizes = process.argv.slice(2).map(Number).filter((value) => Number.isInteger(value) && value > 0);
for (const n of sizes.length > 0 ? sizes : [2000]) await runOnce(n);
