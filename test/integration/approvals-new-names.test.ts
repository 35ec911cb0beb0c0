/**
 * The "new name" approval rule cannot be sidestepped: a name is known only once a certificate of
 * the team was *issued* for it, so a second request for a name whose first request still waits
 * (or was rejected) waits as well, also when the two race; IP addresses (and URIs) count as names.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { eq } from 'drizzle-orm';
import { findApprovalOfCertificate } from '../../db/approvals.js';
import { certificateVersions } from '../../db/schema.js';
import { authHeaders, createToken, eventually } from '../support/harness.js';
import { useIntegrationSuite, type Created } from '../support/integration-suite.js';

const suite = useIntegrationSuite('approvals-new-names', {
  worker: true,
  team: {
    policy: {
      allowedDomains: ['example.test'],
      allowIpSans: true,
      maxValidity: 'P30D',
      profiles: ['tls-server', 'mtls'],
      approval: { newNames: true },
    },
  },
});
let approver: { id: string; token: string };

beforeAll(async () => {
  approver = await createToken(suite.harness, suite.team.teamId, 'approver');
});

type Answer = Created & { approval: { id: string; reasons: { code: string; message: string }[] } | null };

const requestFor = (dnsName: string, extra: Record<string, unknown> = {}) =>
  suite.certificates.create<Answer>({ team: suite.team.teamName, dnsNames: [dnsName], validity: 'P1D', ...extra });

const awaitingApproval = (id: string) =>
  eventually(async () => ((await findApprovalOfCertificate(suite.harness.db, id))?.state === 'pending' ? true : undefined), { timeoutMs: 10_000, what: 'the approval request to be open' });

async function decide(id: string, decision: 'approve' | 'reject') {
  const response = await suite.harness.app.request(`/v1/certificates/${id}/${decision}`, {
    method: 'POST',
    headers: authHeaders(approver.token),
    body: JSON.stringify({ reason: 'checked with the service owner' }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

const versionsOf = async (id: string) => suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));

describe('approval of new names', () => {
  it('makes a second request for a name whose first request is pending wait too', async () => {
    const first = await requestFor('one.example.test');
    expect(first.state).toBe('awaiting_approval');
    expect(first.approval?.reasons.map((reason) => reason.code)).toEqual(['new_name']);
    await awaitingApproval(first.id);

    const second = await requestFor('one.example.test');
    expect(second.state).toBe('awaiting_approval');
    expect(second.approval?.reasons.map((reason) => reason.code)).toEqual(['new_name']);
    await awaitingApproval(second.id);
    expect(await versionsOf(second.id)).toEqual([]);
  });

  it('makes both of two racing requests for a new name wait', async () => {
    const answers = await Promise.all([requestFor('race.example.test'), requestFor('race.example.test')]);
    expect(answers.map((answer) => answer.state)).toEqual(['awaiting_approval', 'awaiting_approval']);
    for (const answer of answers) await awaitingApproval(answer.id);
    expect([...(await versionsOf(answers[0]!.id)), ...(await versionsOf(answers[1]!.id))]).toEqual([]);
  });

  it('still asks after a rejection, and knows the name only once a certificate for it was issued', async () => {
    const rejected = await requestFor('later.example.test');
    await awaitingApproval(rejected.id);
    await decide(rejected.id, 'reject');
    const again = await requestFor('later.example.test');
    expect(again.state).toBe('awaiting_approval');
    await awaitingApproval(again.id);

    await decide(again.id, 'approve');
    await suite.certificates.waitFor(again.id, (view) => view.state === 'active', { timeoutMs: 20_000, what: 'the approved certificate to be issued' });
    const known = await requestFor('later.example.test');
    expect(known.state).toBe('pending');
    expect(known.approval).toBeNull();
  });

  it('counts IP addresses as names (URIs alike)', async () => {
    const ip = await suite.certificates.create<Answer>({ team: suite.team.teamName, ipAddresses: ['192.0.2.44'], validity: 'P1D' });
    expect(ip.state).toBe('awaiting_approval');
    expect(ip.approval?.reasons[0]?.message).toContain('"192.0.2.44"');
  });
});
