/**
 * inventorySweep — the safety net (DESIGN.md §4 Schedules), started by the Temporal Schedule
 * `inventory-sweep` (cmd/notification-schedules.ts): pages through the inventory and, per
 * certificate, restarts a lifecycle that is not running (or alerts when that is not safe) and
 * announces expiry thresholds of certificates with no working renewal (activities/inventory-sweep.ts).
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SweepCounts } from '../activities/inventory-sweep.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';

const { sweepInventoryPage } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export interface InventorySweepInput {
  /** One team only; absent: every team. */
  teamId?: string;
}

export async function inventorySweep(input: InventorySweepInput = {}): Promise<SweepCounts & { pages: number }> {
  const total = { checked: 0, restarted: 0, alerted: 0, expiryNotices: 0, unknown: 0, pages: 0 };
  const sweepId = `${workflowInfo().workflowId}/${workflowInfo().runId}`;
  let after: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof sweepInventoryPage>> = await sweepInventoryPage({ after, sweepId, ...(input.teamId ? { teamId: input.teamId } : {}) });
    total.pages++;
    for (const key of ['checked', 'restarted', 'alerted', 'expiryNotices', 'unknown'] as const) total[key] += page.counts[key];
    after = page.next;
  } while (after !== null);
  return total;
}
