/**
 * Review (issue 14): what core/redaction.ts lets through, and how error groups (core/error-reason.ts)
 * can be multiplied by text a team controls.
 */
import { describe, expect, it } from 'vitest';
import { failureReason } from '../../../core/error-reason.js';
import { redactText, redactValue } from '../../../core/redaction.js';

describe('review/redaction lets URL credentials through', () => {
  it.each([
    ['an SMTP relay URL (CERTFLOW_SMTP_URL form)', 'SMTP: connect smtp://certflow:S3cretPassw0rd@relay.internal:587 failed', 'S3cretPassw0rd'],
    ['an https URL with userinfo', 'GET https://user:hunter2secretpw@hooks.internal/x failed', 'hunter2secretpw'],
    ['a key=value password in free text', 'login refused: password=hunter2secretpw', 'hunter2secretpw'],
  ])('fail/%s', (_what, text, secret) => {
    expect(redactText(text)).not.toContain(secret);
  });

  it('fail/a field holding an SMTP URL with a password', () => {
    expect(JSON.stringify(redactValue({ smtpUrl: 'smtp://u:p4ssw0rd1234@relay.internal' }))).not.toContain('p4ssw0rd1234');
  });
});

describe('review/error groups: a team-controlled word makes a new group each time', () => {
  it('fail/two answers of the same webhook receiver differing only in its own words are one group', () => {
    // The receiver (the team's) chooses the 200-character excerpt that ends up in the message.
    const one = failureReason('webhook POST https://hooks.example.test/certflow answered 400: unknown field quxzwyv');
    const two = failureReason('webhook POST https://hooks.example.test/certflow answered 400: unknown field plmkjuy');
    expect(one).toBe(two);
  });
});
