/**
 * Team policy over every name type, on the real API, worker, Temporal and Postgres: a team whose
 * policy allows only DNS names under payments.internal cannot get a certificate for any SPIFFE ID or
 * https URI (a policy stored before URI rules existed allows none); a platform admin, and only a
 * platform admin, widens the policy (audited, before and after); an allowed SPIFFE ID and IP are
 * then signed; and the worker's pre-signing check applies the same chain to a later renewal.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { and, desc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditEvents, certificates } from '../../db/schema.js';
import { authHeaders, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const run = promisify(execFile);

// Only fields a policy had before URI and IP rules: what a stored policy of an existing team looks like.
const suite = useIntegrationSuite('name-policy', {
  worker: true,
  team: { policy: { allowedDomains: ['payments.internal'], allowWildcards: true, maxValidity: 'P30D', profiles: ['tls-server', 'mtls'] } },
  otherTeam: true,
});

interface Problem {
  type: string;
  status: number;
  code?: string;
  detail: string;
  errors?: { field: string; message: string; code?: string }[];
}

async function request(token: string, body: Record<string, unknown>) {
  return suite.harness.app.request('/v1/certificates', { method: 'POST', headers: authHeaders(token), body: JSON.stringify({ team: suite.team.teamName, validity: 'P1D', ...body }) });
}

const certificateCount = async () => (await suite.harness.db.select({ id: certificates.id }).from(certificates).where(eq(certificates.teamId, suite.team.teamId))).length;

async function patchPolicy(token: string, policy: Record<string, unknown>) {
  return suite.harness.app.request(`/v1/teams/${suite.team.teamId}`, { method: 'PATCH', headers: authHeaders(token), body: JSON.stringify({ policy }) });
}

describe('name policy over DNS, IP and URI names', () => {
  it('refuses a SPIFFE ID and an https URI the team policy does not allow, with a typed reason for each, and creates nothing', async () => {
    const response = await request(suite.team.requester, {
      profile: 'mtls',
      dnsNames: ['api.payments.internal'],
      uris: ['spiffe://prod/ns/payments/sa/admin', 'https://x.example'],
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as Problem;
    expect(problem.type).toBe('/problems/policy-violation');
    expect(problem.code).toBe('uri_outside_allowed_spiffe');
    expect(problem.errors).toEqual([
      { field: 'uris/0', code: 'uri_outside_allowed_spiffe', message: expect.stringContaining('spiffe://prod/ns/payments/sa/admin') },
      { field: 'uris/1', code: 'uri_outside_allowed_https_hosts', message: expect.stringContaining('https://x.example') },
    ]);
    expect(await certificateCount()).toBe(0);
  });

  it('refuses an IP outside the allowed ranges and every bad name at once', async () => {
    const patched = await patchPolicy(TEST_BOOTSTRAP_TOKEN, { allowedIpRanges: ['10.20.0.0/16', '2001:db8:aa::/48'] });
    expect(patched.status, await patched.clone().text()).toBe(200);
    const response = await request(suite.team.requester, {
      profile: 'mtls',
      dnsNames: ['api.payments.internal', 'api.example.org'],
      ipAddresses: ['10.20.0.9', '10.99.0.1', '2001:db8:ab::1'],
      uris: ['https://x.example'],
    });
    expect(response.status).toBe(403);
    const problem = (await response.json()) as Problem;
    expect(problem.errors?.map((error) => [error.field, error.code])).toEqual([
      ['dnsNames/1', 'name_outside_allowed_domains'],
      ['ipAddresses/1', 'ip_outside_allowed_ranges'],
      ['ipAddresses/2', 'ip_outside_allowed_ranges'],
      ['uris/0', 'uri_outside_allowed_https_hosts'],
    ]);
    expect(await certificateCount()).toBe(0);
  });

  it('lets only a platform admin change the policy, validates it, and records the change with before and after', async () => {
    const allowedUris = { spiffe: [{ trustDomain: 'prod', pathPrefixes: ['/ns/payments/sa/api'] }], httpsHosts: ['payments.internal'] };
    const byTeamAdmin = await patchPolicy(suite.team.admin, { allowedUris });
    expect(byTeamAdmin.status).toBe(403);
    const byOtherTeamAdmin = await patchPolicy(suite.otherTeam.admin, { allowedUris });
    expect(byOtherTeamAdmin.status).toBe(404);

    const bad = await patchPolicy(TEST_BOOTSTRAP_TOKEN, { allowedIpRanges: ['10.20.0.1/16'], allowedUris: { spiffe: [{ trustDomain: 'Prod', pathPrefixes: ['ns/'] }] } });
    expect(bad.status).toBe(400);
    const badProblem = (await bad.json()) as Problem;
    expect(badProblem.errors?.map((error) => error.field).sort()).toEqual(['policy/allowedIpRanges/0', 'policy/allowedUris/spiffe/0/pathPrefixes/0', 'policy/allowedUris/spiffe/0/trustDomain']);
    expect(badProblem.errors?.find((error) => error.field === 'policy/allowedIpRanges/0')?.message).toMatch(/host bits set; the network is "10.20.0.0\/16"/);

    const before = (await (await suite.harness.app.request(`/v1/teams/${suite.team.teamId}`, { headers: authHeaders(suite.team.requester, false) })).json()) as { policy: Record<string, unknown> };
    expect(before.policy['allowedUris']).toBeUndefined();

    const ok = await patchPolicy(TEST_BOOTSTRAP_TOKEN, { allowedUris });
    expect(ok.status).toBe(200);
    const after = (await ok.json()) as { policy: Record<string, unknown> };
    expect(after.policy).toMatchObject({ allowedDomains: ['payments.internal'], allowIpSans: true, allowedIpRanges: ['10.20.0.0/16', '2001:db8:aa::/48'], allowedUris });

    const [event] = await suite.harness.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.teamId, suite.team.teamId), eq(auditEvents.action, 'team.policy_changed')))
      .orderBy(desc(auditEvents.seq))
      .limit(1);
    expect(event?.details).toEqual({ before: before.policy, after: after.policy });
  });

  it('issues an allowed SPIFFE ID and IP, which the signed certificate carries; the worker re-checks policy before signing a renewal', async () => {
    const { id } = await suite.certificates.create({
      team: suite.team.teamName,
      profile: 'mtls',
      dnsNames: ['api.payments.internal'],
      ipAddresses: ['10.20.0.9'],
      uris: ['spiffe://prod/ns/payments/sa/api/v2'],
      validity: 'P1D',
    });
    await suite.certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 20_000, what: 'issuance' });
    const pem = await (await suite.harness.app.request(`/v1/certificates/${id}/certificate.pem`, { headers: authHeaders(suite.team.requester, false) })).text();
    const file = join(suite.harness.deliveryRoot, `${id}.pem`);
    await writeFile(file, pem);
    const text = (await run('openssl', ['x509', '-in', file, '-noout', '-text'])).stdout;
    expect(text).toMatch(/URI:spiffe:\/\/prod\/ns\/payments\/sa\/api\/v2/);
    expect(text).toMatch(/IP Address:10\.20\.0\.9/);

    // Tighten the policy: the stored request no longer passes, and the worker refuses to sign its renewal.
    const tightened = await patchPolicy(TEST_BOOTSTRAP_TOKEN, { allowedUris: null });
    expect(tightened.status).toBe(200);
    await suite.certificates.renew(id, 'after the policy change');
    const failed = await suite.certificates.waitFor<{ state: string; lastError: { type?: string; message: string } | null; currentVersion: { generation: number } | null }>(
      id,
      (view) => view.lastError !== null && /uri|spiffe/i.test(view.lastError.message),
      { timeoutMs: 20_000, what: 'the renewal to be refused by the pre-signing policy check' },
    );
    expect(failed.lastError?.message).toMatch(/spiffe:\/\/prod\/ns\/payments\/sa\/api\/v2/);
  });

  it('shows a team its own policy, and no other team', async () => {
    const own = await suite.harness.app.request(`/v1/teams/${suite.team.teamId}`, { headers: authHeaders(suite.team.requester, false) });
    expect(own.status).toBe(200);
    const other = await suite.harness.app.request(`/v1/teams/${suite.team.teamId}`, { headers: authHeaders(suite.otherTeam.requester, false) });
    expect(other.status).toBe(404);
  });
});
