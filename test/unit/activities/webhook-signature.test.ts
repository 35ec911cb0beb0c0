import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from '../../../activities/webhook-signature.js';

const SECRET = 'whsec_test-secret';
const BODY = JSON.stringify({ certificateId: 'crt_1', serial: '0a1b2c' });
const T = 1_767_225_600; // 2026-01-01T00:00:00Z

describe('signWebhookBody', () => {
  it('is t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signWebhookBody(SECRET, T, BODY)).toBe(`t=${T},v1=${expected}`);
  });

  it('accepts the secret as bytes (how the activity holds it) with the same result', () => {
    expect(signWebhookBody(Buffer.from(SECRET, 'utf8'), T, BODY)).toBe(signWebhookBody(SECRET, T, BODY));
  });

  it('refuses a timestamp that is not whole seconds', () => {
    expect(() => signWebhookBody(SECRET, 1.5, BODY)).toThrow(/timestamp/);
  });
});

describe('verifyWebhookSignature', () => {
  const header = signWebhookBody(SECRET, T, BODY);
  const cases: Array<{ name: string; secret?: string; header: string | null | undefined; body?: string; now?: number; tolerance?: number; ok: boolean }> = [
    { name: 'ok/same instant', header, ok: true },
    { name: 'ok/within tolerance after', header, now: T + 300, ok: true },
    { name: 'ok/within tolerance before (receiver clock behind)', header, now: T - 300, ok: true },
    { name: 'ok/custom tolerance', header, now: T + 3_000, tolerance: 3_600, ok: true },
    { name: 'ok/surrounding whitespace', header: ` ${header} `, ok: true },
    { name: 'fail/tampered body', header, body: BODY.replace('0a1b2c', '0a1b2d'), ok: false },
    { name: 'fail/wrong secret', header, secret: 'whsec_other', ok: false },
    { name: 'fail/stale timestamp', header, now: T + 301, ok: false },
    { name: 'fail/timestamp from the future', header, now: T - 301, ok: false },
    { name: 'fail/timestamp changed, signature kept', header: header.replace(`t=${T}`, `t=${T + 1}`), ok: false },
    { name: 'fail/missing header', header: undefined, ok: false },
    { name: 'fail/empty header', header: '', ok: false },
    { name: 'fail/no v1', header: `t=${T}`, ok: false },
    { name: 'fail/no t', header: header.slice(header.indexOf('v1=')), ok: false },
    { name: 'fail/swapped order', header: `${header.slice(header.indexOf('v1='))},t=${T}`, ok: false },
    { name: 'fail/short signature', header: header.slice(0, -2), ok: false },
    { name: 'fail/non-hex signature', header: header.slice(0, -1) + 'z', ok: false },
    { name: 'fail/non-numeric timestamp', header: header.replace(`t=${T}`, 't=soon'), ok: false },
    { name: 'fail/unknown scheme', header: header.replace('v1=', 'v0='), ok: false },
  ];

  it.each(cases)('$name', ({ secret = SECRET, header: given, body = BODY, now = T, tolerance, ok }) => {
    expect(verifyWebhookSignature(secret, given, body, now, tolerance)).toBe(ok);
  });
});
