/**
 * Webhook destinations: an HMAC-signed POST of the certificate and its chain, never the private key
 * (docs/webhooks.md is the receivers' contract). Transient failures throw plain errors so the
 * activity's retry policy retries them; refusals that retrying cannot fix are non-retryable.
 */
import { webhookUrlForLogs } from '../core/webhook-url.js';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import type { DestinationHostPolicy } from '../core/destination-hosts.js';
import type { WebhookDestination } from '../core/types.js';
import { openDestinationSecret } from '../ca/destination-secrets.js';
import type { KeyEncryptionKeys } from '../ca/key-encryption.js';
import type { DeliveryContext, DeliveryReport } from './delivery-context.js';
import type { ActivityDeps } from './deps.js';
import { inClientSpan, withTraceHeaders } from './client-span.js';
import { DestinationRefused, pinnedLookup, recordDestinationRefusal } from './destination-guard.js';
import { SIGNATURE_HEADER, signWebhookBody } from './webhook-signature.js';

export const DELIVERY_ID_HEADER = 'Certflow-Delivery-Id';
export const WEBHOOK_TIMEOUT_MS = 10_000;
const BODY_EXCERPT_CHARS = 200;
/** At most this much of an error answer is read; the rest is never taken off the socket. */
export const MAX_ERROR_BODY_BYTES = 4096;

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
  /** The addresses the URL's host was resolved to and checked at (DestinationGuard.admit): the only ones connected to. */
  addresses: string[];
  /** Signature timestamp; defaults to the system clock. */
  nowSeconds?: number;
  timeoutMs?: number;
}

export async function deliverToWebhook(deps: ActivityDeps, context: DeliveryContext, destination: WebhookDestination): Promise<DeliveryReport> {
  const { certificate, version } = context;
  const addresses = await admitWebhook(deps, context.destinationHosts, destination.url).catch(async (error: unknown) => {
    if (error instanceof ApplicationFailure && error.type === BUSINESS_ERROR_TYPES.destinationRejected) {
      await recordDestinationRefusal(deps, {
        certificateId: certificate.id,
        teamId: certificate.teamId,
        action: 'destination.connect_refused',
        reason: error.message,
        dedupeKey: `destination-refused/${webhookDeliveryId(version.id, context.destinationIndex, context.rolloutKey)}`,
      });
    }
    throw error;
  });
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
      addresses,
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
 * POSTs `payload` (a certificate delivery, or a notification: activities/notification-channels.ts) signed with `secret`. Resolves on 2xx; throws a retryable Error on 408, 429, 5xx,
 * timeouts and network errors; throws a non-retryable DestinationRejected failure on any other status.
 */
export async function postWebhook(url: string, payload: WebhookPayload | Record<string, unknown>, secret: string | Buffer, deliveryId: string, options: PostWebhookOptions): Promise<void> {
  const where = displayUrl(url);
  if (!where) throw ApplicationFailure.nonRetryable('webhook URL must be an http(s) URL without credentials in it', BUSINESS_ERROR_TYPES.invalidRequest);
  const body = JSON.stringify(payload);
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const target = new URL(url);
  const port = target.port ? Number(target.port) : target.protocol === 'https:' ? 443 : 80;
  return inClientSpan('POST', { 'http.request.method': 'POST', 'url.full': where, 'server.address': target.hostname, 'server.port': port }, async (span) => {
    let response: IncomingMessage;
    try {
      response = await send(
        target,
        body,
        options.addresses,
        signal,
        withTraceHeaders({
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
          [DELIVERY_ID_HEADER]: deliveryId,
          [SIGNATURE_HEADER]: signWebhookBody(secret, options.nowSeconds ?? Math.floor(Date.now() / 1000), body),
        }),
      );
    } catch (error) {
      throw new Error(`webhook POST ${where} failed: ${describeRequestError(error, timeoutMs)}`);
    }

    const status = response.statusCode ?? 0;
    span.setAttribute('http.response.status_code', status);
    if (status >= 200 && status < 300) {
      response.destroy();
      return;
    }
    const excerpt = await bodyExcerpt(response, signal);
    // A redirect would re-send the certificate to a place nobody configured (and nobody checked): it is reported instead.
    const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
    const answered = `webhook POST ${where} answered ${status}${redirect}${excerpt ? `: ${excerpt}` : ''}`;
    if (status === 408 || status === 429 || status >= 500) throw new Error(answered);
    throw ApplicationFailure.nonRetryable(answered, BUSINESS_ERROR_TYPES.destinationRejected);
  });
}

/** One POST to the checked addresses only; resolves with the response head (the body is left unread). */
function send(url: URL, body: string, addresses: string[], signal: AbortSignal, headers: Record<string, string>): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', headers, signal, lookup: pinnedLookup(addresses), agent: false }, resolve);
    outgoing.once('error', reject);
    outgoing.end(body);
  });
}

/** Team policy and platform deny list, checked on the addresses the host resolves to now; a refusal is final. */
async function admitWebhook(deps: ActivityDeps, policy: DestinationHostPolicy | undefined, url: string): Promise<string[]> {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (!parsed) throw ApplicationFailure.nonRetryable('webhook URL must be an http(s) URL', BUSINESS_ERROR_TYPES.invalidRequest);
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  try {
    return await deps.destinationGuard.admit(policy, parsed.hostname, port);
  } catch (error) {
    if (error instanceof DestinationRefused) {
      throw ApplicationFailure.nonRetryable(`webhook POST ${displayUrl(url) ?? parsed.origin} refused before connecting: ${error.message}`, BUSINESS_ERROR_TYPES.destinationRejected);
    }
    throw error;
  }
}

function openWebhookSecret(kek: KeyEncryptionKeys, sealedSecret: string, certificateId: string, destinationIndex: number): Buffer {
  try {
    return openDestinationSecret(kek, sealedSecret, certificateId, destinationIndex);
  } catch (error) {
    throw new Error(`cannot open the webhook secret of ${certificateId} destination #${destinationIndex}: ${(error as Error).message}`);
  }
}

/**
 * At most MAX_ERROR_BODY_BYTES of the answer, then the socket is closed; only printable ASCII is
 * kept (no control characters or terminal escapes), whitespace collapsed, BODY_EXCERPT_CHARS shown.
 */
async function bodyExcerpt(response: IncomingMessage, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response) {
      if (signal.aborted) break;
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    // what was read so far is enough
  } finally {
    response.destroy();
  }
  const text = Buffer.concat(chunks)
    .subarray(0, MAX_ERROR_BODY_BYTES)
    .toString('latin1')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
}

function describeRequestError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`;
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}

/**
 * The URL as spans, errors, histories and audit events show it: its origin and a short hash of the
 * rest (a Slack-style URL's path is its credential: core/webhook-url.ts); null when it cannot be
 * POSTed to: not http(s), or with credentials in it.
 */
function displayUrl(url: string): string | null {
  if (!URL.canParse(url)) return null;
  const parsed = new URL(url);
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username || parsed.password) return null;
  return webhookUrlForLogs(url);
}
