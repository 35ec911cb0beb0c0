import { describe, expect, it } from 'vitest';
import {
  certflowWebhookBody,
  contactWants,
  emailMessageId,
  expiryThreshold,
  nextAttemptDelayMs,
  slackWebhookBody,
  type NotificationEvent,
} from '../../../core/notifications.js';
import { reportsRenewalFailing } from '../../../core/renewal-failing.js';

const DAY = 86_400_000;
const now = new Date('2026-12-01T00:00:00Z');
const inDays = (days: number) => new Date(now.getTime() + days * DAY);

describe('expiryThreshold (the tightest of 30/14/7/1 days crossed)', () => {
  it.each([
    { name: 'ok/45 days: none yet', days: 45, want: null },
    { name: 'ok/30 days exactly', days: 30, want: 30 },
    { name: 'ok/20 days', days: 20, want: 30 },
    { name: 'ok/14 days', days: 14, want: 14 },
    { name: 'ok/5 days: the 7-day notice only', days: 5, want: 7 },
    { name: 'ok/1 hour', days: 1 / 24, want: 1 },
    { name: 'fail/expired: no warning', days: -1, want: null },
  ])('$name', ({ days, want }) => expect(expiryThreshold(inDays(days), now)).toBe(want));
});

describe('nextAttemptDelayMs', () => {
  const retry = { baseMs: 1000, capMs: 5000, maxAttempts: 4 };
  it.each([
    { name: 'ok/after the first attempt', attempts: 1, want: 1000 },
    { name: 'ok/doubles', attempts: 2, want: 2000 },
    { name: 'ok/capped', attempts: 3, want: 4000 },
    { name: 'fail/no attempt after the last', attempts: 4, want: null },
  ])('$name', ({ attempts, want }) => expect(nextAttemptDelayMs(attempts, retry)).toBe(want));
  it('ok/caps at capMs', () => expect(nextAttemptDelayMs(9, { ...retry, maxAttempts: 20 })).toBe(5000));
});

describe('contactWants', () => {
  it.each([
    { name: 'ok/no filter', kinds: null, kind: 'bulk_finished', want: true },
    { name: 'ok/listed', kinds: ['renewal_failing'], kind: 'renewal_failing', want: true },
    { name: 'fail/not listed', kinds: ['renewal_failing'], kind: 'bulk_finished', want: false },
  ])('$name', ({ kinds, kind, want }) => expect(contactWants(kinds, kind)).toBe(want));
});

describe('bodies and ids', () => {
  const event: NotificationEvent = {
    id: 'ntf_42',
    kind: 'renewal_failing',
    teamId: 'team_a',
    teamName: 'payments',
    certificateId: 'crt_x',
    message: 'the renewal is failing',
    details: { generation: 2 },
    createdAt: '2026-12-01T00:00:00.000Z',
  };
  it('ok/certflow body carries the id, kind and a title', () => {
    expect(certflowWebhookBody(event)).toMatchObject({ type: 'notification', id: 'ntf_42', kind: 'renewal_failing', title: '[Certflow] payments: renewal failing for crt_x' });
  });
  it('ok/slack body is {text} only', () => {
    expect(slackWebhookBody(event)).toEqual({ text: '*[Certflow] payments: renewal failing for crt_x*\nthe renewal is failing' });
  });
  it('ok/Message-ID is stable per notification and contact', () => {
    expect(emailMessageId(42, 'ctc_a', 'example.com')).toBe('<ntf_42.ctc_a@example.com>');
    expect(emailMessageId(42, 'ctc_b', 'example.com')).not.toBe(emailMessageId(42, 'ctc_a', 'example.com'));
  });
});

describe('reportsRenewalFailing', () => {
  it.each([
    { name: 'ok/renewal waits for an operator', generation: 2, step: 'issue', attempt: 1, waitsForOperator: true, want: true },
    { name: 'ok/third infrastructure failure', generation: 3, step: 'deliver', attempt: 3, waitsForOperator: false, want: true },
    { name: 'fail/second infrastructure failure', generation: 3, step: 'deliver', attempt: 2, waitsForOperator: false, want: false },
    { name: 'fail/fourth: already reported', generation: 3, step: 'issue', attempt: 4, waitsForOperator: false, want: false },
    { name: 'fail/first issuance is not a renewal', generation: 1, step: 'issue', attempt: 1, waitsForOperator: true, want: false },
    { name: 'fail/revocation step', generation: 2, step: 'revoke', attempt: 3, waitsForOperator: false, want: false },
  ])('$name', ({ want, ...failure }) => expect(reportsRenewalFailing(failure)).toBe(want));
});
