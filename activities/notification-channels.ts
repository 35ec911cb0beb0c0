/**
 * Sending one notification to one contact: a signed webhook POST (Certflow JSON or a
 * Slack-compatible body), checked by the destination guard like every outbound webhook, or an
 * email through the platform's SMTP relay. Throws NotificationRefused when sending again cannot
 * help; any other error is worth another attempt later.
 */
import { ApplicationFailure } from '@temporalio/common';
import { openContactSecret } from '../ca/contact-secrets.js';
import type { DestinationHostPolicy } from '../core/destination-hosts.js';
import { certflowWebhookBody, emailMessageId, emailText, notificationTitle, slackWebhookBody, type NotificationEvent } from '../core/notifications.js';
import type { TeamContactRow } from '../db/team-contacts.js';
import { postWebhook } from './deliver-to-webhook.js';
import type { ActivityDeps } from './deps.js';
import { DestinationRefused } from './destination-guard.js';
import { MailRefused } from './mailer.js';

export class NotificationRefused extends Error {
  override name = 'NotificationRefused';
}

/** The id header of notification webhooks (the body's `id` too): receivers deduplicate on it. */
export const NOTIFICATION_ID_HEADER = 'Certflow-Delivery-Id';

export async function sendToContact(
  deps: ActivityDeps,
  contact: TeamContactRow,
  event: NotificationEvent & { outboxId: number },
  destinationHosts: DestinationHostPolicy | undefined,
): Promise<void> {
  if (contact.channel === 'webhook') return sendWebhook(deps, contact, event, destinationHosts);
  return sendEmail(deps, contact, event);
}

async function sendWebhook(deps: ActivityDeps, contact: TeamContactRow, event: NotificationEvent, destinationHosts: DestinationHostPolicy | undefined): Promise<void> {
  const url = URL.canParse(contact.target) ? new URL(contact.target) : null;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new NotificationRefused('the contact URL is not an http(s) URL');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  let addresses: string[];
  try {
    addresses = await deps.destinationGuard.admit(destinationHosts, url.hostname, port);
  } catch (error) {
    if (error instanceof DestinationRefused) throw new NotificationRefused(`refused before connecting: ${error.message}`);
    throw error;
  }
  if (!contact.sealedSecret) throw new NotificationRefused('the webhook contact has no signing secret');
  let secret: Buffer;
  try {
    secret = openContactSecret(deps.kek, contact.sealedSecret, contact.id);
  } catch (error) {
    // Another worker (holding the right KEK) may open it: not permanent.
    throw new Error(`cannot open the signing secret of contact ${contact.id}: ${(error as Error).message}`);
  }
  const body = contact.format === 'slack' ? slackWebhookBody(event) : certflowWebhookBody(event);
  try {
    await postWebhook(contact.target, body, secret, event.id, { addresses, nowSeconds: Math.floor(deps.now().getTime() / 1000) });
  } catch (error) {
    if (error instanceof ApplicationFailure && error.nonRetryable) throw new NotificationRefused(error.message);
    throw error;
  } finally {
    secret.fill(0);
  }
}

async function sendEmail(deps: ActivityDeps, contact: TeamContactRow, event: NotificationEvent & { outboxId: number }): Promise<void> {
  if (!deps.mailer) throw new Error('email is not configured on this worker (set CERTFLOW_SMTP_URL and CERTFLOW_SMTP_FROM)');
  try {
    await deps.mailer.send({
      to: contact.target,
      subject: notificationTitle(event),
      text: emailText(event),
      messageId: emailMessageId(event.outboxId, contact.id, deps.mailer.messageIdDomain),
      headers: { 'X-Certflow-Notification-Id': event.id, 'X-Certflow-Notification-Kind': event.kind },
    });
  } catch (error) {
    if (error instanceof MailRefused) throw new NotificationRefused(error.message);
    throw error;
  }
}
