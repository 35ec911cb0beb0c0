/**
 * Fair use on the real API, Temporal and Postgres: a team's cap on active certificates (409) and on
 * renewals asked for per hour (429 with Retry-After) hold under concurrent requests; responders
 * (incident response) are not limited; validity below the platform's floor or the team's minimum,
 * and a renewBefore that would make renewals follow each other, are refused before anything is stored.
 */
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { auditEvents, certificates } from '../../db/schema.js';
import { authHeaders, createTeamWithTokens, createToken, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite, type Created } from '../support/integration-suite.js';

// No worker: quotas are decided by the API; the lifecycles wait on the task queue meanwhile.
const suite = useIntegrationSuite('quotas', {
  team: {
    policy: {
      allowedDomains: ['example.test'],
      maxValidity: 'P30D',
      minValidity: 'PT2H',
      quotas: { maxActiveCertificates: 3, maxRenewalsPerHour: 2 },
    },
  },
});
let responder: string;

beforeAll(async () => {
  responder = (await createToken(suite.harness, suite.team.teamId, 'responder')).token;
});

interface Problem {
  type: string;
  status: number;
  detail: string;
  quota?: string;
  limit?: number;
  current?: number;
  code?: string;
  errors?: { field: string; message: string }[];
}

const post = (app: { request: typeof suite.harness.app.request }, body: Record<string, unknown>) =>
  app.request('/v1/certificates', { method: 'POST', headers: authHeaders(suite.team.requester), body: JSON.stringify({ team: suite.team.teamName, validity: 'P1D', ...body }) });

const renew = (id: string, token: string) => suite.harness.app.request(`/v1/certificates/${id}/renew`, { method: 'POST', headers: authHeaders(token, false) });

const teamCertificates = async () => suite.harness.db.select({ id: certificates.id }).from(certificates).where(eq(certificates.teamId, suite.team.teamId));

describe('fair use', () => {
  let first: Created;

  it('caps active certificates, also when requests race (409 quota-exceeded)', async () => {
    const created = await post(suite.harness.app, { dnsNames: ['a.example.test'] });
    expect(created.status).toBe(202);
    first = (await created.json()) as Created;

    const racing = await Promise.all(['b', 'c', 'd', 'e'].map((label) => post(suite.harness.app, { dnsNames: [`${label}.example.test`] })));
    const statuses = racing.map((response) => response.status).sort();
    expect(statuses).toEqual([202, 202, 409, 409]);
    const refused = (await racing.find((response) => response.status === 409)!.json()) as Problem;
    expect(refused).toMatchObject({ type: '/problems/quota-exceeded', quota: 'maxActiveCertificates', limit: 3, current: 3 });
    expect(refused.detail).toMatch(/decommission or revoke/);
    expect(await teamCertificates()).toHaveLength(3);
  });

  it('limits renewals asked for per hour, also when they race (429 with Retry-After), for every team role; the platform admin is not limited', async () => {
    const racing = await Promise.all([renew(first.id, suite.team.requester), renew(first.id, suite.team.requester), renew(first.id, suite.team.requester)]);
    expect(racing.map((response) => response.status).sort()).toEqual([202, 202, 429]);
    const limited = racing.find((response) => response.status === 429)!;
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect((await limited.json()) as Problem).toMatchObject({ type: '/problems/quota-exceeded', quota: 'maxRenewalsPerHour', limit: 2, current: 2 });

    const again = await renew(first.id, suite.team.admin);
    expect(again.status).toBe(429);
    // A team admin can mint itself any role, so a responder token buys no exemption; the platform admin's does.
    expect((await renew(first.id, responder)).status).toBe(429);
    const incident = await renew(first.id, TEST_BOOTSTRAP_TOKEN);
    expect(incident.status).toBe(202);

    const recorded = await suite.harness.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.certificateId, first.id), eq(auditEvents.action, 'certificate.renewal_requested')));
    expect(recorded).toHaveLength(3);
  });

  it("refuses a validity below the team's minimum (403 validity_too_short)", async () => {
    const response = await post(suite.harness.app, { dnsNames: ['short.example.test'], validity: 'PT1H' });
    expect(response.status).toBe(403);
    expect((await response.json()) as Problem).toMatchObject({ type: '/problems/policy-violation', code: 'validity_too_short' });
  });

  it("refuses a validity below the platform's floor and a renewBefore that would loop renewals (400)", async () => {
    const harness = suite.harness;
    const withFloor = createApp({
      ...harness.apiDeps,
      minValiditySeconds: 3 * 3600,
    });
    const short = await post(withFloor, { dnsNames: ['floor.example.test'], validity: 'PT150M' });
    expect(short.status).toBe(400);
    expect(((await short.json()) as Problem).errors).toEqual([{ field: 'validity', message: expect.stringMatching(/at least 10800 s/) }]);

    const looping = await post(suite.harness.app, { dnsNames: ['loop.example.test'], validity: 'P1D', renewBefore: 'PT23H' });
    expect(looping.status).toBe(400);
    expect(((await looping.json()) as Problem).errors).toEqual([{ field: 'renewBefore', message: expect.stringMatching(/at most 77760 s/) }]);
    expect(await teamCertificates()).toHaveLength(3);
  });

  it('more parallel renewals than the pool has connections all answer at once (no connection held across the Temporal call)', async () => {
    const team = await createTeamWithTokens(suite.harness, { policy: { allowedDomains: ['example.test'], maxValidity: 'P30D', quotas: { maxRenewalsPerHour: 1000 } } });
    const created = await certificatesAs(suite.harness.app, team.requester).create<Created>({ team: team.teamName, dnsNames: ['pool.example.test'], validity: 'P1D' });
    const started = Date.now();
    // The harness pool has 10 connections: each request used to hold one while asking for a second.
    const answers = await Promise.all(Array.from({ length: 16 }, () => renew(created.id, team.requester)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(16).fill(202));
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
