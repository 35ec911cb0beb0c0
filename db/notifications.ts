/**
 * The notification outbox (schema.ts `notifications`): written once per dedupe key, listed per team;
 * delivered by the notificationDelivery workflow (db/notification-deliveries.ts).
 */
import { desc, eq } from 'drizzle-orm';
import type { NotificationKind } from '../core/notifications.js';
import type { Queryable } from './database.js';
import { notifications } from './schema.js';

export type NotificationRow = typeof notifications.$inferSelect;
export type NotificationRecipient = 'team-approvers' | 'team' | 'security';

export async function enqueueNotification(
  db: Queryable,
  notification: {
    teamId: string;
    certificateId: string | null;
    kind: NotificationKind;
    recipients: NotificationRecipient[];
    message: string;
    dedupeKey: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await db.insert(notifications).values(notification).onConflictDoNothing({ target: notifications.dedupeKey });
}

export async function listNotifications(db: Queryable, filter: { teamId?: string; certificateId?: string; limit: number }): Promise<NotificationRow[]> {
  const where = filter.certificateId ? eq(notifications.certificateId, filter.certificateId) : filter.teamId ? eq(notifications.teamId, filter.teamId) : undefined;
  return db.select().from(notifications).where(where).orderBy(desc(notifications.id)).limit(filter.limit);
}
