import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { dns01TxtValue, isValidToken, KeyAuthorizationError, keyAuthorization, keyAuthorizationDigest } from '../../../core/acme-key-authorization.js';

/** RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint. */
const RFC7638_JWK = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
/** The token of RFC 8555 §8.3's example challenge. */
const RFC8555_TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

describe('ACME key authorization (RFC 8555 §8.1)', () => {
  it('ok/is the token and the account key thumbprint joined by a dot (RFC 7638 example key)', async () => {
    const thumbprint = await calculateJwkThumbprint(RFC7638_JWK, 'sha256');
    expect(thumbprint).toBe(RFC7638_THUMBPRINT);
    expect(keyAuthorization(RFC8555_TOKEN, thumbprint)).toBe(`${RFC8555_TOKEN}.${RFC7638_THUMBPRINT}`);
  });

  it('ok/dns-01 TXT value and acmeIdentifier digest are SHA-256 of the key authorization (known value and node:crypto)', async () => {
    const value = `${RFC8555_TOKEN}.${RFC7638_THUMBPRINT}`;
    // `printf %s "$value" | openssl dgst -sha256 -binary | basenc --base64url`, padding removed.
    expect(dns01TxtValue(value)).toBe('_cC5rvB9vM8qzT3MTBcTeVpQwtbNypBXyQnE4fhM9QQ');
    const { publicKey } = await generateKeyPair('ES256');
    for (let round = 0; round < 20; round++) {
      const ka = keyAuthorization(Buffer.from(`token-${round}-`.padEnd(22, 'x')).toString('base64url'), await calculateJwkThumbprint(await exportJWK(publicKey), 'sha256'));
      expect(dns01TxtValue(ka)).toBe(createHash('sha256').update(ka).digest('base64url'));
      expect(Buffer.from(keyAuthorizationDigest(ka))).toEqual(createHash('sha256').update(ka).digest());
    }
  });

  it('fail/refuses a token that is not unpadded base64url or carries under 128 bits, and a thumbprint that is not SHA-256 base64url', () => {
    expect(() => keyAuthorization('short', RFC7638_THUMBPRINT)).toThrow(KeyAuthorizationError);
    expect(() => keyAuthorization(`${RFC8555_TOKEN}=`, RFC7638_THUMBPRINT)).toThrow(KeyAuthorizationError);
    expect(() => keyAuthorization(RFC8555_TOKEN, RFC7638_THUMBPRINT.slice(1))).toThrow(KeyAuthorizationError);
    expect(() => keyAuthorization(RFC8555_TOKEN, `${RFC7638_THUMBPRINT.slice(0, 42)}t`)).toThrow(/thumbprint/);
    expect(() => keyAuthorization(RFC8555_TOKEN, `${RFC7638_THUMBPRINT}=`)).toThrow(/thumbprint/);
  });
});

describe('isValidToken', () => {
  it('ok/base64url of at least 22 characters', () => {
    expect(isValidToken(RFC8555_TOKEN)).toBe(true);
    expect(isValidToken('A'.repeat(22))).toBe(true);
    expect(isValidToken('a-b_c'.repeat(5))).toBe(true);
  });

  it.each([
    ['fail/21 characters (126 bits)', 'A'.repeat(21)],
    ['fail/empty', ''],
    ['fail/padding', `${'A'.repeat(22)}==`],
    ['fail/standard base64 alphabet', `${'A'.repeat(22)}+/`],
    ['fail/a dot (it would split the key authorization)', `${'A'.repeat(22)}.x`],
    ['fail/a path separator', `../${'A'.repeat(22)}`],
    ['fail/whitespace', ` ${'A'.repeat(22)}`],
    ['fail/non-ASCII', `${'A'.repeat(22)}é`],
  ])('%s', (_name, token) => {
    expect(isValidToken(token)).toBe(false);
  });
});
