/**
 * Webhook destinations: an HMAC-signed POST of the certificate and its chain, never the private key
 * (docs/webhooks.md is the receivers' contract). Transient failures throw plain errors so the
 * activity's retry policy retries them; refusals that retrying cannot fix are non-retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import type { WebhookDestination } from '../core/types.js';
import { openDestinationSecret } from '../ca/destination-secrets.js';
import type { KeyEncryptionKeys } from '../ca/key-encryption.js';
import type { DeliveryContext, DeliveryReport } from './delivery-context.js';
import type { ActivityDeps } from './deps.js';
import { SIGNATURE_HEADER, signWebhookBody } from './webhook-signature.js';

export const DELIVERY_ID_HEADER = 'Certflow-Delivery-Id';
export const WEBHOOK_TIMEOUT_MS = 10_000;
const BODY_EXCERPT_CHARS = 200;

/** The JSON body of a webhook delivery. */
export interface WebhookPayload {
  certificateId: string;
  versionId: string;
  generation: number;
  serial: string;
  purpose: 'rollout' | 'rollback';
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
  certificatePem: string;
  chainPem: string;
  fullchainPem: string;
}

export interface PostWebhookOptions {
  /** Signature timestamp; defaults to the system clock. */
  nowSeconds?: number;
  timeoutMs?: number;
}

export async function deliverToWebhook(deps: ActivityDeps, context: DeliveryContext, destination: WebhookDestination): Promise<DeliveryReport> {
  const { certificate, version } = context;
  const secret = openWebhookSecret(deps.kek, destination.sealedSecret, certificate.id, context.destinationIndex);
  const payload: WebhookPayload = {
    certificateId: certificate.id,
    versionId: version.id,
    generation: version.generation,
    serial: version.serial,
    purpose: context.purpose,
    notBefore: version.notBefore.toISOString(),
    notAfter: version.notAfter.toISOString(),
    fingerprintSha256: version.fingerprintSha256,
    certificatePem: context.certificatePem,
    chainPem: context.chainPem,
    fullchainPem: context.certificatePem + context.chainPem,
  };
  try {
    await postWebhook(destination.url, payload, secret, webhookDeliveryId(version.id, context.destinationIndex, context.rolloutKey), {
      nowSeconds: Math.floor(deps.now().getTime() / 1000),
    });
  } finally {
    secret.fill(0);
  }
  return { deployedSerial: version.serial };
}

/** What receivers deduplicate on: the same for every retry of one request, new for a rollback or a retried rollout. */
export function webhookDeliveryId(versionId: string, destinationIndex: number, rolloutKey: string): string {
  return `${versionId}/${destinationIndex}/${rolloutKey}`;
}

/**
 * POSTs `payload` signed with `secret`. Resolves on 2xx; throws a retryable Error on 408, 429, 5xx,
 * timeouts and network errors; throws a non-retryable DestinationRejected failure on any other status.
 */
export async function postWebhook(
  url: string,
  payload: WebhookPayload,
  secret: string | Buffer,
  deliveryId: string,
  options: PostWebhookOptions = {},
): Promise<void> {
  const where = displayUrl(url);
  if (!where) throw ApplicationFailure.nonRetryable('webhook URL must be an http(s) URL without credentials in it', BUSINESS_ERROR_TYPES.invalidRequest);
  const body = JSON.stringify(payload);
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        [DELIVERY_ID_HEADER]: deliveryId,
        [SIGNATURE_HEADER]: signWebhookBody(secret, options.nowSeconds ?? Math.floor(Date.now() / 1000), body),
      },
      body,
      // A redirect would re-send the certificate to a place nobody configured; it is reported instead.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Error(`webhook POST ${where} failed: ${describeFetchError(error, timeoutMs)}`);
  }

  const status = response.status;
  if (status >= 200 && status < 300) {
    await response.body?.cancel();
    return;
  }
  const excerpt = await bodyExcerpt(response);
  const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
  const answered = `webhook POST ${where} answered ${status}${redirect}${excerpt ? `: ${excerpt}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) throw new Error(answered);
  throw ApplicationFailure.nonRetryable(answered, BUSINESS_ERROR_TYPES.destinationRejected);
}

function openWebhookSecret(kek: KeyEncryptionKeys, sealedSecret: string, certificateId: string, destinationIndex: number): Buffer {
  try {
    return openDestinationSecret(kek, sealedSecret, certificateId, destinationIndex);
  } catch (error) {
    throw new Error(`cannot open the webhook secret of ${certificateId} destination #${destinationIndex}: ${(error as Error).message}`);
  }
}

async function bodyExcerpt(response: Response): Promise<string> {
  try {
    const text = (await response.text()).replace(/\s+/g, ' ').trim();
    return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
  } catch {
    return '';
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`;
  // undici reports "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND, TLS errors) in `cause`.
  const cause = error instanceof Error ? (error.cause as { message?: string; code?: string } | undefined) : undefined;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code} ${cause.message}` : cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The URL without query or fragment (they may hold tokens that do not belong in histories); null
 * when fetch cannot POST to it: not http(s), or with credentials (fetch refuses those).
 */
function displayUrl(url: string): string | null {
  if (!URL.canParse(url)) return null;
  const parsed = new URL(url);
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username || parsed.password) return null;
  return `${parsed.origin}${parsed.pathname}`;
}
