/**
 * Approval: the first generation of a certificate policy marks for review waits for a human
 * decision (the `approve` / `reject` updates), is escalated after a while, and expires at its
 * deadline. Who may decide is the pure core/approval.ts.
 */
import { ApplicationFailure, CancellationScope, condition, isCancellation, setHandler } from '@temporalio/workflow';
import { approverProblem } from '../core/approval.js';
import type { ApprovalDecisionRequest, ApprovalDecisionResult, ApprovalPlan, LifecycleStatus } from '../core/lifecycle.js';
import { approveUpdate, rejectUpdate } from '../contracts/lifecycle-messages.js';
import { lifecycleActivities } from './lifecycle-activities.js';
import type { LifecycleRun } from './lifecycle-run.js';

interface PendingDecision {
  state: 'approved' | 'rejected';
  request: ApprovalDecisionRequest;
  at: string;
}

export type ApprovalOutcome = 'approved' | 'rejected' | 'expired';

/** Sets the approve/reject handlers; the returned function waits for the decision. */
export function approvalStep(run: LifecycleRun): (plan: ApprovalPlan) => Promise<ApprovalOutcome> {
  let decision: PendingDecision | null = null;
  let result: ApprovalDecisionResult | null = null;
  // Why an accepted decision did not take effect (a revocation or the deadline closed the request first): its update fails with this.
  let closedBecause: string | null = null;
  for (const [update, state] of [
    [approveUpdate, 'approved'],
    [rejectUpdate, 'rejected'],
  ] as const) {
    setHandler(
      update,
      async (request) => {
        decision ??= { state, request, at: new Date(Date.now()).toISOString() };
        await condition(() => result !== null || closedBecause !== null);
        if (result) return result;
        throw ApplicationFailure.nonRetryable(`the approval request of ${run.certificateId} is closed: ${closedBecause}`, 'ApprovalClosed');
      },
      { validator: (request: ApprovalDecisionRequest) => validateDecision(run.input.approval ?? null, run.status, decision, request) },
    );
  }

  return async function awaitApproval(plan: ApprovalPlan): Promise<ApprovalOutcome> {
    const { certificateId } = run;
    const requestedAt = Date.now();
    const deadlineAt = new Date(requestedAt + plan.deadlineSeconds * 1000).toISOString();
    const approval = { approvalId: plan.approvalId, state: 'pending' as ApprovalOutcome | 'pending', deadlineAt, escalated: false };
    const open = () => lifecycleActivities.openApproval({ certificateId, generation: run.input.generation, plan, requestedAt: new Date(requestedAt).toISOString(), deadlineAt });
    run.status.approval = approval;
    run.setState('awaiting_approval', 'await-approval');
    let opened = false;
    try {
      await run.untilDone('await-approval', open);
      opened = true;
      run.status.pendingStep = 'await-approval';
      if (!(await condition(() => decision !== null, plan.escalateAfterSeconds * 1000))) {
        await run.untilDone('await-approval', () => lifecycleActivities.escalateApproval({ certificateId, plan, deadlineAt }));
        approval.escalated = true;
        run.status.pendingStep = 'await-approval';
        await condition(() => decision !== null, Math.max(0, new Date(deadlineAt).getTime() - Date.now()));
      }
      const outcome = decision as PendingDecision | null;
      // Past the deadline with no decision: the validator refuses decisions while the expiry is recorded.
      if (!outcome) approval.state = 'expired';
      const recorded = await run.untilDone('await-approval', () =>
        lifecycleActivities.recordApprovalDecision({
          certificateId,
          plan,
          state: outcome?.state ?? 'expired',
          decidedBy: outcome?.request.approver.tokenId ?? null,
          decidedByPrincipal: outcome?.request.approver.principalId ?? null,
          decidedAt: outcome?.at ?? deadlineAt,
          reason: outcome?.request.reason ?? null,
        }),
      );
      const state = recorded.state as ApprovalOutcome;
      approval.state = state;
      if (outcome && state !== 'expired') {
        result = { approvalId: plan.approvalId, state, decidedBy: recorded.decidedBy ?? outcome.request.approver.tokenId, decidedAt: recorded.decidedAt };
      } else if (decision) {
        closedBecause = 'it expired before the decision took effect';
      }
      if (state === 'rejected') run.setState('rejected', 'none');
      if (state === 'expired') run.setState('approval_expired', 'none');
      if (state === 'approved') run.setState(run.workingState, 'issue');
      return state;
    } catch (error) {
      // Revoked at any point of the approval: close the request (a decision already recorded stays), so
      // no approver is left deciding on it and a decision accepted meanwhile is answered.
      if (isCancellation(error)) {
        const closed = { certificateId, plan, state: 'rejected' as const, decidedBy: null, decidedAt: new Date(Date.now()).toISOString(), reason: 'the certificate was revoked before a decision' };
        await CancellationScope.nonCancellable(async () => {
          // The cancelled open may still commit on the worker; opening again is idempotent, so the close finds its row.
          if (!opened) await run.untilDone('await-approval', open);
          await run.untilDone('await-approval', () => lifecycleActivities.recordApprovalDecision(closed));
        });
        if (approval.state === 'pending') approval.state = 'rejected';
        closedBecause ??= 'the certificate was revoked before the decision took effect';
      }
      throw error;
    }
  };
}

/** The approve/reject validator: the caller must be allowed to decide, and the request still pending. */
function validateDecision(plan: ApprovalPlan | null, status: LifecycleStatus, decision: PendingDecision | null, request: ApprovalDecisionRequest): void {
  if (!plan || !status.approval) throw new Error(`certificate ${status.certificateId} has no approval request`);
  if (decision !== null || status.approval.state !== 'pending') throw new Error(`the approval request of ${status.certificateId} is no longer pending (${status.approval.state})`);
  const problem = approverProblem(request.approver, plan.teamId, plan.requestedBy, plan.requestedByPrincipal);
  if (problem) throw new Error(problem);
  if (typeof request.reason !== 'string' || request.reason.trim() === '') throw new Error('a decision needs a reason, for the audit log');
}
