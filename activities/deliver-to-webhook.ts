import type { WebhookDestination } from '../core/types.js';
import type { DeliveryContext, DeliveryReport } from './delivery-context.js';
import type { ActivityDeps } from './deps.js';

/** STUB — to be implemented: HMAC-signed POST of the certificate and chain. */
export async function deliverToWebhook(_deps: ActivityDeps, _context: DeliveryContext, _destination: WebhookDestination): Promise<DeliveryReport> {
  throw new Error('not implemented');
}
