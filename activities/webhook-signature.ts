/**
 * The `Certflow-Signature` header of webhook deliveries (docs/webhooks.md):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is signed with the
 * body so a captured request cannot be replayed after the tolerance window.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Certflow-Signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

const HEADER_PATTERN = /^t=(\d{1,15}),v1=([0-9a-f]{64})$/;

export function signWebhookBody(secret: string | Buffer, timestampSeconds: number, body: string): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw new Error(`invalid signature timestamp ${timestampSeconds}`);
  return `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, body)}`;
}

/** True when `header` is a well-formed signature of `body` under `secret`, made within `toleranceSeconds` of now. */
export function verifyWebhookSignature(
  secret: string | Buffer,
  header: string | null | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  const match = HEADER_PATTERN.exec(header?.trim() ?? '');
  if (!match) return false;
  const timestamp = Number(match[1]);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  const given = Buffer.from(match[2]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function hmacHex(secret: string | Buffer, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
}
