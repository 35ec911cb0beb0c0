/** Settings of `npm run dev:cluster` beyond the ones it shares with `npm run dev` (cmd/config.ts). */
import { z } from 'zod';
import { TOPOLOGY } from '../devservices/cluster-topology.js';
import { ConfigError } from './config.js';

const schema = z.object({
  CERTFLOW_CLUSTER_WORKERS: z.coerce.number().int().min(1).max(16).default(TOPOLOGY.workers),
  CERTFLOW_CLUSTER_APIS: z.coerce.number().int().min(1).max(16).default(TOPOLOGY.apis),
  CERTFLOW_CLUSTER_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(5434),
});

export interface ClusterConfig {
  workers: number;
  apis: number;
  postgresPort: number;
}

export function loadClusterConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n${parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n')}`);
  }
  const e = parsed.data;
  return { workers: e.CERTFLOW_CLUSTER_WORKERS, apis: e.CERTFLOW_CLUSTER_APIS, postgresPort: e.CERTFLOW_CLUSTER_POSTGRES_PORT };
}
