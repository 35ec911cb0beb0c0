/**
 * Error tracking on the real worker and Postgres: rollouts whose verify endpoint never answers fail
 * verification; their failures land in one group per team (type, normalised reason, count, first/last
 * seen, the certificates), which GET /v1/errors shows to that team and to platform admins only.
 */
import { describe, expect, it } from 'vitest';
import { findFreePort } from '../../devservices/free-port.js';
import { authHeaders, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const suite = useIntegrationSuite('error-groups', { worker: true, team: true, otherTeam: true });

interface ErrorGroup {
  id: string;
  teamId: string | null;
  type: string;
  reason: string;
  lastMessage: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  certificateCount: number;
  sampleCertificateIds: string[];
}

async function errorGroups(token: string, query = ''): Promise<{ status: number; items: ErrorGroup[] }> {
  const response = await suite.harness.app.request(`/v1/errors${query}`, { headers: authHeaders(token, false) });
  const body = (await response.json()) as { items?: ErrorGroup[] };
  return { status: response.status, items: body.items ?? [] };
}

/** A certificate whose rollout verification probes a port nothing listens on, for one second. */
async function unverifiable(label: string): Promise<string> {
  const port = await findFreePort();
  const { id } = await suite.certificates.create({
    team: suite.team.teamName,
    commonName: `${label}.example.test`,
    dnsNames: [`${label}.example.test`],
    validity: 'P1D',
    destinations: [{ type: 'file', directory: `errors/${label}`, verify: { endpoints: [{ host: '127.0.0.1', port }], timeout: 'PT1S' } }],
  });
  return id;
}

describe('error groups', () => {
  it('groups verification failures of different certificates, visible to their team and platform admins only', async () => {
    const started = new Date();
    const first = await unverifiable('err-one');
    const second = await unverifiable('err-two');

    const group = await eventually(
      async () => {
        const { items } = await errorGroups(suite.team.requester);
        const verification = items.find((item) => item.type === 'VerificationFailed');
        return verification && verification.certificateCount === 2 ? verification : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'a VerificationFailed group with both certificates' },
    );
    expect(group.teamId).toBe(suite.team.teamId);
    expect(group.count).toBeGreaterThanOrEqual(2);
    expect(new Set(group.sampleCertificateIds)).toEqual(new Set([first, second]));
    // Two different ports, one reason: the port is normalised away (the message keeps it).
    expect(group.reason).not.toMatch(/127\.0\.0\.1:\d+/);
    expect(group.lastMessage).toMatch(/127\.0\.0\.1:\d+/);
    expect(new Date(group.firstSeen).getTime()).toBeGreaterThanOrEqual(started.getTime() - 1000);
    expect(new Date(group.lastSeen).getTime()).toBeGreaterThanOrEqual(new Date(group.firstSeen).getTime());

    // The other team sees none of it, and may not ask for it; the platform admin sees it.
    expect((await errorGroups(suite.otherTeam.requester)).items.map((item) => item.id)).not.toContain(group.id);
    expect((await errorGroups(suite.otherTeam.admin, `?team=${suite.team.teamName}`)).status).toBe(403);
    expect((await errorGroups(TEST_BOOTSTRAP_TOKEN)).items.map((item) => item.id)).toContain(group.id);
    expect((await errorGroups(TEST_BOOTSTRAP_TOKEN, `?team=${suite.team.teamId}&type=VerificationFailed`)).items.map((item) => item.id)).toEqual([group.id]);
    expect((await errorGroups(TEST_BOOTSTRAP_TOKEN, `?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).items).toEqual([]);
  });

  it('refuses bad queries with a problem', async () => {
    const response = await suite.harness.app.request('/v1/errors?since=yesterday', { headers: authHeaders(suite.team.requester, false) });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });
});
