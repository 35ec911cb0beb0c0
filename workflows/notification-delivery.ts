/**
 * notificationDelivery — started by the Temporal Schedule `notification-delivery`
 * (cmd/notification-schedules.ts) every few seconds: delivers the notification outbox
 * (activities/notification-delivery.ts) until nothing is due. Overlapping runs are skipped; the
 * rows' claims keep two workers apart anyway.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { DeliverNotificationsResult } from '../activities/notification-delivery.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';

const { deliverNotifications } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/** A run stops after this many activity calls even if work is left; the next scheduled run goes on. */
const MAX_ROUNDS = 10;

export async function notificationDelivery(): Promise<DeliverNotificationsResult> {
  const total: DeliverNotificationsResult = { fannedOut: 0, delivered: 0, retrying: 0, failed: 0, leaseLost: 0, more: false };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = await deliverNotifications();
    total.fannedOut += result.fannedOut;
    total.delivered += result.delivered;
    total.retrying += result.retrying;
    total.failed += result.failed;
    // Absent in results recorded before it existed (replayed histories).
    total.leaseLost += result.leaseLost ?? 0;
    total.more = result.more;
    if (!result.more) break;
  }
  return total;
}
