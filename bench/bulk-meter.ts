/**
 * What bench/bulk.ts measures over one phase (the floor, a bulk reissue, the drill): wall time, the machine's
 * CPU, CPU and peak RSS per process group (workers, Temporal server, Postgres split by database, this
 * process), Postgres transactions per database (pg_stat_database xact_commit + xact_rollback), WAL bytes
 * (pg_current_wal_lsn, the whole Postgres cluster) and the load average.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { childPids, cpuSeconds, machineCpuSeconds, rssBytes } from './processes.js';

export interface MeteredProcesses {
  workers: number[];
  temporal: number;
  postmaster: number;
}

export interface PhaseFigures {
  seconds: number;
  machineCpu: number;
  cpu: { workers: number; temporal: number; postgres: number; bench: number };
  /** Postgres CPU by database of the backend ('' = the postmaster, its background processes and exited backends). */
  postgresCpuByDatabase: Map<string, number>;
  peakRss: { workers: number; temporal: number; postgres: number; bench: number };
  /** xact_commit + xact_rollback per database. */
  transactions: Map<string, number>;
  walBytes: number;
  loadBefore: string;
  loadAfter: string;
}

const loadNow = () => loadavg().map((value) => value.toFixed(2)).join(' ');

async function cpuOfPids(pids: number[]): Promise<Map<number, number>> {
  return new Map(await Promise.all(pids.map(async (pid) => [pid, await cpuSeconds(pid).catch(() => 0)] as const)));
}

async function transactionsByDatabase(client: pg.Client): Promise<Map<string, number>> {
  const { rows } = await client.query<{ datname: string; count: string }>('select datname, (xact_commit + xact_rollback)::text as count from pg_stat_database where datname is not null');
  return new Map(rows.map((row) => [row.datname, Number(row.count)]));
}

async function walLsn(client: pg.Client): Promise<bigint> {
  const { rows } = await client.query<{ bytes: string }>("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as bytes");
  return BigInt(rows[0]!.bytes.split('.')[0]!);
}

async function backendDatabases(client: pg.Client): Promise<Map<number, string>> {
  const { rows } = await client.query<{ pid: number; datname: string | null }>('select pid, datname from pg_stat_activity');
  return new Map(rows.map((row) => [row.pid, row.datname ?? '']));
}

/**
 * Starts measuring; `stop()` ends the phase and returns its figures. `databaseUrl`: any database of the
 * Postgres cluster (the statistics views cover all of them). Its own queries are a handful per phase.
 */
export async function startMeter(processes: MeteredProcesses, databaseUrl: string): Promise<{ stop(): Promise<PhaseFigures> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const loadBefore = loadNow();
  const postgresPids = async () => [processes.postmaster, ...(await childPids(processes.postmaster))];
  let backends = await postgresPids();
  const cpuStart = {
    workers: await cpuOfPids(processes.workers),
    temporal: await cpuSeconds(processes.temporal),
    postgres: await cpuOfPids(backends),
    bench: process.cpuUsage(),
  };
  const transactionsStart = await transactionsByDatabase(client);
  const walStart = await walLsn(client);
  const peak = { workers: 0, temporal: 0, postgres: 0, bench: 0 };
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  let samples = 0;
  const sample = async () => {
    // The backends of the pools are long-lived: list them every 5 s, not at every sample (a scan of /proc costs).
    if (++samples % 10 === 0) backends = await postgresPids().catch(() => backends);
    peak.workers = Math.max(peak.workers, sum(await Promise.all(processes.workers.map((pid) => rssBytes(pid).catch(() => 0)))));
    peak.temporal = Math.max(peak.temporal, await rssBytes(processes.temporal).catch(() => 0));
    peak.postgres = Math.max(peak.postgres, sum(await Promise.all(backends.map((pid) => rssBytes(pid).catch(() => 0)))));
    peak.bench = Math.max(peak.bench, process.memoryUsage.rss());
  };
  await sample();
  const sampler = setInterval(() => void sample().catch(() => undefined), 500);
  const machineStart = await machineCpuSeconds();
  const started = performance.now();

  return {
    async stop() {
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      const machineCpu = (await machineCpuSeconds()) - machineStart;
      const bench = process.cpuUsage(cpuStart.bench);
      const workersEnd = await cpuOfPids(processes.workers);
      const temporalEnd = await cpuSeconds(processes.temporal);
      const backendsEnd = await postgresPids();
      const postgresEnd = await cpuOfPids(backendsEnd);
      const databases = await backendDatabases(client);
      const transactionsEnd = await transactionsByDatabase(client);
      const walEnd = await walLsn(client);
      await sample();
      await client.end();
      const postgresCpuByDatabase = new Map<string, number>();
      for (const [pid, cpu] of postgresEnd) {
        const database = pid === processes.postmaster ? '' : (databases.get(pid) ?? '');
        postgresCpuByDatabase.set(database, (postgresCpuByDatabase.get(database) ?? 0) + cpu - (cpuStart.postgres.get(pid) ?? 0));
      }
      const transactions = new Map<string, number>();
      for (const [database, count] of transactionsEnd) transactions.set(database, count - (transactionsStart.get(database) ?? 0));
      return {
        seconds,
        machineCpu,
        cpu: {
          workers: sum([...workersEnd].map(([pid, cpu]) => cpu - (cpuStart.workers.get(pid) ?? 0))),
          temporal: temporalEnd - cpuStart.temporal,
          postgres: sum([...postgresCpuByDatabase.values()]),
          bench: (bench.user + bench.system) / 1e6,
        },
        postgresCpuByDatabase,
        peakRss: peak,
        transactions,
        walBytes: Number(walEnd - walStart),
        loadBefore,
        loadAfter: loadNow(),
      };
    },
  };
}
