/**
 * Credentials core/redaction.ts cuts out besides its shaped tokens: a URL's password whatever its
 * scheme, key=value secrets in free text, fields holding a URL with a password.
 */
import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, redactValue } from '../../../core/redaction.js';

describe('redaction of URL credentials and key=value secrets', () => {
  it.each([
    ['an SMTP relay URL (CERTFLOW_SMTP_URL form)', 'SMTP: connect smtp://certflow:S3cretPassw0rd@relay.internal:587 failed', 'S3cretPassw0rd', `smtp://certflow:${REDACTED}@relay.internal:587`],
    ['an https URL with userinfo', 'GET https://user:hunter2secretpw@hooks.internal/x failed', 'hunter2secretpw', `https://user:${REDACTED}@hooks.internal/x`],
    ['a key=value password in free text', 'login refused: password=hunter2secretpw', 'hunter2secretpw', `password=${REDACTED}`],
    ['a token in a query string', 'GET /hook?token=abcDEF123456&x=1', 'abcDEF123456', `token=${REDACTED}&x=1`],
  ])('ok/%s', (_what, text, secret, kept) => {
    expect(redactText(text)).not.toContain(secret);
    expect(redactText(text)).toContain(kept);
  });

  it('ok/a URL with a port and an @ in its path is left alone', () => {
    expect(redactText('https://host:8443/a@b')).toBe('https://host:8443/a@b');
  });

  it('ok/a field holding an SMTP URL with a password', () => {
    expect(JSON.stringify(redactValue({ smtpUrl: 'smtp://u:p4ssw0rd1234@relay.internal' }))).not.toContain('p4ssw0rd1234');
  });
});
