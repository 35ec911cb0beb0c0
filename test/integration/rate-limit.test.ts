/**
 * Fair use (issue 11 §9): each API token has a token bucket; over it the API answers 429 with a
 * problem and `Retry-After`, and the token may go on once that time has passed. Other tokens are
 * not slowed down. The app is the real one on real Postgres with a small limit.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { loadConfig } from '../../cmd/config.js';
import { authHeaders, createToken } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const suite = useIntegrationSuite('rate-limit', { team: true });

describe('per-token rate limit', () => {
  it('answers 429 with Retry-After once a token’s burst is spent, per token', async () => {
    const { harness, team } = suite;
    const app = createApp({
      ...harness.apiDeps,
      rateLimit: { perSecond: 1, burst: 3 },
    });
    const list = (token: string) => app.request(`/v1/certificates?team=${team.teamName}`, { headers: authHeaders(token, false) });

    for (let i = 0; i < 3; i++) expect((await list(team.requester)).status).toBe(200);
    const limited = await list(team.requester);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ status: 429, type: '/problems/rate-limited' });

    // Another principal of the same team has its own bucket.
    expect((await list(team.admin)).status).toBe(200);

    // A spent bucket never stands between its owner and a revocation: revoking a token still works.
    const spare = await createToken(harness, team.teamId, 'requester');
    for (let i = 0; i < 3; i++) await list(team.admin);
    expect((await list(team.admin)).status).toBe(429);
    const revoked = await app.request(`/v1/tokens/${spare.id}`, { method: 'DELETE', headers: authHeaders(team.admin, false) });
    expect(revoked.status, await revoked.clone().text()).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    expect((await list(team.requester)).status).toBe(200);
  });

  it('is on by default in the API configuration, high enough for normal use, and can be turned off', () => {
    expect(loadConfig({}).rateLimit).toEqual({ perSecond: 50, burst: 500 });
    expect(loadConfig({ CERTFLOW_RATE_LIMIT_PER_SECOND: '5', CERTFLOW_RATE_LIMIT_BURST: '20' }).rateLimit).toEqual({ perSecond: 5, burst: 20 });
    expect(loadConfig({ CERTFLOW_RATE_LIMIT_PER_SECOND: '0' }).rateLimit).toBeNull();
  });
});
