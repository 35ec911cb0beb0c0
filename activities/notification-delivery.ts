/**
 * The activity of the `notificationDelivery` workflow: fans new outbox rows out to their teams'
 * contacts, then sends due deliveries one claim at a time (a few lanes at once) until none is due
 * or the run's time budget is spent. Each delivery is sent at most once per claim; a crash between
 * sending and marking sends it again after its lease, with the same id (see docs/webhooks.md).
 */
import { appendAuditEvent } from '../db/audit.js';
import { claimDueDelivery, fanOutNotifications, finishAttempt, type ClaimedDelivery } from '../db/notification-deliveries.js';
import { findTeam } from '../db/teams.js';
import { DEFAULT_DELIVERY_RETRY, nextAttemptDelayMs, notificationEventId } from '../core/notifications.js';
import type { ActivityDeps } from './deps.js';
import { NotificationRefused, sendToContact } from './notification-channels.js';

/** Longer than one send can take (webhook 10 s, SMTP 15 s per stage). */
export const DELIVERY_LEASE_MS = 90_000;
/** One activity run stops claiming after this long (its start-to-close timeout is 2 minutes). */
const RUN_BUDGET_MS = 45_000;
const LANES = 4;
const FAN_OUT_BATCH = 200;
/** Notifications older than this when first fanned out are not sent (e.g. written before contacts existed). */
const MAX_FAN_OUT_AGE_MS = 24 * 3600_000;

export interface DeliverNotificationsResult {
  fannedOut: number;
  delivered: number;
  retrying: number;
  failed: number;
  /** Attempts whose lease ran out before they finished (another claim owns the row; not counted as delivered). */
  leaseLost: number;
  /** Work was left (the budget ran out): the workflow calls again at once. */
  more: boolean;
}

export async function deliverNotifications(deps: ActivityDeps): Promise<DeliverNotificationsResult> {
  const started = Date.now();
  const result: DeliverNotificationsResult = { fannedOut: 0, delivered: 0, retrying: 0, failed: 0, leaseLost: 0, more: false };
  for (;;) {
    const batch = await fanOutNotifications(deps.db, { now: deps.now(), maxAgeMs: MAX_FAN_OUT_AGE_MS, limit: FAN_OUT_BATCH });
    result.fannedOut += batch.notifications;
    if (batch.notifications < FAN_OUT_BATCH) break;
    if (Date.now() - started > RUN_BUDGET_MS) return { ...result, more: true };
  }
  const lane = async (): Promise<void> => {
    while (Date.now() - started < RUN_BUDGET_MS) {
      const claimed = await claimDueDelivery(deps.db, { now: deps.now(), leaseMs: DELIVERY_LEASE_MS });
      if (!claimed) return;
      const outcome = await attempt(deps, claimed);
      result[outcome]++;
    }
    result.more = true;
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return result;
}

/**
 * One attempt of a claimed delivery. Every outcome is recorded only if this claim still holds the row
 * (finishAttempt is guarded by the attempt count): a claim whose lease ran out reports `leaseLost`,
 * is not counted as delivered, and writes no audit event, since the newer claim owns the outcome.
 * The lease (90 s) is longer than the longest send (webhook 10 s, SMTP 15 s per stage).
 */
async function attempt(deps: ActivityDeps, claimed: ClaimedDelivery): Promise<'delivered' | 'retrying' | 'failed' | 'leaseLost'> {
  const { delivery, notification, contact } = claimed;
  if (contact.removedAt) {
    const finished = await finishAttempt(deps.db, delivery, { state: 'cancelled', at: deps.now(), error: 'the contact was removed' });
    return finished ? 'failed' : 'leaseLost';
  }
  const event = {
    outboxId: notification.id,
    id: notificationEventId(notification.id),
    kind: notification.kind,
    teamId: notification.teamId,
    teamName: claimed.teamName,
    certificateId: notification.certificateId,
    message: notification.message,
    details: notification.details,
    createdAt: notification.createdAt.toISOString(),
  };
  try {
    const team = contact.channel === 'webhook' ? await findTeam(deps.db, notification.teamId) : null;
    await sendToContact(deps, contact, event, team?.policy.destinationHosts);
  } catch (error) {
    const message = (error as Error).message;
    const delay = error instanceof NotificationRefused ? null : nextAttemptDelayMs(delivery.attempts, deps.notificationRetry ?? DEFAULT_DELIVERY_RETRY);
    const at = deps.now();
    if (delay !== null) {
      const finished = await finishAttempt(deps.db, delivery, { state: 'pending', at, error: message, nextAttemptAt: new Date(at.getTime() + delay) });
      return finished ? 'retrying' : 'leaseLost';
    }
    if (!(await finishAttempt(deps.db, delivery, { state: 'failed', at, error: message }))) return 'leaseLost';
    await appendAuditEvent(deps.db, {
      at,
      actor: 'workflow',
      action: 'notification.delivery_failed',
      teamId: notification.teamId,
      certificateId: notification.certificateId,
      details: { notificationId: event.id, kind: notification.kind, contactId: contact.id, channel: contact.channel, attempts: delivery.attempts, error: message },
      dedupeKey: `${event.id}/${contact.id}/failed`,
    });
    return 'failed';
  }
  return (await finishAttempt(deps.db, delivery, { state: 'delivered', at: deps.now() })) ? 'delivered' : 'leaseLost';
}
