/** Which Temporal the integration suite runs on: CERTFLOW_IT_TOPOLOGY=dev-server (default) or postgres. */
import { z } from 'zod';

export type IntegrationTopology = 'dev-server' | 'postgres';

export function integrationTopology(env: NodeJS.ProcessEnv = process.env): IntegrationTopology {
  const parsed = z.enum(['dev-server', 'postgres']).default('dev-server').safeParse(env['CERTFLOW_IT_TOPOLOGY'] || undefined);
  if (!parsed.success) throw new Error(`CERTFLOW_IT_TOPOLOGY=${env['CERTFLOW_IT_TOPOLOGY']}: expected dev-server or postgres`);
  return parsed.data;
}
