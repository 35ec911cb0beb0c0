/**
 * Approval side effects of the lifecycle workflow: open the request, escalate it, record the
 * decision or the expiry. Each writes the approvals row, the audit log and the notification outbox,
 * idempotently (a retry changes nothing that was already written).
 */
import type { ApprovalPlan } from '../core/lifecycle.js';
import { decideApproval, markEscalated, openApprovalRow } from '../db/approvals.js';
import { appendAuditEvent } from '../db/audit.js';
import { setCertificateState } from '../db/certificates.js';
import { enqueueNotification } from '../db/notifications.js';
import type { ActivityDeps } from './deps.js';

export interface OpenApprovalInput {
  certificateId: string;
  generation: number;
  plan: ApprovalPlan;
  requestedAt: string;
  deadlineAt: string;
}

export async function openApproval(deps: ActivityDeps, input: OpenApprovalInput): Promise<void> {
  const { plan } = input;
  await openApprovalRow(deps.db, {
    id: plan.approvalId,
    certificateId: input.certificateId,
    generation: input.generation,
    teamId: plan.teamId,
    reasons: plan.reasons,
    requestedBy: plan.requestedBy,
    requestedAt: new Date(input.requestedAt),
    deadlineAt: new Date(input.deadlineAt),
  });
  await appendAuditEvent(deps.db, {
    at: new Date(input.requestedAt),
    actor: plan.requestedByPrincipal ?? plan.requestedBy,
    action: 'approval.requested',
    teamId: plan.teamId,
    certificateId: input.certificateId,
    details: { approvalId: plan.approvalId, reasons: plan.reasons, deadlineAt: input.deadlineAt },
    dedupeKey: `${plan.approvalId}/requested`,
  });
  await enqueueNotification(deps.db, {
    teamId: plan.teamId,
    certificateId: input.certificateId,
    kind: 'approval_requested',
    recipients: ['team-approvers'],
    message: `certificate ${input.certificateId} needs approval before ${input.deadlineAt}: ${plan.reasons.map((reason) => reason.message).join('; ')}`,
    details: { approvalId: plan.approvalId, deadlineAt: input.deadlineAt },
    dedupeKey: `${plan.approvalId}/requested`,
  });
}

export interface EscalateApprovalInput {
  certificateId: string;
  plan: ApprovalPlan;
  deadlineAt: string;
}

export async function escalateApproval(deps: ActivityDeps, input: EscalateApprovalInput): Promise<void> {
  const at = deps.now();
  await markEscalated(deps.db, input.plan.approvalId, at);
  await appendAuditEvent(deps.db, {
    at,
    actor: 'workflow',
    action: 'approval.escalated',
    teamId: input.plan.teamId,
    certificateId: input.certificateId,
    details: { approvalId: input.plan.approvalId, deadlineAt: input.deadlineAt },
    dedupeKey: `${input.plan.approvalId}/escalated`,
  });
  await enqueueNotification(deps.db, {
    teamId: input.plan.teamId,
    certificateId: input.certificateId,
    kind: 'approval_escalated',
    recipients: ['team', 'security'],
    message: `certificate ${input.certificateId} still waits for approval; it expires at ${input.deadlineAt} unless an approver of the team or a security admin decides`,
    details: { approvalId: input.plan.approvalId, deadlineAt: input.deadlineAt },
    dedupeKey: `${input.plan.approvalId}/escalated`,
  });
}

export interface RecordApprovalDecisionInput {
  certificateId: string;
  plan: ApprovalPlan;
  state: 'approved' | 'rejected' | 'expired';
  /** Token id of the approver; null when the deadline decided. */
  decidedBy: string | null;
  /** Principal of the approver, the audit event's actor; absent in decisions recorded before principals. */
  decidedByPrincipal?: string | null;
  decidedAt: string;
  reason: string | null;
}

export async function recordApprovalDecision(deps: ActivityDeps, input: RecordApprovalDecisionInput): Promise<{ state: string; decidedBy: string | null; decidedAt: string }> {
  const row = await decideApproval(deps.db, {
    id: input.plan.approvalId,
    state: input.state,
    decidedBy: input.decidedBy,
    decidedAt: new Date(input.decidedAt),
    reason: input.reason,
  });
  await appendAuditEvent(deps.db, {
    at: row.decidedAt ?? new Date(input.decidedAt),
    actor: input.decidedByPrincipal ?? row.decidedBy ?? 'workflow',
    action: `approval.${row.state}`,
    teamId: input.plan.teamId,
    certificateId: input.certificateId,
    details: { approvalId: row.id, reason: row.decisionReason },
    dedupeKey: `${row.id}/decided`,
  });
  if (row.state === 'rejected') await setCertificateState(deps.db, input.certificateId, 'rejected');
  if (row.state === 'expired') await setCertificateState(deps.db, input.certificateId, 'approval_expired');
  if (row.state === 'approved') await setCertificateState(deps.db, input.certificateId, 'pending');
  return { state: row.state, decidedBy: row.decidedBy, decidedAt: (row.decidedAt ?? new Date(input.decidedAt)).toISOString() };
}
