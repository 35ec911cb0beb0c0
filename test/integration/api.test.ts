/**
 * The HTTP API against real Postgres and the real Temporal server: every bad request is a 4xx
 * problem+json and leaves no trace (no row, no workflow); teams see only their own certificates.
 */
import { count, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { apiTokens, certificates, teams } from '../../db/schema.js';
import { authHeaders, createTeamWithTokens, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const suite = useIntegrationSuite('api', { worker: true, team: true, otherTeam: true });

const validBody = () => ({ team: suite.team.teamName, commonName: 'ok.example.test', validity: 'P1D' });

async function traces() {
  const [rows] = await suite.harness.db.select({ n: count() }).from(certificates);
  const workflows = await suite.harness.client.workflow.count(`Team = "${suite.team.teamName}" OR Team = "${suite.otherTeam.teamName}"`);
  return { rows: rows!.n, workflows: workflows.count };
}

async function expectProblem(response: Response, status: number, detailPattern?: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as { type: string; title: string; status: number; detail: string; errors?: unknown[] };
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^\/problems\//);
  expect(body.title.length).toBeGreaterThan(0);
  if (detailPattern) expect(body.detail).toMatch(detailPattern);
  return body;
}

describe('bad input is refused and leaves no trace', () => {
  const post = (body: string, headers: Record<string, string> = authHeaders(suite.team.requester)) =>
    suite.harness.app.request('/v1/certificates', { method: 'POST', headers, body });

  const cases: Array<{ name: string; request: () => Response | Promise<Response>; status: number; detail: RegExp }> = [
    { name: 'fail/malformed JSON', request: () => post('{"team": "x",'), status: 400, detail: /could not be parsed as JSON/ },
    { name: 'fail/not JSON content type', request: () => post('team=x', { ...authHeaders(suite.team.requester), 'Content-Type': 'text/plain' }), status: 415, detail: /application\/json/ },
    { name: 'fail/unknown field', request: () => post(JSON.stringify({ ...validBody(), colour: 'blue' })), status: 400, detail: /Unrecognized key: "colour"/ },
    // A missing validity comes from the team's policy (default-validity.test.ts); a malformed one is refused.
    { name: 'fail/validity not an ISO 8601 duration', request: () => post(JSON.stringify({ ...validBody(), validity: 'ninety days' })), status: 400, detail: /validity/ },
    { name: 'fail/invalid DNS name (empty label)', request: () => post(JSON.stringify({ ...validBody(), dnsNames: ['a..example.test'] })), status: 400, detail: /empty label/ },
    { name: 'fail/invalid DNS name (underscore)', request: () => post(JSON.stringify({ ...validBody(), dnsNames: ['my_host.example.test'] })), status: 400, detail: /only letters, digits and inner hyphens/ },
    { name: 'fail/raw unicode name', request: () => post(JSON.stringify({ ...validBody(), dnsNames: ['bücher.example.test'] })), status: 400, detail: /A-labels/ },
    { name: 'fail/IP written as DNS name', request: () => post(JSON.stringify({ ...validBody(), dnsNames: ['10.0.0.1'] })), status: 400, detail: /IP address/ },
    { name: 'fail/garbage CSR', request: () => post(JSON.stringify({ ...validBody(), csr: '-----BEGIN CERTIFICATE REQUEST-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE REQUEST-----' })), status: 400, detail: /PKCS#10/ },
    { name: 'fail/name outside the team zones', request: () => post(JSON.stringify({ ...validBody(), commonName: 'evil.example.org' })), status: 403, detail: /outside the team's allowed domains/ },
    { name: 'fail/wildcard not allowed', request: () => post(JSON.stringify({ ...validBody(), dnsNames: ['*.example.test'] })), status: 403, detail: /wildcard/ },
    { name: 'fail/validity above team maximum', request: () => post(JSON.stringify({ ...validBody(), validity: 'P60D' })), status: 403, detail: /exceeds the team's maximum/ },
    { name: 'fail/validity below minimum', request: () => post(JSON.stringify({ ...validBody(), validity: 5 })), status: 400, detail: /at least 15 seconds/ },
    { name: 'fail/years are ambiguous', request: () => post(JSON.stringify({ ...validBody(), validity: 'P1Y' })), status: 400, detail: /not a supported duration/ },
    { name: 'fail/destination escapes the root', request: () => post(JSON.stringify({ ...validBody(), destinations: [{ type: 'file', directory: '../../etc' }] })), status: 400, detail: /relative path/ },
    { name: 'fail/unknown destination type', request: () => post(JSON.stringify({ ...validBody(), destinations: [{ type: 'ftp', directory: 'x' }] })), status: 400, detail: /destinations/ },
    { name: 'fail/another team', request: () => post(JSON.stringify({ ...validBody(), team: suite.otherTeam.teamName })), status: 403, detail: /cannot request certificates for team/ },
    { name: 'fail/no token', request: () => post(JSON.stringify(validBody()), { 'Content-Type': 'application/json' }), status: 401, detail: /Bearer/ },
    { name: 'fail/unknown token', request: () => post(JSON.stringify(validBody()), authHeaders('cft_nope_nope')), status: 401, detail: /unknown, expired or revoked/ },
    { name: 'fail/no names at all', request: () => post(JSON.stringify({ team: suite.team.teamName, validity: 'P1D' })), status: 400, detail: /at least one name/ },
    { name: 'fail/body too large', request: () => post(JSON.stringify({ ...validBody(), csr: 'x'.repeat(300 * 1024) })), status: 413, detail: /must not exceed/ },
  ];

  it.each(cases)('$name', async ({ request, status, detail }) => {
    const before = await traces();
    await expectProblem(await request(), status, detail);
    expect(await traces()).toEqual(before);
  });

  it('fail/a CSR whose names differ from the request', async () => {
    const { execFileSync } = await import('node:child_process');
    const csr = execFileSync('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null',
      '-subj', '/CN=one.example.test', '-addext', 'subjectAltName=DNS:one.example.test',
    ], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const before = await traces();
    const body = await expectProblem(await post(JSON.stringify({ ...validBody(), dnsNames: ['two.example.test'], commonName: undefined, csr })), 400, /must be the same names/);
    expect(body.errors).toEqual([{ field: 'csr', message: expect.stringMatching(/the csr asks for dnsNames \[one\.example\.test\] but the request names \[two\.example\.test\]/) }]);
    expect(await traces()).toEqual(before);
  });

  it('fail/field problems name each offending field', async () => {
    const body = await expectProblem(await post(JSON.stringify({ team: suite.team.teamName, validity: 'P1D', profile: 'smtp', keyAlgorithm: 'DSA' })), 400);
    const fields = (body.errors as Array<{ field: string }>).map((error) => error.field).sort();
    expect(fields).toEqual(['keyAlgorithm', 'profile']);
  });
});

describe('team isolation', () => {
  it("a team neither sees nor changes another team's certificate", async () => {
    const { id } = await suite.certificates.create(validBody());
    await suite.certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 15_000, what: 'issuance' });

    const other = suite.otherTeam.requester;
    await expectProblem(await suite.harness.app.request(`/v1/certificates/${id}`, { headers: authHeaders(other, false) }), 404);
    await expectProblem(await suite.harness.app.request(`/v1/certificates/${id}/certificate.pem`, { headers: authHeaders(other, false) }), 404);
    await expectProblem(await suite.harness.app.request(`/v1/certificates/${id}/revoke`, { method: 'POST', headers: authHeaders(other) }), 404);
    await expectProblem(await suite.harness.app.request(`/v1/certificates/${id}/renew`, { method: 'POST', headers: authHeaders(other) }), 404);
    const list = await suite.harness.app.request('/v1/certificates', { headers: authHeaders(other, false) });
    expect(((await list.json()) as { items: Array<{ id: string }> }).items.map((item) => item.id)).not.toContain(id);
    await expectProblem(await suite.harness.app.request(`/v1/certificates?team=${suite.team.teamName}`, { headers: authHeaders(other, false) }), 403);

    const pem = await suite.harness.app.request(`/v1/certificates/${id}/certificate.pem`, { headers: authHeaders(suite.team.requester, false) });
    expect(pem.status).toBe(200);
    expect(pem.headers.get('content-type')).toBe('application/pem-certificate-chain');
    expect((await pem.text()).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('a requester token cannot create teams or tokens', async () => {
    const [before] = await suite.harness.db.select({ n: count() }).from(teams);
    await expectProblem(
      await suite.harness.app.request('/v1/teams', { method: 'POST', headers: authHeaders(suite.team.requester), body: JSON.stringify({ name: 'sneaky' }) }),
      403,
      /roles/,
    );
    await expectProblem(
      await suite.harness.app.request(`/v1/teams/${suite.team.teamId}/tokens`, { method: 'POST', headers: authHeaders(suite.team.requester), body: JSON.stringify({ role: 'admin' }) }),
      403,
    );
    const [after] = await suite.harness.db.select({ n: count() }).from(teams);
    expect(after!.n).toBe(before!.n);
  });

  it("a team admin issues tokens for its own team only, and tokens are stored hashed", async () => {
    const own = await suite.harness.app.request(`/v1/teams/${suite.team.teamId}/tokens`, { method: 'POST', headers: authHeaders(suite.team.admin), body: JSON.stringify({ role: 'approver', expiresIn: 'P1D' }) });
    expect(own.status).toBe(201);
    const { token, id } = (await own.json()) as { token: string; id: string };
    const [stored] = await suite.harness.db.select().from(apiTokens).where(eq(apiTokens.id, id));
    expect(stored!.tokenHash).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token);
    await expectProblem(
      await suite.harness.app.request(`/v1/teams/${suite.otherTeam.teamId}/tokens`, { method: 'POST', headers: authHeaders(suite.team.admin), body: JSON.stringify({ role: 'requester' }) }),
      404,
    );
  });

  it('refuses a duplicate team name with 409', async () => {
    await expectProblem(
      await suite.harness.app.request('/v1/teams', { method: 'POST', headers: authHeaders(TEST_BOOTSTRAP_TOKEN), body: JSON.stringify({ name: suite.team.teamName }) }),
      409,
      /already exists/,
    );
  });
});

describe('listing', () => {
  it('pages with a keyset cursor and filters by state', async () => {
    const listTeam = await createTeamWithTokens(suite.harness);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await suite.harness.app.request('/v1/certificates', {
        method: 'POST',
        headers: authHeaders(listTeam.requester),
        body: JSON.stringify({ team: listTeam.teamName, commonName: `n${i}.example.test`, validity: 'P1D' }),
      });
      ids.push(((await response.json()) as { id: string }).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/v1/certificates?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await (await suite.harness.app.request(query, { headers: authHeaders(listTeam.requester, false) })).json()) as {
        items: Array<{ id: string }>;
        nextCursor: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    await eventually(async () => {
      const active = (await (await suite.harness.app.request('/v1/certificates?state=active', { headers: authHeaders(listTeam.requester, false) })).json()) as { items: unknown[] };
      return active.items.length === 5 ? true : undefined;
    }, { timeoutMs: 20_000, what: 'all five to be active' });
    const soon = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const expiring = (await (await suite.harness.app.request(`/v1/certificates?expiringBefore=${encodeURIComponent(soon)}`, { headers: authHeaders(listTeam.requester, false) })).json()) as { items: unknown[] };
    expect(expiring.items).toHaveLength(5);
    await expectProblem(await suite.harness.app.request('/v1/certificates?cursor=bogus', { headers: authHeaders(listTeam.requester, false) }), 400, /cursor/);
    await expectProblem(await suite.harness.app.request('/v1/certificates?state=sleeping', { headers: authHeaders(listTeam.requester, false) }), 400);
  });
});

describe('public endpoints', () => {
  it('serves health, the trust bundle, and problem+json for unknown routes', async () => {
    expect((await suite.harness.app.request('/healthz')).status).toBe(200);
    expect((await suite.harness.app.request('/readyz')).status).toBe(200);
    const roots = await suite.harness.app.request('/pki/roots.pem');
    expect(await roots.text()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await expectProblem(await suite.harness.app.request('/nope'), 404, /no route/);
    const issuers = (await (await suite.harness.app.request('/v1/issuers', { headers: authHeaders(suite.team.requester, false) })).json()) as Array<Record<string, unknown>>;
    // Other files (the issuer compromise drill) add hierarchies to the shared database: at least one of each kind.
    expect([...new Set(issuers.map((issuer) => issuer['kind']))].sort()).toEqual(['intermediate', 'root']);
    expect(issuers.filter((issuer) => issuer['kind'] === 'intermediate' && issuer['status'] === 'active').length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(issuers)).not.toMatch(/sealed|PRIVATE KEY/i);
  });
});
