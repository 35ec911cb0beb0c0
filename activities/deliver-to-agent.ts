import type { AgentDestination } from '../core/types.js';
import type { DeliveryContext, DeliveryReport } from './delivery-context.js';
import type { ActivityDeps } from './deps.js';

/** STUB — to be implemented: waits (heartbeating) for the agent to report the deployed serial. */
export async function deliverToAgent(_deps: ActivityDeps, _context: DeliveryContext, _destination: AgentDestination): Promise<DeliveryReport> {
  throw new Error('not implemented');
}
