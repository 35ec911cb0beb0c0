/**
 * Notifications to people (pure): the kinds, which contact gets which, the bodies a webhook or an
 * email carries, the idempotency keys receivers deduplicate on, and the retry schedule of a
 * delivery. The outbox rows are written by activities (db/notifications.ts) and delivered by the
 * `notificationDelivery` workflow (activities/notification-delivery.ts).
 */

export const NOTIFICATION_KINDS = [
  'approval_requested',
  'approval_escalated',
  'rollout_failed',
  'renewal_failing',
  'expiry_warning',
  'lifecycle_not_running',
  'bulk_finished',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Days before expiry at which a certificate without a working renewal is announced (once per version and threshold). */
export const EXPIRY_THRESHOLDS_DAYS = [30, 14, 7, 1] as const;

const DAY_MS = 24 * 3600_000;

/**
 * The tightest threshold a certificate expiring at `notAfter` has crossed at `now`, or null when it
 * is further than the widest one away (or already expired: that is for the expiry alert, not a
 * warning). A certificate first seen 5 days before expiry gets the 7-day notice only.
 */
export function expiryThreshold(notAfter: Date, now: Date): number | null {
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return null;
  let crossed: number | null = null;
  for (const days of EXPIRY_THRESHOLDS_DAYS) if (left <= days * DAY_MS) crossed = days;
  return crossed;
}

export function daysLeft(notAfter: Date, now: Date): number {
  return Math.max(0, Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS));
}

/** Whether a contact that asked for `kinds` (null: every kind) gets a notification of `kind`. */
export function contactWants(kinds: readonly string[] | null, kind: string): boolean {
  return kinds === null || kinds.length === 0 || kinds.includes(kind);
}

export interface DeliveryRetry {
  /** Wait after the first failed attempt; doubles with each further one. */
  baseMs: number;
  capMs: number;
  /** After this many failed attempts the delivery is `failed` (and audited). */
  maxAttempts: number;
}

/** Half a minute, doubling to an hour at most; twelve attempts span about five and a half hours. */
export const DEFAULT_DELIVERY_RETRY: DeliveryRetry = { baseMs: 30_000, capMs: 3600_000, maxAttempts: 12 };

/** When attempt `attempts` (1-based, just failed) is followed by the next one: null when there is none. */
export function nextAttemptDelayMs(attempts: number, retry: DeliveryRetry = DEFAULT_DELIVERY_RETRY): number | null {
  if (attempts >= retry.maxAttempts) return null;
  return Math.min(retry.capMs, retry.baseMs * 2 ** Math.max(0, attempts - 1));
}

/** What a delivery tells its receiver: the same for every attempt and every contact of one notification. */
export interface NotificationEvent {
  /** `ntf_<outbox id>`: the idempotency key receivers deduplicate on. */
  id: string;
  kind: string;
  teamId: string;
  teamName: string;
  certificateId: string | null;
  message: string;
  details: Record<string, unknown>;
  createdAt: string;
}

export function notificationEventId(outboxId: number): string {
  return `ntf_${outboxId}`;
}

/** A short human title of an event, for an email subject and the first line of a chat message. */
export function notificationTitle(event: Pick<NotificationEvent, 'kind' | 'teamName' | 'certificateId'>): string {
  const about = event.certificateId ? ` ${event.certificateId}` : '';
  const what: Record<string, string> = {
    approval_requested: `approval requested for${about}`,
    approval_escalated: `approval escalated for${about}`,
    rollout_failed: `rollout failed for${about}`,
    renewal_failing: `renewal failing for${about}`,
    expiry_warning: `certificate${about} expires soon without a working renewal`,
    lifecycle_not_running: `lifecycle of${about} is not running`,
    bulk_finished: 'bulk operation finished',
  };
  return `[Certflow] ${event.teamName}: ${what[event.kind] ?? event.kind}`;
}

/** The JSON a `certflow` webhook contact receives (docs/webhooks.md "Notifications"). */
export function certflowWebhookBody(event: NotificationEvent): Record<string, unknown> {
  return { type: 'notification', ...event, title: notificationTitle(event) };
}

/** The JSON a `slack` webhook contact receives: Slack incoming webhooks (and compatible chats) show `text`. */
export function slackWebhookBody(event: NotificationEvent): { text: string } {
  return { text: `*${notificationTitle(event)}*\n${event.message}` };
}

/** The plain-text email body. */
export function emailText(event: NotificationEvent): string {
  const facts = Object.entries(event.details).map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [event.message, '', `team: ${event.teamName}`, ...(event.certificateId ? [`certificate: ${event.certificateId}`] : []), ...facts, `notification: ${event.id}`, ''].join('\n');
}

/**
 * The email's Message-ID (RFC 5322 §3.6.4): derived from the notification and the contact, so a
 * message sent again after a crash carries the same id and a receiver that deduplicates on it
 * (many mail stores and clients do, SMTP servers do not) shows it once.
 */
export function emailMessageId(outboxId: number, contactId: string, domain: string): string {
  return `<${notificationEventId(outboxId)}.${contactId}@${domain}>`;
}
