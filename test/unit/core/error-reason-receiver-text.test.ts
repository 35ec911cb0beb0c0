/** Error groups cannot be multiplied by text a team's webhook receiver chooses (core/error-reason.ts). */
import { describe, expect, it } from 'vitest';
import { failureReason } from '../../../core/error-reason.js';

describe('failureReason of a webhook answer', () => {
  it('ok/two answers of the same webhook receiver differing only in its own words are one group', () => {
    const one = failureReason('webhook POST https://hooks.example.test/…#1a2b3c4d answered 400: unknown field quxzwyv');
    const two = failureReason('webhook POST https://hooks.example.test/…#1a2b3c4d answered 400: unknown field plmkjuy');
    expect(one).toBe(two);
    expect(one).toContain('answered <n>');
    expect(one).not.toContain('unknown field');
  });

  it('ok/the redirect note stays; other messages with a colon are untouched', () => {
    expect(failureReason('webhook POST https://h.example.test/…#1a2b3c4d answered 302 (redirects are not followed): moved')).toContain('(redirects are not followed)');
    expect(failureReason('TLS handshake failed: certificate expired')).toBe('TLS handshake failed: certificate expired');
  });
});
