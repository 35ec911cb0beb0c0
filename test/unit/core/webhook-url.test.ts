import { describe, expect, it } from 'vitest';
import { urlsForLogs, webhookUrlForLogs } from '../../../core/webhook-url.js';

describe('webhookUrlForLogs', () => {
  it('ok/keeps the origin, hides the path and query behind a short hash that tells URLs apart', () => {
    const one = webhookUrlForLogs('https://hooks.slack.com/services/T1/B1/secretpathtoken?x=1');
    expect(one).toMatch(/^https:\/\/hooks\.slack\.com\/…#[0-9a-f]{8}$/);
    expect(one).not.toContain('secretpathtoken');
    expect(webhookUrlForLogs('https://hooks.slack.com/services/T1/B1/other')).not.toBe(one);
    expect(webhookUrlForLogs('not a url')).toBe('(invalid URL)');
  });
});

describe('urlsForLogs', () => {
  it('ok/cuts every http(s) URL in a text to its origin and hash, leaving already cut ones alone', () => {
    const text = 'POST https://hooks.slack.com/services/T1/B1/s3cretpath failed; see http://a.example.test/…#1a2b3c4d';
    const out = urlsForLogs(text);
    expect(out).not.toContain('s3cretpath');
    expect(out).toMatch(/^POST https:\/\/hooks\.slack\.com\/…#[0-9a-f]{8} failed; see http:\/\/a\.example\.test\/…#1a2b3c4d$/);
  });
});
