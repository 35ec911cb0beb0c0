/**
 * Starts the production-shaped topology of devservices/cluster-topology.ts on this machine, all on 127.0.0.1:
 * embedded Postgres (Certflow's database and Temporal's two), the Temporal server built from its Go module on it,
 * the Temporal UI, N Certflow workers and N API processes, and a round-robin proxy giving the APIs one port (and one
 * ACME port). Used by `npm run dev:cluster` (cmd/dev-cluster.ts) and by test/integration/cluster-topology.test.ts,
 * which kills and restarts its parts through the returned handle.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded-postgres.js';
import { findFreePort } from './free-port.js';
import { installTemporalBinaries, type TemporalBinaries } from './temporal-server-binaries.js';
import { ensureNamespace, postgresEndpoint, setUpTemporalSchemas, startTemporalServer, startTemporalUi, temporalServerPorts } from './temporal-on-postgres.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import { apiNames, certflowEnv, TOPOLOGY, workerNames, type TemporalServerPorts } from './cluster-topology.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface ClusterPorts {
  /** 0 = a free port. */
  api: number;
  /** null = no ACME listener. */
  acme: number | null;
  temporal: number;
  temporalUi: number;
  postgres: number;
}

export interface StartClusterOptions {
  /** Postgres data, Temporal config, logs. */
  dataDir: string;
  ports: ClusterPorts;
  workers?: number;
  apis?: number;
  /** Secrets every worker (KEK, audit key) and API (sealing public key, audit key, bootstrap token) gets. */
  secrets: { kekHex: string; auditKeyHex: string; sealingPublicKey: string; bootstrapToken: string };
  /** More environment for the Certflow processes (e.g. CERTFLOW_FILE_DESTINATION_ROOT, CERTFLOW_TASK_QUEUE). */
  extraEnv?: Record<string, string>;
  /** false = no Temporal UI. */
  ui?: boolean;
  log: (message: string) => void;
}

export interface Cluster {
  /** The proxy in front of the APIs. */
  apiUrl: string;
  acmeUrl: string | null;
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  workers: ServiceProcess[];
  apis: ServiceProcess[];
  proxy: RoundRobinProxy;
  /** Starts worker `index` again after it was killed or stopped. */
  restartWorker(index: number): Promise<void>;
  /** SIGKILL of the Temporal server, then a start on the same database and ports. */
  killAndRestartTemporal(): Promise<void>;
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  /** Milliseconds each part took to start. */
  timings: Record<string, number>;
  stop(): Promise<void>;
}

export async function startCluster(opts: StartClusterOptions): Promise<Cluster> {
  const { log } = opts;
  const timings: Record<string, number> = {};
  const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    const startedAt = Date.now();
    const result = await step();
    timings[what] = Date.now() - startedAt;
    return result;
  };
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => log(`stopping: ${String(error)}`));
  };

  try {
    const binaries: TemporalBinaries = await timed('temporal binaries', () => installTemporalBinaries(process.env, log));

    const postgresPort = opts.ports.postgres || (await findFreePort());
    const postgresDir = path.join(opts.dataDir, 'postgres');
    let postgres: EmbeddedPostgresHandle = await timed('postgres', () => startEmbeddedPostgres({ dataDir: postgresDir, port: postgresPort, database: TOPOLOGY.databases.certflow, log }));
    stops.push(() => postgres.stop());
    const endpoint = postgresEndpoint(postgres.url);
    await timed('temporal schema', () => setUpTemporalSchemas(binaries.sqlTool, endpoint, log));

    const temporalPorts: TemporalServerPorts = await temporalServerPorts(opts.ports.temporal || undefined);
    const temporalAddress = `127.0.0.1:${temporalPorts.frontendGrpc}`;
    const startTemporal = () => startTemporalServer({ binaries, postgres: endpoint, dir: path.join(opts.dataDir, 'temporal'), ports: temporalPorts, log });
    let temporal = await timed('temporal server', startTemporal);
    stops.push(() => temporal.stop());
    await timed('namespace and search attributes', () => ensureNamespace(temporalAddress, log));

    let temporalUiUrl: string | null = null;
    if (opts.ui !== false) {
      const uiPort = opts.ports.temporalUi || (await findFreePort());
      const ui = await timed('temporal ui', () => startTemporalUi({ binary: binaries.uiServer, dir: path.join(opts.dataDir, 'temporal-ui'), temporalAddress, port: uiPort, log }));
      stops.push(() => ui.stop());
      temporalUiUrl = `http://127.0.0.1:${uiPort}`;
    }

    const apiPort = opts.ports.api || (await findFreePort());
    const shared = {
      ...certflowEnv({ databaseUrl: postgres.url, temporalAddress, publicUrl: `http://127.0.0.1:${apiPort}`, temporalUiUrl: temporalUiUrl ?? 'http://127.0.0.1:8233' }),
      CERTFLOW_AUDIT_KEY: opts.secrets.auditKeyHex,
      ...opts.extraEnv,
    };

    const workerCount = opts.workers ?? TOPOLOGY.workers;
    const workers: ServiceProcess[] = [];
    const startWorker = (index: number) =>
      startServiceProcess({
        name: workerNames()[index] ?? `certflow-worker-${index + 1}`,
        command: process.execPath,
        args: ['--import', 'tsx', 'cmd/worker.ts'],
        cwd: REPO_ROOT,
        // Each worker its own metrics port (9464, 9465, …) unless extraEnv sets one (0: none).
        env: { ...process.env, CERTFLOW_WORKER_METRICS_PORT: String(9464 + index), ...shared, CERTFLOW_KEK: opts.secrets.kekHex, CERTFLOW_DATA_DIR: path.join(opts.dataDir, `worker-${index + 1}`) },
        ready: async (output) => output().includes('worker polling task queue'),
        readyTimeoutMs: 120_000,
        log,
      });
    // The first worker alone: it applies the migrations and creates the CA hierarchy.
    await timed('workers', async () => {
      workers[0] = await startWorker(0);
      const others = await Promise.all(Array.from({ length: workerCount - 1 }, (_, i) => startWorker(i + 1)));
      others.forEach((worker, i) => (workers[i + 1] = worker));
    });
    stops.push(async () => {
      await Promise.all(workers.map((worker) => worker.stop()));
    });

    const apiCount = opts.apis ?? TOPOLOGY.apis;
    const acmeOn = opts.ports.acme !== null;
    const apiInstances = await Promise.all(
      Array.from({ length: apiCount }, async () => ({ port: await findFreePort(), acmePort: acmeOn ? await findFreePort() : 0 })),
    );
    const apis = await timed('apis', () =>
      Promise.all(
        apiInstances.map(({ port, acmePort }, index) =>
          startServiceProcess({
            name: apiNames()[index] ?? `certflow-api-${index + 1}`,
            command: process.execPath,
            args: ['--import', 'tsx', 'cmd/api.ts'],
            cwd: REPO_ROOT,
            env: {
              ...process.env,
              ...shared,
              PORT: String(port),
              CERTFLOW_ACME_PORT: String(acmePort),
              CERTFLOW_SEALING_PUBLIC_KEY: opts.secrets.sealingPublicKey,
              CERTFLOW_BOOTSTRAP_TOKEN: opts.secrets.bootstrapToken,
              CERTFLOW_DATA_DIR: path.join(opts.dataDir, `api-${index + 1}`),
            },
            ready: async () => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok,
            readyTimeoutMs: 120_000,
            log,
          }),
        ),
      ),
    );
    stops.push(async () => {
      await Promise.all(apis.map((api) => api.stop()));
    });

    const proxy = await startRoundRobinProxy({
      host: '127.0.0.1',
      port: apiPort,
      upstreams: apiInstances.map(({ port }) => ({ host: '127.0.0.1', port, healthUrl: `http://127.0.0.1:${port}/readyz` })),
      log: (m) => log(`[proxy] ${m}`),
    });
    stops.push(() => proxy.close());
    let acmeUrl: string | null = null;
    if (acmeOn) {
      const acmeProxy = await startRoundRobinProxy({
        host: '127.0.0.1',
        port: opts.ports.acme || (await findFreePort()),
        upstreams: apiInstances.map(({ port, acmePort }) => ({ host: '127.0.0.1', port: acmePort, healthUrl: `http://127.0.0.1:${port}/readyz` })),
        log: (m) => log(`[acme proxy] ${m}`),
      });
      stops.push(() => acmeProxy.close());
      acmeUrl = `https://127.0.0.1:${acmeProxy.port}/acme/directory`;
    }

    return {
      apiUrl: `http://127.0.0.1:${proxy.port}`,
      acmeUrl,
      databaseUrl: postgres.url,
      temporalAddress,
      temporalUiUrl,
      workers,
      apis,
      proxy,
      timings,
      async restartWorker(index) {
        await workers[index]?.stop();
        workers[index] = await startWorker(index);
      },
      async killAndRestartTemporal() {
        await temporal.kill();
        temporal = await startTemporal();
      },
      async stopPostgres() {
        await postgres.stop();
      },
      async startPostgres() {
        postgres = await startEmbeddedPostgres({ dataDir: postgresDir, port: postgresPort, database: TOPOLOGY.databases.certflow, log });
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
