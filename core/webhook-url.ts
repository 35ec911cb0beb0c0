/**
 * A webhook URL as logs, traces, error messages and audit events may show it. Slack-style incoming
 * webhooks carry their credential in the path (…/services/T…/B…/<secret>), and any URL may carry
 * one in its query or userinfo: outside the contact's row only the origin is shown, with a short
 * hash of the rest so that two URLs of one receiver can still be told apart.
 */
import { sha256 } from './sha256.js';

export function webhookUrlForLogs(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(invalid URL)';
  }
  const rest = `${parsed.username}:${parsed.password}@${parsed.pathname}${parsed.search}${parsed.hash}`;
  return `${parsed.origin}/…#${Array.from(sha256(new TextEncoder().encode(rest)).subarray(0, 4), (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** Every http(s) URL in `text` as webhookUrlForLogs shows it (error text bound for notifications). */
export function urlsForLogs(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>]+/g, (url) => (url.includes('/…#') ? url : webhookUrlForLogs(url)));
}
