/**
 * Text Postgres cannot store (U+0000, lone surrogates) in any body or query string is refused with a
 * 400 problem before anything happens, on the real API, Temporal and Postgres. Before, a NUL renewal
 * reason answered 500 yet renewed (unaudited, so outside maxRenewalsPerHour), a NUL approval reason
 * wedged the approval for ever (the workflow retried recording it), and a NUL principal name answered 500.
 */
import { and, eq, like, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { findApprovalOfCertificate } from '../../db/approvals.js';
import { auditEvents, certificateVersions, principals } from '../../db/schema.js';
import { authHeaders, createToken, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite, type Created } from '../support/integration-suite.js';

const suite = useIntegrationSuite('nul-input', {
  worker: true,
  team: {
    policy: { allowedDomains: ['example.test'], maxValidity: 'P30D', approval: { validityAbove: 'P2D' }, quotas: { maxRenewalsPerHour: 1 } },
  },
});
let approver: string;

beforeAll(async () => {
  approver = (await createToken(suite.harness, suite.team.teamId, 'approver')).token;
});

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

/** The body as JSON text, so `\u0000` travels as the JSON escape a client would send. */
const post = (path: string, token: string, body: unknown) =>
  suite.harness.app.request(path, { method: 'POST', headers: authHeaders(token), body: JSON.stringify(body) });

async function expectRefused(response: Response, field: string, message = /must not contain the NUL character \(U\+0000\)/): Promise<void> {
  expect(response.status, await response.clone().text()).toBe(400);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = (await response.json()) as Problem;
  expect(problem.type).toBe('/problems/validation-failed');
  expect(problem.errors).toEqual([{ field, message: expect.stringMatching(message) as unknown as string }]);
}

const versions = async (id: string) => (await suite.harness.db.select({ id: certificateVersions.id }).from(certificateVersions).where(eq(certificateVersions.certificateId, id))).length;
const renewalEvents = async (id: string) =>
  (await suite.harness.db.select({ seq: auditEvents.seq }).from(auditEvents).where(and(eq(auditEvents.certificateId, id), eq(auditEvents.action, 'certificate.renewal_requested')))).length;

describe('text Postgres cannot store is refused at the boundary', () => {
  it('renew: a NUL (or lone surrogate) reason is a 400 that signals nothing; the quota still counts clean requests', async () => {
    const created = await suite.certificates.create<Created>({ team: suite.team.teamName, dnsNames: ['nul-renew.example.test'], validity: 'P1D' });
    await eventually(async () => ((await versions(created.id)) === 1 ? true : undefined), { timeoutMs: 30_000, what: 'first version' });

    await expectRefused(await post(`/v1/certificates/${created.id}/renew`, suite.team.requester, { reason: 'x\u0000' }), 'reason');
    await expectRefused(await post(`/v1/certificates/${created.id}/renew`, suite.team.requester, { reason: 'x\uD800' }), 'reason', /lone UTF-16 surrogate/);
    expect(await renewalEvents(created.id)).toBe(0);

    // The one renewal the hour allows is still there, and then the quota holds.
    expect((await post(`/v1/certificates/${created.id}/renew`, suite.team.requester, { reason: 'clean' })).status).toBe(202);
    await eventually(async () => ((await versions(created.id)) === 2 ? true : undefined), { timeoutMs: 30_000, what: 'the clean renewal issued' });
    expect((await post(`/v1/certificates/${created.id}/renew`, suite.team.requester, { reason: 'again' })).status).toBe(429);
    expect(await renewalEvents(created.id)).toBe(1);
    // No renewal was signalled by the refused requests: only the clean one issued a version.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await versions(created.id)).toBe(2);
  }, 90_000);

  it('approve: a NUL reason is a 400 and the approval stays open; a clean reason then approves it', async () => {
    const created = await suite.certificates.create<Created>({ team: suite.team.teamName, dnsNames: ['nul-approve.example.test'], validity: 'P3D' });
    expect(created.state).toBe('awaiting_approval');
    await eventually(async () => ((await findApprovalOfCertificate(suite.harness.db, created.id))?.state === 'pending' ? true : undefined), { timeoutMs: 15_000, what: 'approval open' });

    await expectRefused(await post(`/v1/certificates/${created.id}/approve`, approver, { reason: 'ok\u0000' }), 'reason');
    await expectRefused(await post(`/v1/certificates/${created.id}/reject`, approver, { 'reason\u0000': 'no' }), 'reason\\u0000', /its name must not contain the NUL/);
    expect((await findApprovalOfCertificate(suite.harness.db, created.id))?.state).toBe('pending');

    const approved = await post(`/v1/certificates/${created.id}/approve`, approver, { reason: 'checked with the owner' });
    expect(approved.status, await approved.clone().text()).toBe(200);
    await eventually(async () => ((await versions(created.id)) === 1 ? true : undefined), { timeoutMs: 30_000, what: 'issued once approved' });
    expect((await findApprovalOfCertificate(suite.harness.db, created.id))?.state).toBe('approved');
  }, 90_000);

  it('renew: when the audit append fails, no renewal is signalled (the event is recorded before the signal)', async () => {
    // Stands for any failing append (what a NUL did before): this one reason is refused by Postgres.
    await suite.harness.db.execute(sql.raw(`
      CREATE FUNCTION nul_input_failing_append() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'append refused by the test'; END $$;
      CREATE TRIGGER nul_input_failing_append BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.details->>'reason' = 'the append fails')
        EXECUTE FUNCTION nul_input_failing_append();`));
    try {
      const created = await suite.certificates.create<Created>({ team: suite.team.teamName, dnsNames: ['failing-append.example.test'], validity: 'P1D' });
      await eventually(async () => ((await versions(created.id)) === 1 ? true : undefined), { timeoutMs: 30_000, what: 'first version' });

      // The platform admin: the team's hourly renewal quota (used up above) does not apply to it.
      const response = await post(`/v1/certificates/${created.id}/renew`, TEST_BOOTSTRAP_TOKEN, { reason: 'the append fails' });
      expect(response.status).toBe(500);
      // A signalled renewal issues within a second or two; give it five.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(await versions(created.id)).toBe(1);
      expect(await renewalEvents(created.id)).toBe(0);
    } finally {
      await suite.harness.db.execute(sql.raw('DROP TRIGGER nul_input_failing_append ON audit_events; DROP FUNCTION nul_input_failing_append();'));
    }
  }, 90_000);

  it('principals: a NUL name is a 400 and creates no principal', async () => {
    await expectRefused(await post('/v1/principals', suite.team.admin, { kind: 'person', name: 'Eve\u0000', team: suite.team.teamId }), 'name');
    expect(await suite.harness.db.select({ id: principals.id }).from(principals).where(like(principals.name, 'Eve%'))).toEqual([]);
    expect((await post('/v1/principals', suite.team.admin, { kind: 'person', name: 'Eve', team: suite.team.teamId })).status).toBe(201);
  });

  it('paths: a NUL in a path parameter is a 400, on the API and the agent wire', async () => {
    await expectRefused(await suite.harness.app.request('/v1/certificates/crt_%00', { headers: authHeaders(suite.team.admin, false) }), '(path)');
    await expectRefused(await suite.harness.app.request('/v1/principals/prn_%00', { method: 'DELETE', headers: authHeaders(suite.team.admin, false) }), '(path)');
    await expectRefused(await post('/v1/agent/deployments/1%00/report', suite.team.admin, {}), '(path)');
  });

  it('query strings: a NUL in a parameter is a 400 naming it', async () => {
    const response = await suite.harness.app.request(`/v1/principals?team=${encodeURIComponent(`${suite.team.teamId}\u0000`)}`, { headers: authHeaders(suite.team.admin, false) });
    await expectRefused(response, 'team');
  });
});
