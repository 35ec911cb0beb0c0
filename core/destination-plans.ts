/** What the lifecycle workflow needs to know of each stored destination (no secrets, no addresses). */
import type { DestinationPlan } from './lifecycle.js';
import type { Destination } from './types.js';

export function destinationPlans(destinations: Destination[]): DestinationPlan[] {
  return destinations.map((destination) => ({
    type: destination.type,
    verify: destination.verify !== undefined,
    ...(destination.verify ? { verifyTimeoutSeconds: destination.verify.timeoutSeconds } : {}),
    ...(destination.type === 'agent' ? { reportTimeoutSeconds: destination.reportTimeoutSeconds } : {}),
  }));
}
