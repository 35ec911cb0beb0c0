/**
 * The device authorization flow's client side (cmd/oidc-device-flow.ts) against scripted IdP answers: polling
 * honours the interval, `authorization_pending` and `slow_down` (+5 s), ends on `access_denied`, `expired_token`
 * and the device code's own lifetime, and refuses answers that are not what RFC 8628 / RFC 6749 describe.
 * The refresh of a stored OIDC login (cmd/oidc-refresh.ts) stores the new tokens and asks for a new login when
 * it cannot. The flow against a real provider is test/integration/cli-oidc-login.test.ts.
 */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliFailure } from '../../../cmd/cli-command.js';
import { writeStoredLogin, type StoredLogin } from '../../../cmd/cli-config.js';
import { EXIT_AUTH } from '../../../cmd/cli-exit.js';
import { DEVICE_CODE_GRANT, discoverIdp, pollForTokens, requestDeviceAuthorization, type DeviceFlowIo } from '../../../cmd/oidc-device-flow.js';
import { refreshedIfExpired } from '../../../cmd/oidc-refresh.js';

const ISSUER = 'https://idp.example.test';
const ENDPOINTS = { tokenEndpoint: `${ISSUER}/token`, deviceAuthorizationEndpoint: `${ISSUER}/device/auth` };
const AUTHORIZATION = { device_code: 'dc', user_code: 'ABCD-EFGH', verification_uri: `${ISSUER}/device`, expires_in: 60, interval: 2 };

/** A scripted IdP: each token request gets the next answer; the clock moves only when the flow sleeps. */
function scriptedIdp(answers: Array<[number, unknown]>) {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const sleeps: number[] = [];
  const forms: URLSearchParams[] = [];
  const io: DeviceFlowIo = {
    now: () => new Date(clock),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    fetch: (async (_url: string, init?: RequestInit) => {
      forms.push(new URLSearchParams(String(init?.body)));
      const [status, body] = answers.shift() ?? [500, { error: 'server_error' }];
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
  };
  return { io, sleeps, forms };
}

const pending: [number, unknown] = [400, { error: 'authorization_pending' }];
const tokens: [number, unknown] = [200, { access_token: 'eyJ.a.b', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt' }];

describe('pollForTokens', () => {
  it('waits the interval between polls, 5 s more after each slow_down, and returns the tokens', async () => {
    const idp = scriptedIdp([pending, [400, { error: 'slow_down' }], pending, tokens]);
    const result = await pollForTokens(idp.io, ENDPOINTS, 'cli', AUTHORIZATION);
    expect(idp.sleeps).toEqual([2_000, 2_000, 7_000, 7_000]);
    expect(result).toEqual({ accessToken: 'eyJ.a.b', refreshToken: 'rt', expiresAt: '2026-01-01T00:05:18.000Z' });
    expect(Object.fromEntries(idp.forms[0]!)).toEqual({ grant_type: DEVICE_CODE_GRANT, device_code: 'dc', client_id: 'cli' });
  });

  it('polls every 5 s when the IdP names no interval', async () => {
    const idp = scriptedIdp([pending, tokens]);
    await pollForTokens(idp.io, ENDPOINTS, 'cli', { ...AUTHORIZATION, interval: undefined });
    expect(idp.sleeps).toEqual([5_000, 5_000]);
  });

  it('ends on access_denied (denied), expired_token and its own deadline (expired), and another error (idp)', async () => {
    await expect(pollForTokens(scriptedIdp([pending, [400, { error: 'access_denied' }]]).io, ENDPOINTS, 'cli', AUTHORIZATION)).rejects.toMatchObject({ reason: 'denied' });
    await expect(pollForTokens(scriptedIdp([[400, { error: 'expired_token' }]]).io, ENDPOINTS, 'cli', AUTHORIZATION)).rejects.toMatchObject({ reason: 'expired' });
    const forever = scriptedIdp(Array.from({ length: 100 }, () => pending));
    await expect(pollForTokens(forever.io, ENDPOINTS, 'cli', { ...AUTHORIZATION, expires_in: 10 })).rejects.toMatchObject({ reason: 'expired' });
    expect(forever.forms).toHaveLength(4);
    await expect(pollForTokens(scriptedIdp([[400, { error: 'invalid_client' }]]).io, ENDPOINTS, 'cli', AUTHORIZATION)).rejects.toMatchObject({ reason: 'idp', message: /invalid_client/ });
  });

  it('refuses a token answer without a Bearer access token', async () => {
    await expect(pollForTokens(scriptedIdp([[200, { access_token: 'x', token_type: 'mac' }]]).io, ENDPOINTS, 'cli', AUTHORIZATION)).rejects.toMatchObject({ reason: 'idp', message: /token_type/ });
    await expect(pollForTokens(scriptedIdp([[200, { token_type: 'Bearer' }]]).io, ENDPOINTS, 'cli', AUTHORIZATION)).rejects.toMatchObject({ reason: 'idp', message: /access_token/ });
  });
});

describe('the IdP documents', () => {
  it('needs a discovery document of exactly this issuer with a device endpoint, and a complete device authorization answer', async () => {
    const serving = (body: unknown) => scriptedIdp([[200, body]]).io;
    const document = { issuer: ISSUER, token_endpoint: ENDPOINTS.tokenEndpoint, device_authorization_endpoint: ENDPOINTS.deviceAuthorizationEndpoint };
    expect(await discoverIdp(serving(document), ISSUER)).toEqual(ENDPOINTS);
    await expect(discoverIdp(serving({ ...document, issuer: 'https://evil.example.test' }), ISSUER)).rejects.toThrow(/names issuer/);
    await expect(discoverIdp(serving({ ...document, device_authorization_endpoint: undefined }), ISSUER)).rejects.toThrow(/no device authorization endpoint/);
    await expect(discoverIdp(serving({ ...document, token_endpoint: 'http://idp.example.test/token' }), ISSUER)).rejects.toThrow(/https/);

    expect(await requestDeviceAuthorization(serving(AUTHORIZATION), ENDPOINTS, 'cli', 'openid')).toEqual(AUTHORIZATION);
    await expect(requestDeviceAuthorization(serving({ ...AUTHORIZATION, user_code: undefined }), ENDPOINTS, 'cli', 'openid')).rejects.toThrow(/user_code/);
    await expect(requestDeviceAuthorization(serving({ ...AUTHORIZATION, verification_uri: 'javascript:alert(1)' }), ENDPOINTS, 'cli', 'openid')).rejects.toThrow(/verification_uri/);
  });
});

describe('refreshedIfExpired', () => {
  const login = (expiresAt: string, refreshToken: string | null): StoredLogin => ({
    apiUrl: 'https://certflow.example.test',
    token: 'old',
    oidc: { issuer: ISSUER, clientId: 'cli', tokenEndpoint: ENDPOINTS.tokenEndpoint, refreshToken, expiresAt },
  });
  const now = () => new Date('2026-01-01T00:00:00Z');

  it('keeps a token that is valid for more than a minute, and refreshes and stores (0600) one that is not', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'certflow-refresh-')), 'certflow', 'config.json');
    const fresh = login('2026-01-01T00:05:00Z', 'rt');
    const untouched = scriptedIdp([]);
    expect(await refreshedIfExpired(fresh, path, untouched.io.fetch, now)).toBe(fresh);
    expect(untouched.forms).toEqual([]);

    const stale = login('2026-01-01T00:00:30Z', 'rt');
    await writeStoredLogin(path, stale);
    const idp = scriptedIdp([[200, { access_token: 'new', token_type: 'bearer', expires_in: 600 }]]);
    const refreshed = await refreshedIfExpired(stale, path, idp.io.fetch, now);
    expect(Object.fromEntries(idp.forms[0]!)).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt', client_id: 'cli' });
    // The IdP kept the refresh token (sent none): the old one stays.
    expect(refreshed).toEqual({ ...stale, token: 'new', oidc: { ...stale.oidc, refreshToken: 'rt', expiresAt: '2026-01-01T00:10:00.000Z' } });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(refreshed);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('asks for a new login (exit 3) without a refresh token or when the IdP refuses it', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'certflow-refresh-')), 'config.json');
    await expect(refreshedIfExpired(login('2025-12-31T00:00:00Z', null), path, scriptedIdp([]).io.fetch, now)).rejects.toMatchObject({ exitCode: EXIT_AUTH, message: /login --oidc/ });
    const refused = refreshedIfExpired(login('2025-12-31T00:00:00Z', 'rt'), path, scriptedIdp([[400, { error: 'invalid_grant' }]]).io.fetch, now);
    await expect(refused).rejects.toBeInstanceOf(CliFailure);
    await expect(refused).rejects.toMatchObject({ exitCode: EXIT_AUTH });
  });
});
