import { describe, expect, it } from 'vitest';
import { isSecretKey, REDACTED, redactText, redactValue } from '../../../core/redaction.js';

const TOKEN = 'cft_5fq3abcdefgh_Zm9vYmFyYmF6cXV4cXV1eHh5eXp6';
const KEK = 'a3'.repeat(32);
const PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----';
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';

describe('redactText', () => {
  const cases: { name: string; input: string; secret: string }[] = [
    { name: 'ok/Authorization header value', input: `Authorization: Bearer ${TOKEN}`, secret: TOKEN },
    { name: 'ok/an API token in a sentence', input: `token ${TOKEN} was rejected`, secret: TOKEN },
    { name: 'ok/a PEM private key', input: `key:\n${PEM}\nend`, secret: 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg' },
    { name: 'ok/a JWT', input: `oidc ${JWT}`, secret: JWT },
    { name: 'ok/a database password', input: 'postgres://certflow:hunter2secret@db:5432/certflow', secret: 'hunter2secret' },
    { name: 'ok/a known secret (the KEK)', input: `kek is ${KEK}`, secret: KEK },
  ];
  it.each(cases)('$name', ({ input, secret }) => {
    const out = redactText(input, [KEK]);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });
  it('ok/ordinary text is left alone', () => {
    const text = 'certificate crt_abc issued, serial 4f3a9c, fingerprint ab:cd';
    expect(redactText(text, [KEK])).toBe(text);
  });
});

describe('redactValue', () => {
  it('ok/secret keys at any depth, known ids kept', () => {
    const out = redactValue({
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      eab: { keyId: 'eab_1', hmacKey: 'c2VjcmV0LWhtYWMta2V5LWJ5dGVz' },
      db: { password: 'hunter2' },
      tokenId: 'tok_1',
      kek: KEK,
      list: [{ privateKey: PEM }],
      certificateId: 'crt_1',
    }) as {
      headers: Record<string, unknown>;
      eab: unknown;
      db: { password: unknown };
      tokenId: unknown;
      kek: unknown;
      list: { privateKey: unknown }[];
      certificateId: unknown;
    };
    expect(out.headers.authorization).toBe(REDACTED);
    expect(out.headers['content-type']).toBe('application/json');
    expect(out.eab).toEqual({ keyId: 'eab_1', hmacKey: REDACTED });
    expect(out.db.password).toBe(REDACTED);
    expect(out.kek).toBe(REDACTED);
    expect(out.list[0]?.privateKey).toBe(REDACTED);
    expect(out.tokenId).toBe('tok_1');
    expect(out.certificateId).toBe('crt_1');
  });
  it('ok/errors keep their message, minus secrets', () => {
    const out = redactValue(new Error(`login failed for ${TOKEN}`)) as { type: string; message: string };
    expect(out.type).toBe('Error');
    expect(out.message).toBe(`login failed for ${REDACTED}`);
  });
  it('ok/cycles do not loop', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a['self'] = a;
    expect(redactValue(a)).toEqual({ name: 'a', self: '[…]' });
  });
  it('ok/key names', () => {
    expect(['token', 'Authorization', 'hmac_key', 'CERTFLOW_KEK', 'pinFile', 'password', 'x-api-key'].filter((key) => !isSecretKey(key))).toEqual([]);
    expect(['tokenId', 'keyId', 'publicKey', 'serial', 'certificateId', 'spinner'].filter(isSecretKey)).toEqual([]);
  });
});
