/**
 * The worker's notification and sweep settings from the environment, validated at start-up like
 * cmd/config.ts:
 *
 *   CERTFLOW_SMTP_URL                  SMTP relay for email notifications: smtp://[user:pass@]host[:port] or smtps://… (unset: no email)
 *   CERTFLOW_SMTP_FROM                 From address of notification emails (required with CERTFLOW_SMTP_URL)
 *   CERTFLOW_NOTIFICATION_INTERVAL     how often the outbox is delivered: ISO-8601 duration or seconds (default 10), `off`: this worker does not manage the schedule
 *   CERTFLOW_INVENTORY_SWEEP_INTERVAL  how often the inventory sweep runs (default PT1H), `off` likewise
 */
import { parseDurationSeconds } from '../core/duration.js';
import { ConfigError } from './config.js';

export interface NotificationSettings {
  smtp: { url: string; from: string } | null;
  /** Seconds between runs of the `notification-delivery` schedule; null: leave the schedule alone. */
  deliveryIntervalSeconds: number | null;
  /** Seconds between runs of the `inventory-sweep` schedule; null: leave the schedule alone. */
  sweepIntervalSeconds: number | null;
}

export const DEFAULT_NOTIFICATION_INTERVAL_SECONDS = 10;
export const DEFAULT_SWEEP_INTERVAL_SECONDS = 3600;

export function loadNotificationSettings(env: NodeJS.ProcessEnv = process.env): NotificationSettings {
  const problems: string[] = [];
  const interval = (variable: string, fallback: number): number | null => {
    const text = env[variable]?.trim();
    if (!text) return fallback;
    if (text === 'off') return null;
    try {
      return parseDurationSeconds(/^\d+$/.test(text) ? Number(text) : text);
    } catch (error) {
      problems.push(`${variable}: ${(error as Error).message} (an ISO-8601 duration, seconds, or "off")`);
      return fallback;
    }
  };
  const url = env.CERTFLOW_SMTP_URL?.trim() || undefined;
  const from = env.CERTFLOW_SMTP_FROM?.trim() || undefined;
  if (url && !/^smtps?:\/\/[^/\s]+\/?$/.test(url)) problems.push('CERTFLOW_SMTP_URL: must be smtp://[user:pass@]host[:port] or smtps://…');
  if (url && !from) problems.push('CERTFLOW_SMTP_FROM: required with CERTFLOW_SMTP_URL (the From address of notification emails)');
  if (from && !/^[^@\s<>]+@[^@\s<>]+$|^[^<>]*<[^@\s<>]+@[^@\s<>]+>$/.test(from)) problems.push('CERTFLOW_SMTP_FROM: must be an address, e.g. certflow@example.com or "Certflow <certflow@example.com>"');
  const settings: NotificationSettings = {
    smtp: url && from ? { url, from } : null,
    deliveryIntervalSeconds: interval('CERTFLOW_NOTIFICATION_INTERVAL', DEFAULT_NOTIFICATION_INTERVAL_SECONDS),
    sweepIntervalSeconds: interval('CERTFLOW_INVENTORY_SWEEP_INTERVAL', DEFAULT_SWEEP_INTERVAL_SECONDS),
  };
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
  return settings;
}
