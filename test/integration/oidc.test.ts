/**
 * OpenID Connect bearer tokens against a real provider on loopback (npm `oidc-provider`): the API
 * discovers the issuer's keys, accepts its JWT access tokens with the configured issuer, audience,
 * algorithms and lifetime, takes team and role from the configured claims, and makes the subject a
 * `person` principal — so the requester cannot approve their own request with an API token either.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { createOidcVerifier } from '../../api/oidc.js';
import { loadConfig } from '../../cmd/config.js';
import { findApprovalOfCertificate } from '../../db/approvals.js';
import { listAuditEvents } from '../../db/audit.js';
import { authHeaders, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite, type Created } from '../support/integration-suite.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';

const AUDIENCE = 'https://certflow.test';
const suite = useIntegrationSuite('oidc', {
  worker: true,
  team: { policy: { allowedDomains: ['example.test'], allowWildcards: true, maxValidity: 'P30D', approval: { wildcards: true } } },
});
let idp: OidcIssuer;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  const team = suite.team.teamName;
  idp = await startOidcIssuer({
    audience: AUDIENCE,
    otherAudiences: ['https://another-service.test'],
    clients: [
      { id: 'alice', claims: { certflow_team: team, certflow_role: 'admin', name: 'Alice Example', email: 'alice@example.test' } },
      { id: 'bob', claims: { certflow_team: suite.team.teamId, certflow_role: 'approver', name: 'Bob' } },
      { id: 'no-role', claims: { certflow_team: team } },
      { id: 'wrong-team', claims: { certflow_team: 'no-such-team', certflow_role: 'admin' } },
      { id: 'brief', claims: { certflow_team: team, certflow_role: 'requester' }, ttlSeconds: 1 },
    ],
  });
  // The settings as an operator gives them, through cmd/config.ts.
  const config = loadConfig({ CERTFLOW_OIDC_ISSUER: idp.issuer, CERTFLOW_OIDC_AUDIENCE: AUDIENCE, CERTFLOW_OIDC_CLOCK_TOLERANCE: '0' });
  app = createApp({
    ...suite.harness.apiDeps,
    oidc: createOidcVerifier(config.oidc!),
  });
});

afterAll(async () => {
  await idp?.close();
});

const get = (path: string, token: string) => app.request(path, { headers: authHeaders(token, false) });
const post = (path: string, token: string, body: unknown) => app.request(path, { method: 'POST', headers: authHeaders(token), body: JSON.stringify(body) });
const detail = async (response: Response) => ((await response.json()) as { detail: string }).detail;

describe('OpenID Connect bearer tokens', () => {
  it('accepts the issuer’s tokens: the subject becomes a person principal with the claimed team and role', async () => {
    const alice = await idp.accessToken('alice');
    const listed = await get('/v1/principals', alice);
    expect(listed.status, await listed.clone().text()).toBe(200);
    const items = ((await listed.json()) as { items: { id: string; kind: string; name: string; email: string | null; teamId: string }[] }).items;
    const person = items.find((item) => item.name === 'Alice Example');
    expect(person).toMatchObject({ kind: 'person', email: 'alice@example.test', teamId: suite.team.teamId });

    // The same subject with a new token is the same principal.
    const again = await get('/v1/principals', await idp.accessToken('alice'));
    const ids = ((await again.json()) as { items: { name: string; id: string }[] }).items.filter((item) => item.name === 'Alice Example').map((item) => item.id);
    expect(ids).toEqual([person!.id]);
    const created = (await listAuditEvents(suite.harness.db, { teamId: suite.team.teamId, limit: 50 })).filter(
      (event) => event.action === 'principal.created' && event.details.principalId === person!.id,
    );
    expect(created).toHaveLength(1);

    // The claimed role counts: an approver cannot create principals.
    expect((await post('/v1/principals', await idp.accessToken('bob'), { kind: 'person', name: 'x' })).status).toBe(403);
  });

  it('refuses the requester’s own approval whether they use the OIDC token or an API token minted for them', async () => {
    const alice = await idp.accessToken('alice');
    const request = await certificatesAs(app, alice).create<Created>({ team: suite.team.teamName, dnsNames: ['*.oidc.example.test'], validity: 'P1D' });
    await eventually(async () => ((await findApprovalOfCertificate(suite.harness.db, request.id))?.state === 'pending' ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the approval request to be open',
    });
    const alicePrincipal = (await listAuditEvents(suite.harness.db, { certificateId: request.id, limit: 10 })).find((event) => event.action === 'approval.requested')?.actor;
    expect(alicePrincipal).toMatch(/^prn_/);

    const viaOidc = await post(`/v1/certificates/${request.id}/approve`, alice, { reason: 'mine' });
    expect(viaOidc.status).toBe(403);
    const minted = await post(`/v1/teams/${suite.team.teamId}/tokens`, alice, { role: 'approver', principalId: alicePrincipal });
    expect(minted.status, await minted.clone().text()).toBe(201);
    const apiToken = ((await minted.json()) as { token: string }).token;
    const viaApiToken = await post(`/v1/certificates/${request.id}/approve`, apiToken, { reason: 'mine' });
    expect(viaApiToken.status).toBe(403);
    expect(await detail(viaApiToken)).toMatch(/whatever token they use/);

    const byBob = await post(`/v1/certificates/${request.id}/approve`, await idp.accessToken('bob'), { reason: 'reviewed' });
    expect(byBob.status, await byBob.clone().text()).toBe(200);
  });

  it('refuses tokens for another audience, signed by another key or with HS256, expired, or without a usable team and role', async () => {
    const refused = async (token: string, reason: RegExp) => {
      const response = await get('/v1/principals', token);
      expect(response.status).toBe(401);
      expect(await detail(response)).toMatch(reason);
    };
    await refused(await idp.accessToken('alice', 'https://another-service.test'), /aud/);

    const claims = { certflow_team: suite.team.teamName, certflow_role: 'admin' };
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'test-es256' }).setIssuer(idp.issuer).setAudience(AUDIENCE).setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(privateKey);
    await refused(forged, /signature/);
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(idp.issuer).setAudience(AUDIENCE).setSubject('alice').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32)));
    await refused(hmac, /alg/i);

    const brief = await idp.accessToken('brief');
    expect((await get(`/v1/certificates?team=${suite.team.teamName}`, brief)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await refused(brief, /exp/);

    await refused(await idp.accessToken('no-role'), /role claim/);
    await refused(await idp.accessToken('wrong-team'), /team claim/);
    // API tokens still work next to OIDC.
    expect((await get('/v1/principals', TEST_BOOTSTRAP_TOKEN)).status).toBe(200);
  });
});
