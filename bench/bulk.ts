/**
 * `npm run bench:bulk [-- N ...]` (default N = 2000): Certflow's bulk reissue against the engine's floor, measured in
 * the same run on the same Temporal server, for each topology (bench/bulk-topology.ts) and path:
 *
 *   floor   N workflows of the renewal's shape doing nothing (bench/floor-workflows.ts), one cycle each
 *           (signal → continueAsNew → a task with a local activity and an upsert → wait), window as below
 *   bare    N certificates with no destinations and the API's defaults, one bulk reissue of them
 *   full    the incident path: N certificates with a file destination verified on a TLS endpoint (one SNI server
 *           in this process serves every destination's files), one bulk reissue, superseded versions revoked
 *
 * Per phase: the rate and its ratio to the floor, Postgres transactions per renewal, CPU-seconds per renewal
 * (machine and per process), peak RSS per process, p50/p99 renewNow → outcome, history per cycle, database and
 * WAL bytes, the load average. Then one side-by-side table.
 *
 *   CERTFLOW_BENCH_BULK_TOPOLOGIES  dev,postgres1,postgres2 (default)   CERTFLOW_BENCH_BULK_PATHS  bare,full (default)
 *   CERTFLOW_BENCH_BULK_FLOOR=0     skip the floor                      CERTFLOW_BULK_MAX_CONCURRENT / _MAX_PER_SECOND  (100 / 200)
 *   `-- --drill [N]`                the issuer compromise drill over N (2000) full-path certificates instead (bench/bulk-drill.ts),
 *                                   on the first topology listed (default dev)
 * CERTFLOW_BENCH_WORKER_PROFILE=<dir>: the dev topology's worker writes V8 CPU profiles there. Ctrl-C stops everything.
 */
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, createServer, type SecureContext } from 'node:tls';
import { BENCH_PATHS, runBulk, setUpCertflow, type BenchPath, type BulkResult, type CertflowSettings } from './bulk-certflow.js';
import { DRILL_TARGET_SECONDS, runDrill } from './bulk-drill.js';
import { runFloor, type FloorResult } from './bulk-floor.js';
import type { PhaseFigures } from './bulk-meter.js';
import { parseTopology, startTopology, type BenchTopology, type TopologyName } from './bulk-topology.js';

const ADMIN = 'cft_bootstrap_bulk-benchmark-only';
const KEK_HEX = '5b'.repeat(32);
const AUDIT_KEY_HEX = '5c'.repeat(32);
const TASK_QUEUE = 'bench-bulk';
const WINDOW = Number(process.env.CERTFLOW_BULK_MAX_CONCURRENT ?? 100);
const MAX_PER_SECOND = Number(process.env.CERTFLOW_BULK_MAX_PER_SECOND ?? 200);
/** Of the floor's rate, on the dev server (issue 15). */
const RATIO_TARGETS: Record<BenchPath, number> = { bare: 0.8, full: 0.6 };

const args = process.argv.slice(2);
const drill = args.includes('--drill');
const sizes = args.map(Number).filter((value) => Number.isInteger(value) && value > 0);
const topologies = (process.env.CERTFLOW_BENCH_BULK_TOPOLOGIES ?? 'dev,postgres1,postgres2').split(',').map((name) => parseTopology(name.trim()));
const paths = (process.env.CERTFLOW_BENCH_BULK_PATHS ?? 'bare,full').split(',').map((name) => {
  if (!BENCH_PATHS.includes(name.trim() as BenchPath)) throw new Error(`unknown path "${name}": bare, full`);
  return name.trim() as BenchPath;
});
const withFloor = process.env.CERTFLOW_BENCH_BULK_FLOOR !== '0';

interface TopologyRun {
  topology: TopologyName;
  description: string;
  n: number;
  floor: FloorResult | null;
  bulks: BulkResult[];
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

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)}`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function figureLines(label: string, figures: PhaseFigures, n: number): string[] {
  const per = (value: number) => fixed(value / n, 4);
  const transactions = [...figures.transactions].filter(([, count]) => count > 0).map(([database, count]) => `${database} ${fixed(count / n, 1)}`).join(', ');
  const postgresByDatabase = [...figures.postgresCpuByDatabase].filter(([, cpu]) => cpu >= 0.05).map(([database, cpu]) => `${database || 'other'} ${fixed(cpu)}`).join(', ');
  return [
    `    ${label}: CPU-s per renewal: machine ${per(figures.machineCpu)} (${fixed((100 * figures.machineCpu) / (figures.seconds * cpus().length), 0)} % of ${cpus().length} CPUs), workers ${per(figures.cpu.workers)}, Temporal server ${per(figures.cpu.temporal)}, Postgres ${per(figures.cpu.postgres)}, TLS endpoint + bench ${per(figures.cpu.bench)}`,
    `      CPU-s total: workers ${fixed(figures.cpu.workers)}, Temporal ${fixed(figures.cpu.temporal)}, Postgres ${fixed(figures.cpu.postgres)} (${postgresByDatabase}), bench ${fixed(figures.cpu.bench)}, machine ${fixed(figures.machineCpu)}`,
    `      peak RSS MiB: workers ${mib(figures.peakRss.workers)}, Temporal ${mib(figures.peakRss.temporal)}, Postgres ${mib(figures.peakRss.postgres)} (postmaster + backends), bench ${mib(figures.peakRss.bench)}`,
    `      Postgres transactions per renewal (xact_commit + xact_rollback by database): ${transactions || 'none'}; WAL ${kib(figures.walBytes / n)} per renewal (whole Postgres)`,
    `      load average before ${figures.loadBefore}, after ${figures.loadAfter}`,
  ];
}

async function runTopology(name: TopologyName, n: number, deliveryRoot: string, tlsPort: number, temp: string, onChild: (child: ChildProcess) => void, setCurrent: (topology: BenchTopology | null) => void): Promise<TopologyRun> {
  const dir = join(temp, `${name}-${n}`);
  const settings: CertflowSettings = { adminToken: ADMIN, kekHex: KEK_HEX, auditKeyHex: AUDIT_KEY_HEX, taskQueue: TASK_QUEUE, deliveryRoot, tlsPort, window: WINDOW, maxPerSecond: MAX_PER_SECOND };
  const startedAt = performance.now();
  const topology = await startTopology(name, {
    dir,
    workerEnv: { CERTFLOW_TASK_QUEUE: TASK_QUEUE, CERTFLOW_FILE_DESTINATION_ROOT: deliveryRoot, CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'loopback', CERTFLOW_WORKER_METRICS_PORT: '0' },
    secrets: { kekHex: KEK_HEX, auditKeyHex: AUDIT_KEY_HEX, bootstrapToken: ADMIN },
    log: () => undefined,
  });
  setCurrent(topology);
  console.log(`\n${name}, N = ${n}: ${topology.description} (started in ${((performance.now() - startedAt) / 1000).toFixed(1)} s)`);
  const bench = await setUpCertflow(settings, topology.temporalAddress, topology.databaseUrl);
  const processes = { workers: topology.workerPids, temporal: topology.temporalPid, postmaster: topology.postmasterPid };
  const run: TopologyRun = { topology: name, description: topology.description, n, floor: null, bulks: [] };
  try {
    if (withFloor) {
      run.floor = await runFloor({ temporalAddress: topology.temporalAddress, workers: topology.workerPids.length, processes, databaseUrl: topology.databaseUrl, n, window: WINDOW, label: `${name} floor`, onChild });
      for (const line of figureLines('floor', run.floor.figures, n)) console.log(line);
      console.log(`      history per cycle: ${fixed(run.floor.cycleHistory.events, 0)} events, ${kib(run.floor.cycleHistory.bytes)}`);
    }
    for (const path of paths) {
      const result = await runBulk({ bench, settings, path, n, processes, databaseUrl: topology.databaseUrl, label: `${name} ${path}` });
      run.bulks.push(result);
      const rate = n / result.figures.seconds;
      const floorRate = run.floor ? n / run.floor.figures.seconds : NaN;
      console.log(`    ${path}: ${fixed(rate)}/s, ${fixed((100 * rate) / floorRate, 0)} % of the floor (target ≥ ${100 * RATIO_TARGETS[path]} %); ${result.renewed}/${n} renewed; renewNow → ${result.latencyMs.outcome}: p50 ${fixed(result.latencyMs.p50 / 1000, 2)} s, p99 ${fixed(result.latencyMs.p99 / 1000, 2)} s, max ${fixed(result.latencyMs.max / 1000, 2)} s (${result.latencyMs.count} items)`);
      for (const line of figureLines(path, result.figures, n)) console.log(line);
      console.log(
        `      history per cycle: ${fixed(result.cycleHistory.events, 0)} events, ${kib(result.cycleHistory.bytes)}; Certflow DB ${kib(result.databaseBytes.perCertificate)} per certificate (seeded), ${kib(result.databaseBytes.perRenewal)} per renewal` +
          (result.temporalDatabaseBytesPerRenewal !== null ? `; Temporal DBs ${kib(result.temporalDatabaseBytesPerRenewal)} per renewal` : ''),
      );
    }
  } finally {
    await bench.close();
    await topology.stop();
    setCurrent(null);
  }
  return run;
}

function printTable(runs: TopologyRun[]): void {
  const header = ['topology', 'path', 'N', 'floor/s', 'Certflow/s', 'ratio', 'target', 'pg xact/renewal', 'CPU-s/renewal machine', 'workers', 'Temporal', 'Postgres', 'TLS+bench', 'peak RSS MiB w/T/pg', 'p50 s', 'p99 s', 'WAL KiB/renewal', 'load (1 min) before→after'];
  const rows: string[][] = [];
  for (const run of runs) {
    const floorRate = run.floor ? run.n / run.floor.figures.seconds : NaN;
    const line = (path: string, figures: PhaseFigures, rate: number, target: string, latency: BulkResult['latencyMs'] | null) => {
      const per = (value: number) => fixed(value / run.n, 4);
      const transactions = figures.transactions.get('certflow') ?? figures.transactions.get('postgres') ?? NaN;
      rows.push([
        run.topology,
        path,
        String(run.n),
        fixed(floorRate),
        path === 'floor' ? '' : fixed(rate),
        path === 'floor' ? '' : `${fixed((100 * rate) / floorRate, 0)} %`,
        target,
        path === 'floor' ? '' : fixed(transactions / run.n, 1),
        per(figures.machineCpu),
        per(figures.cpu.workers),
        per(figures.cpu.temporal),
        per(figures.cpu.postgres),
        per(figures.cpu.bench),
        `${mib(figures.peakRss.workers)}/${mib(figures.peakRss.temporal)}/${mib(figures.peakRss.postgres)}`,
        latency ? fixed(latency.p50 / 1000, 2) : '',
        latency ? fixed(latency.p99 / 1000, 2) : '',
        fixed(figures.walBytes / run.n / 1024),
        `${figures.loadBefore.split(' ')[0]}→${figures.loadAfter.split(' ')[0]}`,
      ]);
    };
    if (run.floor) line('floor', run.floor.figures, floorRate, '', null);
    for (const bulk of run.bulks) line(bulk.path, bulk.figures, run.n / bulk.figures.seconds, `≥ ${100 * RATIO_TARGETS[bulk.path]} %`, bulk.latencyMs);
  }
  const widths = header.map((title, index) => Math.max(title.length, ...rows.map((row) => row[index]!.length)));
  const format = (row: string[]) => `| ${row.map((cell, index) => cell.padEnd(widths[index]!)).join(' | ')} |`;
  console.log(`\nSide by side (${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown'}; window ${WINDOW}, rate ≤ ${MAX_PER_SECOND}/s; ${new Date().toISOString()})`);
  console.log(format(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(format(row));
  console.log('pg xact: transactions of the Certflow database only (pg_stat_database xact_commit + xact_rollback); Temporal\'s own databases are listed per phase above.');
  console.log('CPU-s/renewal: per certificate renewed (per cycle for the floor), over the phase; "machine" is /proc/stat (every process, other helpers\' too).');
}

const temp = await mkdtemp(join(tmpdir(), 'certflow-bench-bulk-'));
await chmod(temp, 0o755);
const deliveryRoot = join(temp, 'deliveries');
await mkdir(deliveryRoot);
const tls = await startSniService(deliveryRoot);
const children: ChildProcess[] = [];
let current: BenchTopology | null = null;
const stop = () => {
  for (const child of children) child.kill('SIGKILL');
  const stopping = current?.kill();
  void Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, 10_000))])
    .then(() => rm(temp, { recursive: true, force: true }))
    .finally(() => process.exit(130));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
const setCurrent = (topology: BenchTopology | null) => (current = topology);
try {
  if (drill) {
    const n = sizes[0] ?? 2000;
    const name = topologies[0]!;
    const settings: CertflowSettings = { adminToken: ADMIN, kekHex: KEK_HEX, auditKeyHex: AUDIT_KEY_HEX, taskQueue: TASK_QUEUE, deliveryRoot, tlsPort: tls.port, window: WINDOW, maxPerSecond: MAX_PER_SECOND };
    const topology = await startTopology(name, {
      dir: join(temp, `drill-${name}`),
      workerEnv: { CERTFLOW_TASK_QUEUE: TASK_QUEUE, CERTFLOW_FILE_DESTINATION_ROOT: deliveryRoot, CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'loopback', CERTFLOW_WORKER_METRICS_PORT: '0' },
      secrets: { kekHex: KEK_HEX, auditKeyHex: AUDIT_KEY_HEX, bootstrapToken: ADMIN },
      log: () => undefined,
    });
    setCurrent(topology);
    const bench = await setUpCertflow(settings, topology.temporalAddress, topology.databaseUrl);
    try {
      console.log(`\nIssuer compromise drill, ${name} (${topology.description}), N = ${n}, window ${WINDOW}, rate ≤ ${MAX_PER_SECOND}/s`);
      const result = await runDrill({ bench, settings, n, processes: { workers: topology.workerPids, temporal: topology.temporalPid, postmaster: topology.postmasterPid }, databaseUrl: topology.databaseUrl, label: `${name} drill` });
      for (const phase of result.phases) console.log(`    ${fixed(phase.seconds).padStart(7)} s  ${phase.name}`);
      console.log(`  mark → CRLs published: ${fixed(result.toCrlsPublished)} s (target ≤ ${DRILL_TARGET_SECONDS} s: ${result.toCrlsPublished <= DRILL_TARGET_SECONDS ? 'met' : 'MISSED'}); until the report was read: ${fixed(result.figures.seconds)} s`);
      console.log(`  report: ${result.report.outcome}, ${JSON.stringify(result.report.counts)}; CRL numbers ${result.report.crls.map((crl) => `${crl.issuerId} #${crl.crlNumber}`).join(', ')}`);
      console.log(`  checks: ${result.checks.onSuccessor}/${n} current versions on the successor, ${result.checks.oldRevoked}/${n} old versions revoked, old intermediate ${result.checks.intermediateStatus}, root CRL lists ${result.checks.rootCrlEntries}, old intermediate's CRL ${result.checks.oldCrlEntries}`);
      for (const line of figureLines('drill', result.figures, n)) console.log(line);
    } finally {
      await bench.close();
      await topology.stop();
      setCurrent(null);
    }
  } else {
    const runs: TopologyRun[] = [];
    for (const n of sizes.length > 0 ? sizes : [2000]) {
      for (const name of topologies) runs.push(await runTopology(name, n, deliveryRoot, tls.port, temp, (child) => children.push(child), setCurrent));
    }
    printTable(runs);
  }
} finally {
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await tls.close();
  await rm(temp, { recursive: true, force: true });
}
