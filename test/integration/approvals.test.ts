/**
 * Approvals on the real Temporal dev server and real Postgres: granted, rejected, expired after an
 * escalation; the workflow's validator refuses a self-approval; every decision is recorded once,
 * in the approvals row and the hash-chained audit log.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { verifyAuditChain } from '../../db/audit.js';
import { findApprovalOfCertificate } from '../../db/approvals.js';
import { listNotifications } from '../../db/notifications.js';
import { certificateVersions } from '../../db/schema.js';
import { approveUpdate } from '../../contracts/lifecycle-messages.js';
import { authHeaders, createToken, eventually } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite, type Created } from '../support/integration-suite.js';

const suite = useIntegrationSuite('approvals', {
  worker: true,
  team: {
    policy: {
      allowedDomains: ['example.test'],
      allowWildcards: true,
      maxValidity: 'P30D',
      approval: { wildcards: true, deadline: 'PT9S', escalateAfter: 'PT3S' },
    },
  },
});
let approver: { id: string; token: string };

beforeAll(async () => {
  approver = await createToken(suite.harness, suite.team.teamId, 'approver');
});

async function requestWildcard(token: string, label: string) {
  const body = { team: suite.team.teamName, dnsNames: [`*.${label}.example.test`], validity: 'P1D' };
  return certificatesAs(suite.harness.app, token).create<Created & { approval: { id: string; reasons: { code: string }[] } | null }>(body);
}

interface View {
  state: string;
  currentVersion: { serial: string } | null;
  pendingStep: string | null;
}
const view = (id: string) => suite.certificates.view<View>(id);

async function decide(id: string, token: string, decision: 'approve' | 'reject', reason = 'checked with the service owner') {
  return suite.harness.app.request(`/v1/certificates/${id}/${decision}`, { method: 'POST', headers: authHeaders(token), body: JSON.stringify({ reason }) });
}

// The certificate says awaiting_approval from its creation; the request row appears when the workflow opens it.
const awaitingApproval = (id: string) =>
  eventually(async () => ((await findApprovalOfCertificate(suite.harness.db, id))?.state === 'pending' ? true : undefined), { timeoutMs: 10_000, what: 'the approval request to be open' });

async function auditActions(id: string): Promise<string[]> {
  const response = await suite.harness.app.request(`/v1/certificates/${id}/audit-events`, { headers: authHeaders(suite.team.requester, false) });
  expect(response.status).toBe(200);
  const { items } = (await response.json()) as { items: { action: string }[] };
  return items.map((item) => item.action).reverse();
}

describe('approvals', () => {
  it('waits for an approver, refuses self-approval in the validator, then issues once approved', async () => {
    // The team admin may request and approve in general, but not its own request.
    const created = await requestWildcard(suite.team.admin, 'granted');
    expect(created.state).toBe('awaiting_approval');
    expect(created.approval?.reasons.map((reason) => reason.code)).toEqual(['wildcard']);
    await awaitingApproval(created.id);

    const self = await decide(created.id, suite.team.admin, 'approve');
    expect(self.status).toBe(403);
    expect(((await self.json()) as { detail: string }).detail).toMatch(/own request/);
    const requesterRole = await decide(created.id, suite.team.requester, 'approve');
    expect(requesterRole.status).toBe(403);

    // The workflow's own validator refuses it too, without the API's pre-check in front of it.
    const row = await findApprovalOfCertificate(suite.harness.db, created.id);
    const handle = suite.harness.client.workflow.getHandle(created.workflowId);
    const refusal = (approverTokenId: string, role: string) =>
      handle
        .executeUpdate(approveUpdate, { args: [{ approver: { tokenId: approverTokenId, role, teamId: suite.team.teamId }, reason: 'looks fine' }] })
        .then(
          () => 'accepted',
          (error: unknown) => (error instanceof WorkflowUpdateFailedError ? (error.cause?.message ?? error.message) : `unexpected ${String(error)}`),
        );
    expect(await refusal(row!.requestedBy, 'admin')).toMatch(/cannot approve or reject their own request/);
    expect(await refusal('tok_someone_else', 'requester')).toMatch(/needs the approver role/);
    expect((await view(created.id)).currentVersion).toBeNull();

    const granted = await decide(created.id, approver.token, 'approve', 'wildcard needed for the tenant subdomains');
    expect(granted.status).toBe(200);
    expect(await granted.json()).toMatchObject({ state: 'approved', decidedBy: approver.id });
    const again = await decide(created.id, approver.token, 'approve');
    expect(again.status).toBe(409);

    const active = await suite.certificates.waitFor<View>(created.id, (current) => current.state === 'active', { timeoutMs: 15_000, what: 'the approved certificate to be active' });
    expect(active.currentVersion?.serial).toMatch(/^[0-9a-f]+$/);

    const approval = await findApprovalOfCertificate(suite.harness.db, created.id);
    expect(approval).toMatchObject({ state: 'approved', decidedBy: approver.id, decisionReason: 'wildcard needed for the tenant subdomains' });
    expect(await auditActions(created.id)).toEqual(['certificate.requested', 'approval.requested', 'approval.approved', 'certificate.issued']);
  });

  it('ends a rejected request without issuing anything', async () => {
    const created = await requestWildcard(suite.team.requester, 'rejected');
    await awaitingApproval(created.id);
    const rejected = await decide(created.id, approver.token, 'reject', 'use per-service names instead');
    expect(rejected.status).toBe(200);
    expect(await rejected.json()).toMatchObject({ state: 'rejected' });

    const result = await suite.harness.client.workflow.getHandle(created.workflowId).result();
    expect(result.state).toBe('rejected');
    expect((await view(created.id)).state).toBe('rejected');
    expect(await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, created.id))).toEqual([]);
    expect(await findApprovalOfCertificate(suite.harness.db, created.id)).toMatchObject({ state: 'rejected', decisionReason: 'use per-service names instead' });
    expect(await auditActions(created.id)).toEqual(['certificate.requested', 'approval.requested', 'approval.rejected']);
  });

  it('escalates to the team and the security contact, then expires', async () => {
    const created = await requestWildcard(suite.team.requester, 'expired');
    await awaitingApproval(created.id);

    const escalated = await eventually(async () => {
      const notes = await listNotifications(suite.harness.db, { certificateId: created.id, limit: 10 });
      return notes.find((note) => note.kind === 'approval_escalated');
    }, { timeoutMs: 10_000, what: 'the escalation' });
    expect(escalated.recipients).toEqual(['team', 'security']);
    expect((await findApprovalOfCertificate(suite.harness.db, created.id))?.escalatedAt).toBeInstanceOf(Date);

    const result = await suite.harness.client.workflow.getHandle(created.workflowId).result();
    expect(result.state).toBe('approval_expired');
    expect((await view(created.id)).state).toBe('approval_expired');
    expect(await findApprovalOfCertificate(suite.harness.db, created.id)).toMatchObject({ state: 'expired', decidedBy: null });
    expect(await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, created.id))).toEqual([]);
    expect(await auditActions(created.id)).toEqual(['certificate.requested', 'approval.requested', 'approval.escalated', 'approval.expired']);
    const late = await decide(created.id, approver.token, 'approve');
    expect(late.status).toBe(409);
  });

  it('keeps the audit log hash chain intact', async () => {
    expect(await verifyAuditChain(suite.harness.db)).toBeNull();
  });
});
