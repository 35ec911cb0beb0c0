/**
 * `validity` may be omitted from POST /v1/certificates: it then comes from the team's policy
 * (`defaultValidity`), else from the platform default (90 days, shortened to the team's maxValidity).
 * The policy's defaultValidity is validated against its min/maxValidity. Real API and Postgres; no
 * worker is needed: the validity is settled and stored before the lifecycle starts.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { PLATFORM_DEFAULT_VALIDITY_SECONDS } from '../../core/policy.js';
import { certificates } from '../../db/schema.js';
import { authHeaders, createTeamWithTokens, TEST_BOOTSTRAP_TOKEN, type Team } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const DAY = 86_400;
const suite = useIntegrationSuite('default-validity');

const policy = (extra: Record<string, unknown>) => ({ allowedDomains: ['example.test'], maxValidity: 'P30D', ...extra });

async function requestWithoutValidity(team: Team, extra: Record<string, unknown> = {}): Promise<Response> {
  return suite.harness.app.request('/v1/certificates', {
    method: 'POST',
    headers: authHeaders(team.requester),
    body: JSON.stringify({ team: team.teamName, dnsNames: [`svc-${Math.random().toString(36).slice(2, 8)}.example.test`], ...extra }),
  });
}

async function storedValidity(response: Response): Promise<number> {
  expect(response.status, await response.clone().text()).toBe(202);
  const { id } = (await response.json()) as { id: string };
  const [row] = await suite.harness.db.select({ validitySeconds: certificates.validitySeconds }).from(certificates).where(eq(certificates.id, id));
  return row!.validitySeconds;
}

const createTeam = (teamPolicy: Record<string, unknown>) =>
  suite.harness.app.request('/v1/teams', {
    method: 'POST',
    headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
    body: JSON.stringify({ name: `dv-${Math.random().toString(36).slice(2, 10)}`, policy: teamPolicy }),
  });

describe('validity omitted', () => {
  it("ok/comes from the team's defaultValidity", async () => {
    const team = await createTeamWithTokens(suite.harness, { policy: policy({ defaultValidity: 'P7D' }) });
    expect(await storedValidity(await requestWithoutValidity(team))).toBe(7 * DAY);
  });

  it("ok/without a defaultValidity: the platform default, shortened to the team's maxValidity", async () => {
    const short = await createTeamWithTokens(suite.harness, { policy: policy({}) });
    expect(await storedValidity(await requestWithoutValidity(short))).toBe(30 * DAY);
    const long = await createTeamWithTokens(suite.harness, { policy: policy({ maxValidity: 'P200D' }) });
    expect(await storedValidity(await requestWithoutValidity(long))).toBe(PLATFORM_DEFAULT_VALIDITY_SECONDS);
    expect(PLATFORM_DEFAULT_VALIDITY_SECONDS).toBe(90 * DAY);
  });

  it('ok/a validity given still wins over the default', async () => {
    const team = await createTeamWithTokens(suite.harness, { policy: policy({ defaultValidity: 'P7D' }) });
    expect(await storedValidity(await requestWithoutValidity(team, { validity: 'P2D' }))).toBe(2 * DAY);
  });

  it('fail/a renewBefore too long for the default validity is refused, naming renewBefore', async () => {
    const team = await createTeamWithTokens(suite.harness, { policy: policy({ defaultValidity: 'P7D' }) });
    const response = await requestWithoutValidity(team, { renewBefore: 'P7D' });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((error) => error.field)).toContain('renewBefore');
  });

  it('ok/PATCH sets and removes the team default', async () => {
    const team = await createTeamWithTokens(suite.harness, { policy: policy({}) });
    const patch = (value: unknown) =>
      suite.harness.app.request(`/v1/teams/${team.teamId}`, { method: 'PATCH', headers: authHeaders(TEST_BOOTSTRAP_TOKEN), body: JSON.stringify({ policy: { defaultValidity: value } }) });
    expect((await patch('P3D')).status).toBe(200);
    expect(await storedValidity(await requestWithoutValidity(team))).toBe(3 * DAY);
    expect((await patch(null)).status).toBe(200);
    expect(await storedValidity(await requestWithoutValidity(team))).toBe(30 * DAY);
  });
});

describe('defaultValidity in a team policy', () => {
  const refused: { name: string; policy: Record<string, unknown>; message: RegExp }[] = [
    { name: 'fail/above maxValidity', policy: policy({ defaultValidity: 'P31D' }), message: /defaultValidity must not exceed maxValidity/ },
    { name: 'fail/below minValidity', policy: policy({ minValidity: 'P2D', defaultValidity: 'P1D' }), message: /defaultValidity must not be below minValidity/ },
    { name: 'fail/not a duration', policy: policy({ defaultValidity: 'a week' }), message: /defaultValidity/ },
  ];
  it.each(refused)('$name', async ({ policy: teamPolicy, message }) => {
    const response = await createTeam(teamPolicy);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { detail: string; errors: { field: string; message: string }[] };
    expect(problem.errors.some((error) => error.field === 'policy/defaultValidity' && message.test(error.message)), JSON.stringify(problem)).toBe(true);
  });

  it('ok/is returned in seconds with the stored policy', async () => {
    const team = await createTeamWithTokens(suite.harness, { policy: policy({ defaultValidity: 'P7D' }) });
    const response = await suite.harness.app.request(`/v1/teams/${team.teamId}`, { headers: authHeaders(TEST_BOOTSTRAP_TOKEN) });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { policy: Record<string, unknown> }).policy).toMatchObject({ defaultValiditySeconds: 7 * DAY, maxValiditySeconds: 30 * DAY });
  });
});
