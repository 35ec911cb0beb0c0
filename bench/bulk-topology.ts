/**
 * The two topologies bench/bulk.ts measures, started the way the platform starts them (reused, not copied):
 *   dev        the Temporal CLI dev server (SQLite, one file) + embedded Postgres + one worker (child process)
 *   postgresK  devservices/cluster.ts (`npm run dev:cluster`'s topology): the Temporal server built from its Go
 *              module with persistence and visibility on the same embedded Postgres, K workers, no API process
 *              (the benchmark drives an in-process API) and no UI
 * Returns where everything is and the pids the benchmark measures.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { encodeSealingPublicKey } from '../ca/sealed-box.js';
import { startCluster } from '../devservices/cluster.js';
import { startEmbeddedPostgres } from '../devservices/embedded-postgres.js';
import { startTemporalDevServer } from '../devservices/temporal-dev-server.js';
import { installTemporalBinaries } from '../devservices/temporal-server-binaries.js';
import { childPids, startWorkerProcess } from './processes.js';

export type TopologyName = 'dev' | `postgres${number}`;

export interface BenchTopology {
  name: TopologyName;
  description: string;
  temporalAddress: string;
  databaseUrl: string;
  workerPids: number[];
  temporalPid: number;
  postmasterPid: number;
  /** Kills the workers at once and stops the servers (Ctrl-C). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface TopologySecrets {
  kekHex: string;
  auditKeyHex: string;
  bootstrapToken: string;
}

export function parseTopology(name: string): TopologyName {
  if (name === 'dev' || /^postgres[1-9]$/.test(name)) return name as TopologyName;
  throw new Error(`unknown topology "${name}": dev, postgres1, postgres2, … postgres9`);
}

export async function startTopology(name: TopologyName, opts: { dir: string; workerEnv: Record<string, string>; secrets: TopologySecrets; log: (m: string) => void }): Promise<BenchTopology> {
  return name === 'dev' ? startDev(opts) : startPostgres(Number(name.slice('postgres'.length)), opts);
}

async function startDev(opts: { dir: string; workerEnv: Record<string, string>; secrets: TopologySecrets }): Promise<BenchTopology> {
  const postgres = await startEmbeddedPostgres({ dataDir: join(opts.dir, 'postgres') });
  const temporal = await startTemporalDevServer({ dbFile: join(opts.dir, 'temporal.db'), uiPort: null });
  let worker: ChildProcess;
  try {
    worker = await startWorkerProcess(
      {
        ...opts.workerEnv,
        DATABASE_URL: postgres.url,
        TEMPORAL_ADDRESS: temporal.address,
        CERTFLOW_KEK: opts.secrets.kekHex,
        CERTFLOW_AUDIT_KEY: opts.secrets.auditKeyHex,
        CERTFLOW_DATA_DIR: join(opts.dir, 'worker-data'),
      },
      process.env.CERTFLOW_BENCH_WORKER_PROFILE,
    );
  } catch (error) {
    await temporal.stop();
    await postgres.stop();
    throw error;
  }
  return {
    name: 'dev',
    description: 'Temporal CLI dev server (SQLite, one file), 1 worker',
    temporalAddress: temporal.address,
    databaseUrl: postgres.url,
    workerPids: [worker.pid!],
    temporalPid: temporal.pid!,
    postmasterPid: await postmasterOf(postgres.url),
    kill: async () => {
      worker.kill('SIGKILL');
      await Promise.allSettled([temporal.stop(), postgres.stop()]);
    },
    async stop() {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      worker.kill('SIGKILL');
      await temporal.stop();
      await postgres.stop();
    },
  };
}

async function startPostgres(workers: number, opts: { dir: string; workerEnv: Record<string, string>; secrets: TopologySecrets; log: (m: string) => void }): Promise<BenchTopology> {
  const binaries = await installTemporalBinaries(process.env, opts.log);
  const cluster = await startCluster({
    dataDir: join(opts.dir, 'cluster'),
    ports: { api: 0, acme: null, temporal: 0, temporalUi: 0, postgres: 0 },
    workers,
    apis: 0,
    ui: false,
    secrets: {
      kekHex: opts.secrets.kekHex,
      auditKeyHex: opts.secrets.auditKeyHex,
      sealingPublicKey: encodeSealingPublicKey(workerSealingKey(Buffer.from(opts.secrets.kekHex, 'hex')).publicKey),
      bootstrapToken: opts.secrets.bootstrapToken,
    },
    extraEnv: opts.workerEnv,
    log: opts.log,
  });
  const temporalPid = await childRunning(binaries.server);
  return {
    name: `postgres${workers}`,
    description: `Temporal server ${binaries.server.split('/').find((part) => part.startsWith('temporal-server-')) ?? ''} on Postgres (4 history shards), ${workers} worker${workers > 1 ? 's' : ''}`,
    temporalAddress: cluster.temporalAddress,
    databaseUrl: cluster.databaseUrl,
    workerPids: cluster.workers.map((worker) => worker.pid!),
    temporalPid,
    postmasterPid: await postmasterOf(cluster.databaseUrl),
    kill: async () => {
      await Promise.allSettled(cluster.workers.map((worker) => worker.kill()));
      await cluster.stop();
    },
    stop: () => cluster.stop(),
  };
}

/** The Temporal server: the child of this process running that binary. */
async function childRunning(binary: string): Promise<number> {
  for (const pid of await childPids(process.pid)) {
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.split('\0')[0] === binary) return pid;
  }
  throw new Error(`no child process runs ${binary}`);
}

/** The postmaster: the parent of a backend (the data directory may be elsewhere when running as root). */
async function postmasterOf(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const stat = await readFile(`/proc/${rows[0]!.pid}/stat`, 'utf8');
    return Number(stat.split(') ')[1]!.split(' ')[1]);
  } finally {
    await client.end();
  }
}
