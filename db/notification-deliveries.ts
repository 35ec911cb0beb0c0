/**
 * Delivery of the notification outbox (schema.ts `notification_deliveries`): fan each new
 * notification out to its team's contacts once, claim one due delivery at a time under a lease
 * (FOR UPDATE SKIP LOCKED: workers never claim the same row), and mark how the attempt went.
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { contactWants } from '../core/notifications.js';
import type { Database, Queryable } from './database.js';
import { notificationDeliveries, notifications, teamContacts, teams, type NotificationDeliveryState } from './schema.js';

export type NotificationDeliveryRow = typeof notificationDeliveries.$inferSelect;

/**
 * Creates the deliveries of up to `limit` notifications not yet fanned out: one per contact of the
 * team (as the team is now) that wants the kind. Notifications older than `maxAgeMs` are closed
 * without deliveries: contacts added long after an event are not sent its news. Returns how many
 * notifications it handled.
 */
export async function fanOutNotifications(db: Database, options: { now: Date; maxAgeMs: number; limit: number }): Promise<{ notifications: number; deliveries: number }> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: notifications.id, teamId: notifications.teamId, kind: notifications.kind, createdAt: notifications.createdAt })
      .from(notifications)
      .where(isNull(notifications.fannedOutAt))
      .orderBy(asc(notifications.id))
      .limit(options.limit)
      .for('update', { skipLocked: true });
    if (rows.length === 0) return { notifications: 0, deliveries: 0 };
    const teamIds = [...new Set(rows.map((row) => row.teamId))];
    const contacts = await tx
      .select({ id: teamContacts.id, teamId: teamContacts.teamId, kinds: teamContacts.kinds })
      .from(teamContacts)
      .where(and(inArray(teamContacts.teamId, teamIds), isNull(teamContacts.removedAt)));
    const fresh = (row: (typeof rows)[number]) => options.now.getTime() - row.createdAt.getTime() <= options.maxAgeMs;
    const values = rows
      .filter(fresh)
      .flatMap((row) => contacts.filter((contact) => contact.teamId === row.teamId && contactWants(contact.kinds, row.kind)).map((contact) => ({ notificationId: row.id, contactId: contact.id, nextAttemptAt: options.now })));
    if (values.length > 0) await tx.insert(notificationDeliveries).values(values).onConflictDoNothing();
    await tx
      .update(notifications)
      .set({ fannedOutAt: options.now })
      .where(inArray(notifications.id, rows.map((row) => row.id)));
    return { notifications: rows.length, deliveries: values.length };
  });
}

/** A claimed delivery with what sending it needs. */
export interface ClaimedDelivery {
  delivery: NotificationDeliveryRow;
  notification: typeof notifications.$inferSelect;
  contact: typeof teamContacts.$inferSelect;
  teamName: string;
}

/**
 * Most deliveries of one team in flight (claimed, not finished) at once, over all workers: a team whose
 * webhooks are slow holds at most this many of the lanes, the others keep serving the other teams.
 * Two claims racing may both pass the check; the limit is approximate by one claim per worker lane.
 */
export const MAX_IN_FLIGHT_PER_TEAM = 2;

/**
 * Claims the oldest due delivery of a team with fewer than MAX_IN_FLIGHT_PER_TEAM in flight: raises
 * its attempt count and leases it until `now + leaseMs`. Null when none is due. The lease is longer
 * than one send can take; a worker that dies holding it leaves the row to be claimed again once it expires.
 */
export async function claimDueDelivery(db: Database, options: { now: Date; leaseMs: number }): Promise<ClaimedDelivery | null> {
  const now = options.now.toISOString();
  const until = new Date(options.now.getTime() + options.leaseMs).toISOString();
  const claimed = await db.execute<{ id: string }>(sql`
    update notification_deliveries set attempts = attempts + 1, claimed_until = ${until}::timestamptz
    where id = (
      select d.id from notification_deliveries d
      join notifications n on n.id = d.notification_id
      where d.state = 'pending' and d.next_attempt_at <= ${now}::timestamptz and (d.claimed_until is null or d.claimed_until <= ${now}::timestamptz)
        and (
          select count(*) from notification_deliveries busy
          join notifications bn on bn.id = busy.notification_id
          where bn.team_id = n.team_id and busy.state = 'pending' and busy.claimed_until > ${now}::timestamptz
        ) < ${MAX_IN_FLIGHT_PER_TEAM}
      order by d.next_attempt_at, d.id
      limit 1
      for update of d skip locked
    )
    returning id`);
  const id = claimed.rows[0]?.id;
  if (id === undefined) return null;
  const [row] = await db
    .select({ delivery: notificationDeliveries, notification: notifications, contact: teamContacts, teamName: teams.name })
    .from(notificationDeliveries)
    .innerJoin(notifications, eq(notifications.id, notificationDeliveries.notificationId))
    .innerJoin(teamContacts, eq(teamContacts.id, notificationDeliveries.contactId))
    .innerJoin(teams, eq(teams.id, notifications.teamId))
    .where(eq(notificationDeliveries.id, Number(id)));
  return row ?? null;
}

/**
 * Records the end of an attempt of a claimed delivery: `delivered`, `failed`, `cancelled`, or back
 * to `pending` with the time of the next attempt. Guarded by the attempt count it was claimed with,
 * so a worker whose lease ran out cannot overwrite a newer attempt's outcome. False when it could not.
 */
export async function finishAttempt(
  db: Queryable,
  claimed: NotificationDeliveryRow,
  outcome: { state: NotificationDeliveryState; at: Date; error?: string | null; nextAttemptAt?: Date },
): Promise<boolean> {
  const updated = await db
    .update(notificationDeliveries)
    .set({
      state: outcome.state,
      claimedUntil: null,
      lastError: outcome.error ?? null,
      ...(outcome.state === 'delivered' ? { deliveredAt: outcome.at } : {}),
      ...(outcome.nextAttemptAt ? { nextAttemptAt: outcome.nextAttemptAt } : {}),
    })
    .where(and(eq(notificationDeliveries.id, claimed.id), eq(notificationDeliveries.attempts, claimed.attempts), eq(notificationDeliveries.state, 'pending')))
    .returning({ id: notificationDeliveries.id });
  return updated.length === 1;
}

/** Deliveries of one notification (tests, the API's view of a notification). */
export async function listDeliveries(db: Queryable, notificationId: number): Promise<NotificationDeliveryRow[]> {
  return db.select().from(notificationDeliveries).where(eq(notificationDeliveries.notificationId, notificationId)).orderBy(asc(notificationDeliveries.id));
}
