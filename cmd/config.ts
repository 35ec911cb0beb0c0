/**
 * Configuration from the environment (DESIGN.md §6), validated once at start-up. A bad value stops
 * the process with a message that names the variable.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CERTFLOW_HOST: z.string().default('127.0.0.1'),
  CERTFLOW_DATA_DIR: z.string().default('.data'),
  CERTFLOW_PUBLIC_URL: optionalString.pipe(z.url().optional()),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  CERTFLOW_KEK: optionalString,
  CERTFLOW_AUDIT_KEY: optionalString,
  CERTFLOW_AUDIT_CHECKPOINT_FILE: optionalString,
  CERTFLOW_DB_APP_ROLE: optionalString,
  CERTFLOW_BOOTSTRAP_TOKEN: optionalString.pipe(z.string().min(20, 'must be at least 20 characters').optional()),
  CERTFLOW_FILE_DESTINATION_ROOT: optionalString,
  CERTFLOW_TASK_QUEUE: z.string().min(1).default('certflow-lifecycle'),
  CERTFLOW_PERMITTED_DNS_ZONES: optionalString,
  CERTFLOW_TEMPORAL_UI_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  CERTFLOW_WORKER_MAX_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(500),
  CERTFLOW_WORKER_MAX_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(1_000).default(100),
  CERTFLOW_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).optional(),
  NODE_ENV: z.string().optional(),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  temporalAddress: string | undefined;
  temporalNamespace: string;
  temporalCliPath: string | undefined;
  temporalPort: number;
  temporalUiPort: number;
  kek: string | undefined;
  /** Seals audit rows and checkpoints (cmd/audit-key.ts); given to the API and the worker, never stored in Postgres. */
  auditKey: string | undefined;
  /** Where the worker appends a copy of each audit checkpoint (JSON lines), outside the database. */
  auditCheckpointFile: string;
  /** The role the processes connect as, when migrations run as the tables' owner: it loses UPDATE/DELETE/TRUNCATE on the audit tables. */
  dbAppRole: string | undefined;
  bootstrapToken: string | undefined;
  fileDestinationRoot: string;
  taskQueue: string;
  /** Zones the issuing intermediate is constrained to when it is created (comma-separated in the env). */
  permittedDnsZones: string[];
  /** Base URL of the Temporal UI for deep links (default: the local dev server's UI). */
  temporalUiUrl: string;
  /**
   * Activities one worker runs at once. Most of a rollout's activities wait (for an agent's report,
   * for endpoints to serve the new version) rather than compute, so this is well above the core count.
   */
  workerMaxActivities: number;
  workerMaxWorkflowTasks: number;
  /** Workflow runs kept in the worker's sticky cache; unset: the SDK's default (from the heap size). */
  workerMaxCachedWorkflows: number | undefined;
  production: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = result.data;
  const dataDir = resolve(e.CERTFLOW_DATA_DIR);
  return {
    port: e.PORT,
    host: e.CERTFLOW_HOST,
    dataDir,
    publicUrl: e.CERTFLOW_PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`,
    databaseUrl: e.DATABASE_URL,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    temporalPort: e.TEMPORAL_PORT,
    temporalUiPort: e.TEMPORAL_UI_PORT,
    kek: e.CERTFLOW_KEK,
    auditKey: e.CERTFLOW_AUDIT_KEY,
    auditCheckpointFile: resolve(e.CERTFLOW_AUDIT_CHECKPOINT_FILE ?? resolve(dataDir, 'audit-checkpoints.jsonl')),
    dbAppRole: e.CERTFLOW_DB_APP_ROLE,
    bootstrapToken: e.CERTFLOW_BOOTSTRAP_TOKEN,
    fileDestinationRoot: resolve(e.CERTFLOW_FILE_DESTINATION_ROOT ?? resolve(dataDir, 'deliveries')),
    taskQueue: e.CERTFLOW_TASK_QUEUE,
    permittedDnsZones: (e.CERTFLOW_PERMITTED_DNS_ZONES ?? '').split(',').map((zone) => zone.trim()).filter(Boolean),
    workerMaxActivities: e.CERTFLOW_WORKER_MAX_ACTIVITIES,
    workerMaxWorkflowTasks: e.CERTFLOW_WORKER_MAX_WORKFLOW_TASKS,
    workerMaxCachedWorkflows: e.CERTFLOW_WORKER_MAX_CACHED_WORKFLOWS,
    temporalUiUrl: (e.CERTFLOW_TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`).replace(/\/+$/, ''),
    production: e.NODE_ENV === 'production',
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}
