/**
 * The Temporal server built from its Go module, with persistence and visibility on Postgres: its schemas set up
 * with the module's SQL tool, the namespace and Certflow's search attributes registered, and the Temporal UI
 * server in front of it. What it runs is defined in devservices/cluster-topology.ts, shared with docker-compose.yml.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import { goModuleFile } from './go-module-file.js';
import { ensureSearchAttributes } from './temporal-dev-server.js';
import { findFreePortInRange } from './free-port.js';
import { installTemporalBinaries, type TemporalBinaries } from './temporal-server-binaries.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import {
  DEFAULT_TEMPORAL_SERVER_PORTS,
  schemaSteps,
  sqlToolConnectionArgs,
  temporalServerEnv,
  TEMPORAL_DYNAMIC_CONFIG,
  TEMPORAL_SERVER_VERSION,
  TOPOLOGY,
  type PostgresEndpoint,
  type TemporalServerPorts,
} from './cluster-topology.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 120_000;

/** The Postgres endpoint in a postgres:// URL (the embedded Postgres's superuser). */
export function postgresEndpoint(databaseUrl: string): PostgresEndpoint {
  const url = new URL(databaseUrl);
  return { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/**
 * Creates the persistence and visibility databases when missing and brings their schemas to the version embedded
 * in the SQL tool. Idempotent: a second run only checks versions.
 */
export async function setUpTemporalSchemas(sqlTool: string, postgres: PostgresEndpoint, log: (m: string) => void): Promise<void> {
  const env = { ...process.env, SQL_PASSWORD: postgres.password };
  for (const { database, schemaName } of schemaSteps()) {
    const connection = sqlToolConnectionArgs(postgres, database);
    if (!(await databaseExists(postgres, database))) {
      log(`creating database ${database} and its schema (${schemaName}) with the Temporal SQL tool`);
      await run(sqlTool, [...connection, 'create-database'], { env });
      await run(sqlTool, [...connection, 'setup-schema', '-v', '0.0'], { env });
    }
    await run(sqlTool, [...connection, 'update-schema', '--schema-name', schemaName], { env });
  }
}

async function databaseExists(postgres: PostgresEndpoint, database: string): Promise<boolean> {
  const client = new pg.Client({ host: postgres.host, port: postgres.port, user: postgres.user, password: postgres.password, database: 'postgres' });
  await client.connect();
  try {
    return ((await client.query('select 1 from pg_database where datname = $1', [database])).rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

export interface TemporalServerSettings {
  binaries: TemporalBinaries;
  postgres: PostgresEndpoint;
  /** Config and dynamic config are written here. */
  dir: string;
  ports: TemporalServerPorts;
  log: (m: string) => void;
}

/**
 * Free ports for every internal port of the server, the frontend's gRPC port at `frontendGrpc` if given. Below the
 * ephemeral range: the server stores membership ports in a smallint column of its cluster_membership table.
 */
export async function temporalServerPorts(frontendGrpc?: number): Promise<TemporalServerPorts> {
  const ports = { ...DEFAULT_TEMPORAL_SERVER_PORTS };
  const taken = new Set<number>();
  for (const key of Object.keys(ports) as Array<keyof TemporalServerPorts>) {
    let port: number;
    do port = await findFreePortInRange(20_000, 32_767);
    while (taken.has(port));
    taken.add(port);
    ports[key] = port;
  }
  if (frontendGrpc) ports.frontendGrpc = frontendGrpc;
  return ports;
}

/**
 * Starts the server on the config template its module ships (the one the temporalio/server image uses), with the
 * environment of topology.ts; resolves once the frontend answers. Call `ensureNamespace` afterwards.
 */
export async function startTemporalServer(settings: TemporalServerSettings): Promise<ServiceProcess> {
  const { dir, ports, log } = settings;
  const configDir = path.join(dir, 'config');
  await fs.mkdir(path.join(configDir, 'dynamicconfig'), { recursive: true });
  await fs.copyFile(await goModuleFile('go.temporal.io/server', TEMPORAL_SERVER_VERSION, 'config/docker.yaml'), path.join(configDir, 'docker.yaml'));
  const dynamicConfigFile = path.join(configDir, 'dynamicconfig', 'docker.yaml');
  await fs.writeFile(dynamicConfigFile, TEMPORAL_DYNAMIC_CONFIG);
  const env = {
    ...process.env,
    ...temporalServerEnv({ postgres: settings.postgres, bindIp: '127.0.0.1', broadcastAddress: '127.0.0.1', metricsIp: '127.0.0.1', ports, dynamicConfigFile }),
  };
  const address = `127.0.0.1:${ports.frontendGrpc}`;
  const startedAt = Date.now();
  const server = await startServiceProcess({
    name: 'temporal-server',
    command: settings.binaries.server,
    args: ['--root', dir, '--config', 'config', '--env', 'docker', '--allow-no-auth', 'start'],
    env,
    ready: () => frontendAnswers(address),
    readyTimeoutMs: READY_TIMEOUT_MS,
    log,
  });
  log(`Temporal server (pid ${server.pid}) on Postgres answering at ${address} after ${Date.now() - startedAt} ms`);
  return server;
}

async function frontendAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.withDeadline(Date.now() + 2_000, () => connection.healthService.check({}));
    return true;
  } finally {
    await connection.close();
  }
}

/** Registers the namespace (a plain server has only temporal-system) and Certflow's search attributes; idempotent. */
export async function ensureNamespace(address: string, log: (m: string) => void): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const namespace = TOPOLOGY.namespace;
    const exists = await connection.workflowService.describeNamespace({ namespace }).then(() => true, () => false);
    if (!exists) {
      log(`registering namespace ${namespace}`);
      await connection.workflowService
        .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${TOPOLOGY.namespaceRetentionHours}h`) })
        .catch((error: unknown) => {
          if (!String(error).includes('already exists')) throw error;
        });
    }
    // The frontend's namespace cache refreshes every 2 s: wait until it knows the new namespace.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        await ensureSearchAttributes(connection, namespace, log);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

/**
 * The Temporal UI server, bound to 127.0.0.1. Its own config file rather than the module's docker template:
 * the template has no `host`, so it would listen on every interface.
 */
export async function startTemporalUi(settings: {
  binary: string;
  dir: string;
  temporalAddress: string;
  port: number;
  /** The namespace the UI opens on; default the topology's. */
  namespace?: string;
  log: (m: string) => void;
}): Promise<ServiceProcess> {
  const configDir = path.join(settings.dir, 'config');
  await fs.mkdir(configDir, { recursive: true });
  const config = {
    temporalGrpcAddress: settings.temporalAddress,
    host: '127.0.0.1',
    port: settings.port,
    enableUi: true,
    defaultNamespace: settings.namespace ?? TOPOLOGY.namespace,
    notifyOnNewVersion: false,
    cors: { allowOrigins: [`http://127.0.0.1:${settings.port}`] },
  };
  // JSON is YAML.
  await fs.writeFile(path.join(configDir, 'cluster.yaml'), `${JSON.stringify(config, null, 2)}\n`);
  const url = `http://127.0.0.1:${settings.port}`;
  return startServiceProcess({
    name: 'temporal-ui',
    command: settings.binary,
    args: ['--root', settings.dir, '--config', 'config', '--env', 'cluster', 'start'],
    env: process.env,
    ready: async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok,
    readyTimeoutMs: 30_000,
    log: settings.log,
  });
}

export interface TemporalOnPostgres {
  address: string;
  namespace: string;
  /** SIGKILL, then a start on the same databases and ports. */
  killAndRestart(): Promise<void>;
  /** SIGKILL (for outage tests); `start` brings it back on the same databases and ports. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The Temporal server alone on an existing Postgres (schemas, server, namespace, search attributes), for the
 * integration tests' Postgres topology (CERTFLOW_IT_TOPOLOGY=postgres).
 */
export async function startTemporalOnPostgres(opts: { databaseUrl: string; dir: string; log: (m: string) => void }): Promise<TemporalOnPostgres> {
  const binaries = await installTemporalBinaries(process.env, opts.log);
  const postgres = postgresEndpoint(opts.databaseUrl);
  await setUpTemporalSchemas(binaries.sqlTool, postgres, opts.log);
  const ports = await temporalServerPorts();
  const start = () => startTemporalServer({ binaries, postgres, dir: opts.dir, ports, log: opts.log });
  let server = await start();
  const address = `127.0.0.1:${ports.frontendGrpc}`;
  try {
    await ensureNamespace(address, opts.log);
  } catch (error) {
    await server.kill();
    throw error;
  }
  return {
    address,
    namespace: TOPOLOGY.namespace,
    async killAndRestart() {
      await server.kill();
      server = await start();
    },
    kill: () => server.kill(),
    async start() {
      server = await start();
    },
    stop: () => server.stop(),
  };
}
