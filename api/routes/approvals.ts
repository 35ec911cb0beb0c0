/**
 * Human decisions on a certificate's lifecycle: approve or reject a request that policy sent to a
 * person, retry a failed rollout; and what was decided: the approval, the audit trail. The API
 * checks the approver with the same pure rule as the workflow's validator (core/approval.ts); the
 * validator stays the authority, so a race between two approvers ends in one decision and a 409.
 */
import { refuseTracked } from '../tracked-certificate.js';
import { Hono } from 'hono';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { approverProblem } from '../../core/approval.js';
import { findApprovalOfCertificate, type ApprovalRow } from '../../db/approvals.js';
import { listAuditEvents, type AuditEventRow } from '../../db/audit.js';
import { findCertificate, type CertificateRow } from '../../db/certificates.js';
import { canAccessTeam, requireRole } from '../auth.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { executeDecision, signalRetryRollout } from '../lifecycle-client.js';
import { problems } from '../problem.js';
import { approvalDecisionSchema, auditEventsQuery } from '../schemas.js';
import { parseJsonBody, parseQuery } from '../validation.js';

export function approvalRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  async function visibleCertificate(principal: Principal, id: string): Promise<CertificateRow> {
    const certificate = await findCertificate(deps.db, id);
    // A platform (security) admin may decide for any team; everyone else sees their own team only.
    if (!certificate || !canAccessTeam(principal, certificate.teamId)) throw problems.notFound(`no certificate "${id}" is visible to this token`);
    return certificate;
  }

  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/:id/${decision}`, requireRole('approver'), async (c) => {
      const principal = c.get('principal');
      const certificate = await visibleCertificate(principal, c.req.param('id'));
      const body = await parseJsonBody(c, approvalDecisionSchema);
      // Separation of duties is by the person answerable for each side (api/deps.ts accountableId).
      const approver = { tokenId: principal.tokenId, principalId: principal.accountableId, role: principal.role, teamId: principal.teamId };
      const problem = approverProblem(approver, certificate.teamId, certificate.requestedBy, certificate.requestedByPrincipal);
      if (problem) throw problems.forbidden(problem);
      // The row appears a moment after the workflow starts waiting; the workflow's validator decides then.
      const approval = await findApprovalOfCertificate(deps.db, certificate.id);
      if (approval && approval.state !== 'pending') throw problems.conflict(`the approval request of "${certificate.id}" is no longer pending; it is ${approval.state}`);
      if (!approval && certificate.state !== 'awaiting_approval') throw problems.conflict(`certificate "${certificate.id}" has no approval request`);
      try {
        const result = await executeDecision(deps.temporal, certificate.workflowId, decision, { approver, reason: body.reason });
        return c.json({ id: certificate.id, approvalId: result.approvalId, state: result.state, decidedBy: result.decidedBy, decidedAt: result.decidedAt });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) throw problems.conflict(error.cause?.message ?? error.message);
        throw error;
      }
    });
  }

  app.get('/:id/approval', async (c) => {
    const certificate = await visibleCertificate(c.get('principal'), c.req.param('id'));
    const approval = await findApprovalOfCertificate(deps.db, certificate.id);
    if (!approval) throw problems.notFound(`certificate "${certificate.id}" has no approval request`);
    return c.json(approvalView(approval));
  });

  app.get('/:id/audit-events', async (c) => {
    const certificate = await visibleCertificate(c.get('principal'), c.req.param('id'));
    const query = parseQuery(c, auditEventsQuery);
    const beforeSeq = query.cursor ? decodeCursor('audit-events', query.cursor).seq : undefined;
    const events = await listAuditEvents(deps.db, { certificateId: certificate.id, beforeSeq, limit: query.limit + 1 });
    const page = events.slice(0, query.limit);
    const last = page[page.length - 1];
    return c.json({ items: page.map(auditEventView), nextCursor: events.length > query.limit && last ? encodeCursor('audit-events', { seq: last.seq }) : null });
  });

  app.post('/:id/retry-rollout', requireRole('requester', 'responder'), async (c) => {
    const certificate = await visibleCertificate(c.get('principal'), c.req.param('id'));
    refuseTracked(certificate, 'roll out');
    await signalRetryRollout(deps.temporal, certificate.workflowId);
    return c.json({ id: certificate.id, retryRollout: 'requested' as const }, 202);
  });

  return app;
}

export function approvalView(approval: ApprovalRow) {
  return {
    id: approval.id,
    certificateId: approval.certificateId,
    generation: approval.generation,
    state: approval.state,
    reasons: approval.reasons,
    requestedBy: approval.requestedBy,
    requestedAt: approval.requestedAt.toISOString(),
    deadlineAt: approval.deadlineAt.toISOString(),
    escalatedAt: approval.escalatedAt?.toISOString() ?? null,
    decidedBy: approval.decidedBy,
    decidedAt: approval.decidedAt?.toISOString() ?? null,
    decisionReason: approval.decisionReason,
  };
}

export function auditEventView(event: AuditEventRow) {
  return {
    seq: event.seq,
    at: event.at.toISOString(),
    actor: event.actor,
    principalId: event.principalId,
    action: event.action,
    teamId: event.teamId,
    certificateId: event.certificateId,
    details: event.details,
    hash: event.hash,
  };
}
