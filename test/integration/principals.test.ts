/**
 * People, not tokens (issue 11 §5): a team admin who requests with one token and approves with an
 * approver token minted for the same person is refused, by the API and by the workflow's validator;
 * another person's approver token decides. Principals are created by admins within their reach, and
 * a team admin mints tokens only for principals of its team.
 */
import { describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { listAuditEvents } from '../../db/audit.js';
import { findApprovalOfCertificate } from '../../db/approvals.js';
import { approveUpdate } from '../../contracts/lifecycle-messages.js';
import { authHeaders, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite, type Created } from '../support/integration-suite.js';

const suite = useIntegrationSuite('principals', {
  worker: true,
  team: { policy: { allowedDomains: ['example.test'], allowWildcards: true, maxValidity: 'P30D', approval: { wildcards: true } } },
  otherTeam: true,
});

async function post(path: string, token: string, body: unknown): Promise<Response> {
  return suite.harness.app.request(path, { method: 'POST', headers: authHeaders(token), body: JSON.stringify(body) });
}

async function createPrincipal(token: string, body: Record<string, unknown>): Promise<{ id: string; teamId: string | null }> {
  const response = await post('/v1/principals', token, body);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string; teamId: string | null };
}

async function mint(minter: string, teamId: string, body: Record<string, unknown>): Promise<{ id: string; token: string; principalId: string }> {
  const response = await post(`/v1/teams/${teamId}/tokens`, minter, body);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string; token: string; principalId: string };
}

const decide = (id: string, token: string) => post(`/v1/certificates/${id}/approve`, token, { reason: 'checked with the service owner' });

describe('principals', () => {
  it('refuses an approval by the requesting person whatever token they use; another person approves', async () => {
    const { teamId, teamName } = suite.team;
    // The platform admin makes Alice a team admin; Alice mints herself an approver token.
    const alice = await createPrincipal(TEST_BOOTSTRAP_TOKEN, { kind: 'person', name: 'Alice', email: 'alice@example.test', team: teamId });
    const aliceAdmin = await mint(TEST_BOOTSTRAP_TOKEN, teamId, { role: 'admin', principalId: alice.id });
    const aliceApprover = await mint(aliceAdmin.token, teamId, { role: 'approver', principalId: alice.id });
    expect(aliceApprover.principalId).toBe(alice.id);

    const created = await certificatesAs(suite.harness.app, aliceAdmin.token).create<Created>({ team: teamName, dnsNames: ['*.alice.example.test'], validity: 'P1D' });
    expect(created.state).toBe('awaiting_approval');
    await eventually(async () => ((await findApprovalOfCertificate(suite.harness.db, created.id))?.state === 'pending' ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the approval request to be open',
    });

    const self = await decide(created.id, aliceApprover.token);
    expect(self.status).toBe(403);
    expect(self.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await self.json()) as { detail: string }).detail).toMatch(/own request, whatever token they use/);

    // The workflow's validator refuses it too, without the API's pre-check in front of it.
    const handle = suite.harness.client.workflow.getHandle(created.workflowId);
    const byValidator = await handle
      .executeUpdate(approveUpdate, { args: [{ approver: { tokenId: aliceApprover.id, principalId: alice.id, role: 'approver', teamId }, reason: 'mine' }] })
      .then(
        () => 'accepted',
        (error: unknown) => (error instanceof WorkflowUpdateFailedError ? (error.cause?.message ?? error.message) : `unexpected ${String(error)}`),
      );
    expect(byValidator).toMatch(/whatever token they use/);
    expect((await findApprovalOfCertificate(suite.harness.db, created.id))?.state).toBe('pending');

    // Identities Alice makes herself answer to her: a token minted without a principal, a "person" she creates.
    const sock = await mint(aliceAdmin.token, teamId, { role: 'approver' });
    const carol = await createPrincipal(aliceAdmin.token, { kind: 'person', name: 'Carol (made up by Alice)' });
    const carolApprover = await mint(aliceAdmin.token, teamId, { role: 'approver', principalId: carol.id });
    for (const token of [sock.token, carolApprover.token]) {
      const refused = await decide(created.id, token);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { detail: string }).detail).toMatch(/own request, whatever token they use/);
    }

    // Bob, another person of the team (vouched for by the platform admin), decides. Alice cannot mint
    // a token for him: whoever mints holds the secret.
    const bob = await createPrincipal(TEST_BOOTSTRAP_TOKEN, { kind: 'person', name: 'Bob', team: teamId });
    expect(bob.teamId).toBe(teamId);
    expect((await post(`/v1/teams/${teamId}/tokens`, aliceAdmin.token, { role: 'approver', principalId: bob.id })).status).toBe(403);
    const bobApprover = await mint(TEST_BOOTSTRAP_TOKEN, teamId, { role: 'approver', principalId: bob.id });
    const granted = await decide(created.id, bobApprover.token);
    expect(granted.status, await granted.clone().text()).toBe(200);
    expect(await granted.json()).toMatchObject({ state: 'approved' });

    // The request names the person: the certificate records Alice, the audit log her principal.
    const events = await listAuditEvents(suite.harness.db, { certificateId: created.id, limit: 10 });
    expect(events.find((event) => event.action === 'approval.requested')?.actor).toBe(alice.id);
    expect(events.find((event) => event.action === 'approval.approved')?.actor).toBe(bob.id);
  });

  it('lets a team admin create principals and mint tokens only within its team', async () => {
    const { teamId } = suite.team;
    const other = suite.otherTeam;
    const stranger = await createPrincipal(TEST_BOOTSTRAP_TOKEN, { kind: 'person', name: 'Carol', team: other.teamId });

    // Another team's principal: refused, nothing minted.
    const foreign = await post(`/v1/teams/${teamId}/tokens`, suite.team.admin, { role: 'approver', principalId: stranger.id });
    expect(foreign.status).toBe(400);
    expect(((await foreign.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('principalId');
    // Another team's tokens and principals are out of reach.
    expect((await post(`/v1/teams/${other.teamId}/tokens`, suite.team.admin, { role: 'requester' })).status).toBe(404);
    expect((await post('/v1/principals', suite.team.admin, { kind: 'person', name: 'Mallory', team: other.teamId })).status).toBe(404);
    // Platform-wide principals are for platform admins; requesters create none.
    expect((await post('/v1/principals', suite.team.admin, { kind: 'service', name: 'ci' })).status).toBe(201);
    const platformWide = await createPrincipal(TEST_BOOTSTRAP_TOKEN, { kind: 'service', name: 'security scanner' });
    expect(platformWide.teamId).toBeNull();
    expect((await post('/v1/principals', suite.team.requester, { kind: 'person', name: 'Eve' })).status).toBe(403);
    expect((await post('/v1/principals', suite.team.admin, { kind: 'robot', name: 'x' })).status).toBe(400);

    // A token minted without a principal gets a service principal of its own.
    const service = await mint(suite.team.admin, teamId, { role: 'requester' });
    expect(service.principalId).toMatch(/^prn_/);

    const listed = await suite.harness.app.request('/v1/principals', { headers: authHeaders(suite.team.admin, false) });
    expect(listed.status).toBe(200);
    const items = ((await listed.json()) as { items: { id: string; teamId: string | null; kind: string }[] }).items;
    expect(items.every((item) => item.teamId === teamId)).toBe(true);
    expect(items.map((item) => item.id)).toContain(service.principalId);
    expect(items.map((item) => item.id)).not.toContain(stranger.id);

    const audit = await listAuditEvents(suite.harness.db, { teamId, limit: 50 });
    const minted = audit.find((event) => event.action === 'token.minted' && event.details.tokenId === service.id);
    expect(minted?.actor).toMatch(/^prn_/);
    expect(minted?.details).toMatchObject({ principalId: service.principalId, role: 'requester' });
    expect(audit.some((event) => event.action === 'principal.created')).toBe(true);
  });

  it('disables a person: every token of theirs stops working at its next request', async () => {
    const { teamId } = suite.team;
    const dave = await createPrincipal(suite.team.admin, { kind: 'person', name: 'Dave' });
    const requester = await mint(suite.team.admin, teamId, { role: 'requester', principalId: dave.id });
    const approver = await mint(suite.team.admin, teamId, { role: 'approver', principalId: dave.id });
    const list = (token: string) => suite.harness.app.request(`/v1/certificates?team=${suite.team.teamName}`, { headers: authHeaders(token, false) });
    expect((await list(requester.token)).status).toBe(200);

    const remove = (token: string) => suite.harness.app.request(`/v1/principals/${dave.id}`, { method: 'DELETE', headers: authHeaders(token, false) });
    expect((await remove(suite.otherTeam.admin)).status).toBe(404);
    expect((await remove(suite.team.requester)).status).toBe(403);
    const disabled = await remove(suite.team.admin);
    expect(disabled.status).toBe(200);
    const { disabledAt } = (await disabled.json()) as { disabledAt: string | null };
    expect(disabledAt).not.toBeNull();
    expect((await list(requester.token)).status).toBe(401);
    expect((await list(approver.token)).status).toBe(401);
    expect(((await (await remove(suite.team.admin)).json()) as { disabledAt: string }).disabledAt).toBe(disabledAt);
    // A leaver's self-minted tokens go with them: the service principals that answer to a person are disabled too.
    const mallory = await createPrincipal(TEST_BOOTSTRAP_TOKEN, { kind: 'person', name: 'Mallory', team: teamId });
    const malloryAdmin = await mint(TEST_BOOTSTRAP_TOKEN, teamId, { role: 'admin', principalId: mallory.id });
    const backdoor = await mint(malloryAdmin.token, teamId, { role: 'admin' });
    expect((await list(backdoor.token)).status).toBe(200);
    expect((await suite.harness.app.request(`/v1/principals/${mallory.id}`, { method: 'DELETE', headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) })).status).toBe(200);
    expect((await list(malloryAdmin.token)).status).toBe(401);
    expect((await list(backdoor.token)).status).toBe(401);
    // No new token for a disabled principal either.
    expect((await post(`/v1/teams/${teamId}/tokens`, suite.team.admin, { role: 'requester', principalId: dave.id })).status).toBe(409);
    const events = await listAuditEvents(suite.harness.db, { teamId, limit: 100 });
    expect(events.filter((event) => event.action === 'principal.disabled' && event.details.principalId === dave.id)).toHaveLength(1);
  });
});
