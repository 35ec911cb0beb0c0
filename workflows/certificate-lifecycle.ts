/**
 * certificateLifecycle — one per managed certificate, workflow id `certificate/<id>`.
 * Each run issues one generation: [approval] → [agent CSR] → issue → roll out to every destination
 * (deliver, verify it is served, roll back what is not) → sleep until renewal time → continueAsNew
 * with the next generation. `renewNow` cuts the sleep short; `revoke` ends it.
 * Activities retry infrastructure errors themselves; when they give up, the workflow records the
 * error, backs off and tries again, so a dependency that is down for hours never fails the workflow.
 *
 * Versioning: every change to the command sequence is guarded with patched() (PATCHES below), so
 * runs started by older code replay unchanged (test/replay). Runs with the newest patch skip the
 * older ones' markers (`has`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { approverProblem } from '../core/approval.js';
import type { BulkOutcome } from '../core/bulk.js';
import { NON_RETRYABLE_ERROR_TYPES, ROLLOUT_ERROR_TYPES } from '../core/errors.js';
import {
  DEFAULT_ROLLOUT_RETRY_SECONDS,
  retryBackoffMs,
  type ApprovalDecisionRequest,
  type ApprovalDecisionResult,
  type ApprovalPlan,
  type DestinationPlan,
  type LifecycleError,
  type LifecycleInput,
  type LifecycleStatus,
  type LifecycleStep,
  type RenewNowRequest,
  type RevokeRequest,
  type RevokeResult,
  type RolloutFailure,
} from '../core/lifecycle.js';
import { renewalTime } from '../core/renewal.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { REVOCATION_REASONS, type CertState, type VersionSummary } from '../core/types.js';
import { ACTIVITY_PRESETS, LOCAL_PRESETS, waitingPreset } from './activity-options.js';
import { bulkOutcomeSignal, bulkWorkflowId } from '../contracts/bulk-messages.js';
import { approveUpdate, rejectUpdate, renewNowSignal, retryRolloutSignal, revokeUpdate, statusQuery } from '../contracts/lifecycle-messages.js';

/** patched() ids, one per change of the command sequence. */
export const PATCHES = {
  /** Approval before the first issuance (only reached by inputs that carry an approval plan). */
  approvals: 'approvals-v1',
  /** Agent-made keys: wait for the agent's CSR before issuing. */
  agentKeys: 'agent-keys-v1',
  /** deliverVersion + verifyServed + rollback instead of deliverToFile; CertStateSince. */
  rollouts: 'rollouts-v1',
  /** CertStateSince from the first upsert of the run (so a first issuance stuck before delivery has it). */
  stateSince: 'state-since-v1',
  /** A renewNow during a retry backoff retries the step now instead of after it succeeds. */
  renewWakesBackoff: 'renew-wakes-backoff-v1',
  /** A run renewing for a bulk operation signals its outcome to the bulk workflow. */
  bulkOutcome: 'bulk-outcome-v1',
  /**
   * Issue, deliver (file and webhook destinations), a first verification probe and the bulk
   * outcome (written to bulk_items, not signalled) as local activities, and search attributes
   * upserted only when a value changes: a renewal costs the server one workflow task and two
   * upserts instead of five tasks, three activity tasks, a signal and seven upserts.
   */
  leanRenewal: 'lean-renewal-v1',
} as const;

const { issueCertificate } = proxyActivities<Activities>(ACTIVITY_PRESETS.issuance);
const { deliverToFile, deliverVersion } = proxyActivities<Activities>(ACTIVITY_PRESETS.delivery);
const { revokeCertificate, openApproval, escalateApproval, recordApprovalDecision, reportRolloutFailed, reportRolloutRecovered } =
  proxyActivities<Activities>(ACTIVITY_PRESETS.records);
const { awaitAgentCsr } = proxyActivities<Activities>(ACTIVITY_PRESETS.awaitCsr);
const local = {
  issueCertificate: proxyLocalActivities<Activities>(LOCAL_PRESETS.issuance).issueCertificate,
  deliverVersion: proxyLocalActivities<Activities>(LOCAL_PRESETS.delivery).deliverVersion,
  verifyServed: proxyLocalActivities<Activities>(LOCAL_PRESETS.firstProbe).verifyServed,
  recordBulkOutcome: proxyLocalActivities<Activities>(LOCAL_PRESETS.records).recordBulkOutcome,
};

/** One typed search attribute update (@temporalio/common's SearchAttributeUpdatePair). */
type AttributeUpdate = Extract<Parameters<typeof upsertSearchAttributes>[0], unknown[]>[number];

/** Delivery outcomes that fail the rollout of a destination (roll back, retry later) rather than the step. */
const ROLLOUT_FAILURES: readonly string[] = Object.values(ROLLOUT_ERROR_TYPES);

/** Raised inside the run when an operator asked to revoke; unwinds to the revocation step. */
class RevocationRequested extends Error {}

interface PendingDecision {
  state: 'approved' | 'rejected';
  request: ApprovalDecisionRequest;
  at: string;
}

export async function certificateLifecycle(input: LifecycleInput): Promise<LifecycleStatus> {
  const status: LifecycleStatus = {
    certificateId: input.certificateId,
    state: input.generation === 1 ? 'issuing' : 'renewing',
    generation: input.generation,
    pendingStep: 'issue',
    currentVersion: input.currentVersion ?? null,
    nextRenewalAt: null,
    nextRetryAt: null,
    attempt: 0,
    lastError: null,
    revokedAt: null,
    stateSince: new Date(Date.now()).toISOString(),
    approval: null,
    rolloutFailures: [],
  };
  const workingState: CertState = input.generation === 1 ? 'issuing' : 'renewing';
  let renewRequest: RenewNowRequest | null = null;
  let revokeRequest: RevokeRequest | null = null;
  let revocation: RevokeResult | null = null;
  let retryRolloutRequested = false;
  let decision: PendingDecision | null = null;
  let decisionResult: ApprovalDecisionResult | null = null;
  // Set once the rollouts patch is known to apply; decides whether CertStateSince is upserted.
  let trackStateSince = false;
  // The lean-renewal patch: local activities, and an upsert only when state or attempt change.
  const lean = patched(PATCHES.leanRenewal);
  /**
   * A run with the newest patch has every older one too, so it records no marker for them: each
   * patched() call also upserts TemporalChangeVersion, a visibility write on the server.
   */
  const has = (patch: string): boolean => lean || patched(patch);
  let upserted: { state: CertState; attempt: number } | null = null;
  /** Attributes waiting for the next upsert (lean runs: IssuerId and NotAfter after issuance). */
  const pendingAttributes: AttributeUpdate[] = [];

  /**
   * The bulk operation this run reports its outcome to: the one that asked for the run, or (lean
   * runs) one whose renewNow the run took as "retry the failing step now" (takeRenewRequest).
   */
  let bulkTarget: { bulkId: string; collects: boolean } | null = input.bulkOperationId
    ? { bulkId: input.bulkOperationId, collects: input.bulkCollectsOutcomes === true }
    : null;

  setHandler(statusQuery, () => status);
  setHandler(renewNowSignal, (request) => {
    // A bulk operation's retried batch may signal twice: this run already is that renewal.
    if (request.bulkOperationId && request.bulkOperationId === bulkTarget?.bulkId) return;
    if (status.state !== 'revoked' && status.state !== 'revoking') renewRequest = request;
  });
  setHandler(retryRolloutSignal, () => {
    retryRolloutRequested = true;
  });
  setHandler(
    revokeUpdate,
    async (request) => {
      revokeRequest ??= request;
      await condition(() => revocation !== null);
      return revocation!;
    },
    {
      validator: (request: RevokeRequest) => {
        if (status.state === 'revoked') throw new Error(`certificate ${input.certificateId} is already revoked`);
        if (!REVOCATION_REASONS.includes(request.reason)) throw new Error(`unknown revocation reason "${request.reason}"`);
      },
    },
  );
  for (const [update, state] of [
    [approveUpdate, 'approved'],
    [rejectUpdate, 'rejected'],
  ] as const) {
    setHandler(
      update,
      async (request) => {
        decision ??= { state, request, at: new Date(Date.now()).toISOString() };
        await condition(() => decisionResult !== null);
        return decisionResult!;
      },
      { validator: (request: ApprovalDecisionRequest) => validateDecision(input.approval ?? null, status, decision, request) },
    );
  }

  const setState = (state: CertState, step: LifecycleStep) => {
    if (state !== status.state) status.stateSince = new Date(Date.now()).toISOString();
    status.state = state;
    status.pendingStep = step;
    if (lean && upserted?.state === state && upserted.attempt === status.attempt) return;
    upserted = { state, attempt: status.attempt };
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTE_KEYS.certState, value: state },
      { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: status.attempt },
      ...(trackStateSince ? [{ key: SEARCH_ATTRIBUTE_KEYS.certStateSince, value: new Date(status.stateSince!) }] : []),
      ...pendingAttributes.splice(0),
    ]);
  };

  let bulkReported = false;
  /**
   * Tells the bulk operation that asked for this renewal how it ended, once per run: lean runs
   * record it where an operation that collects outcomes reads it (retried until written, so none
   * is lost); otherwise it is signalled (best effort).
   */
  async function reportToBulk(outcome: BulkOutcome, reason: string | null): Promise<void> {
    if (!bulkTarget || bulkReported || !has(PATCHES.bulkOutcome)) return;
    const { bulkId, collects } = bulkTarget;
    const report = {
      certificateId: input.certificateId,
      outcome,
      reason,
      oldVersionId: input.currentVersion?.versionId ?? null,
      newVersionId: status.currentVersion && status.currentVersion.generation === input.generation ? status.currentVersion.versionId : null,
    };
    if (lean && collects) {
      const step = status.pendingStep;
      status.pendingStep = 'report';
      for (let attempt = 1; ; attempt++) {
        try {
          await local.recordBulkOutcome({ bulkId, report });
          bulkReported = true;
          break;
        } catch (error) {
          log.warn('could not record the outcome for the bulk operation; retrying', { bulkOperationId: bulkId, attempt, error: String(error) });
          // A revocation does not wait for bookkeeping: the revocation path reports once it has revoked.
          if (await condition(() => revokeRequest !== null && revocation === null, retryBackoffMs(attempt))) break;
        }
      }
      status.pendingStep = step;
      return;
    }
    bulkReported = true;
    try {
      await getExternalWorkflowHandle(bulkWorkflowId(bulkId)).signal(bulkOutcomeSignal, report);
    } catch (error) {
      // The operation ended (e.g. cancelled and drained): nobody waits for this outcome any more.
      log.warn('could not report to the bulk operation', { bulkOperationId: bulkId, error: String(error) });
    }
  }

  /**
   * Takes a renewNow that asked to retry the failing step now (no extra generation). A lean run
   * then owes its outcome to the bulk operation that sent it, if any: otherwise that operation
   * would wait for it forever.
   */
  function takeRenewRequest(): void {
    const request = renewRequest as RenewNowRequest | null;
    renewRequest = null;
    if (!lean || !request?.bulkOperationId || request.bulkOperationId === bulkTarget?.bulkId) return;
    bulkTarget = { bulkId: request.bulkOperationId, collects: request.bulkCollectsOutcomes === true };
    bulkReported = false;
    pendingAttributes.push({ key: SEARCH_ATTRIBUTE_KEYS.bulkOperationId, value: request.bulkOperationId });
  }

  /**
   * Runs a step until it succeeds; infrastructure failures back off and retry forever. Errors of a
   * type in `passThrough` are the caller's to handle.
   */
  async function untilDone<T>(step: LifecycleStep, run: () => Promise<T>, passThrough: readonly string[] = []): Promise<T> {
    for (;;) {
      if (revokeRequest) throw new RevocationRequested();
      status.pendingStep = step;
      try {
        const result = await run();
        status.attempt = 0;
        status.nextRetryAt = null;
        return result;
      } catch (error) {
        const failure = describeFailure(error, status.attempt + 1);
        if (passThrough.includes(failure.type)) throw error;
        status.attempt += 1;
        status.lastError = failure;
        log.warn('lifecycle step failed', { step, certificateId: input.certificateId, error: failure });
        if (NON_RETRYABLE_ERROR_TYPES.includes(failure.type)) {
          // A business error: retrying cannot help until someone changes the request or policy.
          setState('failed', 'wait-for-operator');
          await reportToBulk('failed', `${failure.type}: ${failure.message}`);
          await condition(() => renewRequest !== null || revokeRequest !== null);
          takeRenewRequest();
          setState(workingState, step);
          continue;
        }
        const backoff = retryBackoffMs(status.attempt);
        status.nextRetryAt = new Date(Date.now() + backoff).toISOString();
        setState(status.state, 'retry-backoff');
        const renewWakes = has(PATCHES.renewWakesBackoff);
        await condition(() => revokeRequest !== null || (renewWakes && renewRequest !== null), backoff);
        if (renewWakes && renewRequest) {
          // The operator's "renew" means "try again now" for a step that is failing; it asks for no extra generation.
          log.info('retrying now on request', { step, certificateId: input.certificateId, reason: (renewRequest as RenewNowRequest).reason });
          takeRenewRequest();
          status.nextRetryAt = null;
        }
      }
    }
  }

  /** Waits for a human decision; 'approved' lets the issuance go on. */
  async function awaitApproval(plan: ApprovalPlan): Promise<'approved' | 'rejected' | 'expired'> {
    const requestedAt = Date.now();
    const deadlineAt = new Date(requestedAt + plan.deadlineSeconds * 1000).toISOString();
    status.approval = { approvalId: plan.approvalId, state: 'pending', deadlineAt, escalated: false };
    setState('awaiting_approval', 'await-approval');
    await untilDone('await-approval', () =>
      openApproval({ certificateId: input.certificateId, generation: input.generation, plan, requestedAt: new Date(requestedAt).toISOString(), deadlineAt }),
    );
    status.pendingStep = 'await-approval';
    const decided = () => decision !== null || revokeRequest !== null;
    if (!(await condition(decided, plan.escalateAfterSeconds * 1000))) {
      await untilDone('await-approval', () => escalateApproval({ certificateId: input.certificateId, plan, deadlineAt }));
      status.approval.escalated = true;
      status.pendingStep = 'await-approval';
      await condition(decided, Math.max(0, new Date(deadlineAt).getTime() - Date.now()));
    }
    if (revokeRequest) throw new RevocationRequested();
    const outcome = decision as PendingDecision | null;
    const recorded = await untilDone('await-approval', () =>
      recordApprovalDecision({
        certificateId: input.certificateId,
        plan,
        state: outcome?.state ?? 'expired',
        decidedBy: outcome?.request.approver.tokenId ?? null,
        decidedAt: outcome?.at ?? deadlineAt,
        reason: outcome?.request.reason ?? null,
      }),
    );
    const state = recorded.state as 'approved' | 'rejected' | 'expired';
    status.approval.state = state;
    if (outcome && state !== 'expired') {
      decisionResult = { approvalId: plan.approvalId, state, decidedBy: recorded.decidedBy ?? outcome.request.approver.tokenId, decidedAt: recorded.decidedAt };
    }
    if (state === 'rejected') setState('rejected', 'none');
    if (state === 'expired') setState('approval_expired', 'none');
    if (state === 'approved') setState(workingState, 'issue');
    return state;
  }

  /**
   * Delivers `version` to each destination, verifies it is served where endpoints are named, and
   * rolls a destination that does not serve it back to `previous`. Failed destinations are retried
   * on a schedule or on `retryRollout`. Returns 'renew' when a renewal was asked for meanwhile.
   */
  async function rollOut(version: VersionSummary, previous: VersionSummary | null): Promise<'done' | 'renew'> {
    const plans: DestinationPlan[] = input.destinations ?? Array.from({ length: input.destinationCount }, () => ({ type: 'file' as const, verify: false }));
    let pending = plans.map((_, index) => index);
    let hadFailure = false;
    for (let round = 1; ; round++) {
      const failures: RolloutFailure[] = [];
      for (const index of pending) {
        const failure = await rollOutTo(index, plans[index]!, version, previous, round);
        if (failure) failures.push(failure);
      }
      status.rolloutFailures = failures;
      // Lean runs also report a later round to a bulk operation whose retry request they took meanwhile.
      if (round === 1 || (lean && !bulkReported)) await reportToBulk(...bulkOutcomeOf(plans, failures));
      const rolloutKey = `g${input.generation}/rollout/${round}`;
      if (failures.length === 0) {
        if (hadFailure) {
          await untilDone('deliver', () => reportRolloutRecovered({ certificateId: input.certificateId, versionId: version.versionId, rolloutKey }));
        }
        return 'done';
      }
      hadFailure = true;
      status.lastError = { type: 'RolloutFailed', message: failures.map((f) => `destination #${f.destinationIndex}: ${f.reason}`).join('; '), at: new Date(Date.now()).toISOString(), attempt: round };
      await untilDone('rollback', () =>
        reportRolloutFailed({ certificateId: input.certificateId, versionId: version.versionId, rolloutKey, failures, previousVersionId: previous?.versionId ?? null }),
      );
      const retryMs = (input.rolloutRetrySeconds ?? DEFAULT_ROLLOUT_RETRY_SECONDS) * 1000;
      status.nextRetryAt = new Date(Date.now() + retryMs).toISOString();
      retryRolloutRequested = false;
      setState('rollout_failed', 'wait-for-rollout-retry');
      await condition(() => retryRolloutRequested || renewRequest !== null || revokeRequest !== null, retryMs);
      status.nextRetryAt = null;
      if (revokeRequest) throw new RevocationRequested();
      if (renewRequest) return 'renew';
      pending = failures.map((failure) => failure.destinationIndex);
      setState(workingState, 'deliver');
    }
  }

  async function rollOutTo(index: number, plan: DestinationPlan, version: VersionSummary, previous: VersionSummary | null, round: number): Promise<RolloutFailure | null> {
    const rolloutKey = `g${input.generation}/rollout/${round}`;
    const target = { certificateId: input.certificateId, destinationIndex: index };
    // Lean runs write files locally; a webhook (the network) or an agent (waiting) stays an ordinary activity.
    const deliver =
      plan.type === 'agent'
        ? proxyActivities<Activities>(waitingPreset(plan.reportTimeoutSeconds ?? 600)).deliverVersion
        : lean && plan.type === 'file'
          ? local.deliverVersion
          : deliverVersion;
    let reason: string | null = null;
    try {
      await untilDone('deliver', () => deliver({ ...target, versionId: version.versionId, rolloutKey, purpose: 'rollout' }), ROLLOUT_FAILURES);
    } catch (error) {
      if (error instanceof RevocationRequested) throw error;
      reason = describeFailure(error, 1).message;
    }
    if (reason === null && plan.verify) {
      const { verifyServed } = proxyActivities<Activities>(waitingPreset(plan.verifyTimeoutSeconds ?? 300));
      const request = { ...target, versionId: version.versionId, rolloutKey };
      // Lean runs probe once locally (usually enough right after delivery) and wait in a heartbeating activity only if needed.
      // A probe that fails (rather than misses) leaves the verdict to the full activity too.
      const firstProbe = lean ? await local.verifyServed({ ...request, firstRoundOnly: true }).catch(() => null) : null;
      const outcome = firstProbe?.served ? firstProbe : await untilDone('verify', () => verifyServed(request));
      if (!outcome.served) reason = outcome.detail;
    }
    if (reason === null) return null;
    log.warn('rollout failed; rolling back', { certificateId: input.certificateId, destinationIndex: index, reason });
    if (previous) {
      const rollbackKey = `g${input.generation}/rollback/${round}`;
      try {
        await untilDone('rollback', () => deliver({ ...target, versionId: previous.versionId, rolloutKey: rollbackKey, purpose: 'rollback' }), ROLLOUT_FAILURES);
      } catch (error) {
        if (error instanceof RevocationRequested) throw error;
        reason += `; the rollback to the previous certificate also failed: ${describeFailure(error, 1).message}`;
      }
    }
    return { destinationIndex: index, reason, at: new Date(Date.now()).toISOString() };
  }

  trackStateSince = has(PATCHES.stateSince);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTE_KEYS.certState, value: status.state },
    ...(trackStateSince ? [{ key: SEARCH_ATTRIBUTE_KEYS.certStateSince, value: new Date(status.stateSince!) }] : []),
    ...(lean ? [{ key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 }] : []),
    ...(lean && input.bulkOperationId ? [{ key: SEARCH_ATTRIBUTE_KEYS.bulkOperationId, value: input.bulkOperationId }] : []),
  ]);
  if (lean) upserted = { state: status.state, attempt: 0 };
  if (input.renewalReason) log.info('renewing certificate', { certificateId: input.certificateId, reason: input.renewalReason });

  let renewNext = false;
  try {
    if (input.generation === 1 && input.approval && has(PATCHES.approvals)) {
      const outcome = await awaitApproval(input.approval);
      if (outcome !== 'approved') {
        await condition(allHandlersFinished);
        return status;
      }
    }
    if (input.keySource === 'agent' && has(PATCHES.agentKeys)) {
      await untilDone('await-csr', () => awaitAgentCsr({ certificateId: input.certificateId, generation: input.generation }));
    }
    const previous = status.currentVersion;
    const issue = lean ? local.issueCertificate : issueCertificate;
    const version = await untilDone('issue', () => issue({ certificateId: input.certificateId, generation: input.generation }));
    status.currentVersion = version;
    const issued: AttributeUpdate[] = [
      { key: SEARCH_ATTRIBUTE_KEYS.issuerId, value: version.issuerId },
      { key: SEARCH_ATTRIBUTE_KEYS.notAfter, value: new Date(version.notAfter) },
    ];
    if (lean) {
      pendingAttributes.push(...issued); // every way on from here changes state or attempt, so the next setState carries them
    } else {
      upsertSearchAttributes(issued);
    }

    if (has(PATCHES.rollouts)) {
      trackStateSince = true;
      setState(status.state, 'deliver');
      renewNext = (await rollOut(version, previous)) === 'renew';
    } else {
      setState(status.state, 'deliver');
      for (let index = 0; index < input.destinationCount; index++) {
        await untilDone('deliver', () => deliverToFile({ certificateId: input.certificateId, versionId: version.versionId, destinationIndex: index }));
      }
    }

    if (!renewNext) {
      const renewAt = renewalTime({
        issuedAt: new Date(version.issuedAt),
        notAfter: new Date(version.notAfter),
        certificateId: input.certificateId,
        generation: version.generation,
        renewBeforeSeconds: input.renewBeforeSeconds ?? null,
      });
      status.nextRenewalAt = renewAt.toISOString();
      setState('active', 'wait-for-renewal');
      await condition(() => renewRequest !== null || revokeRequest !== null, Math.max(0, renewAt.getTime() - Date.now()));
    }
    if (revokeRequest) throw new RevocationRequested();
  } catch (error) {
    if (!(error instanceof RevocationRequested)) throw error;
  }

  if (revokeRequest) {
    const request: RevokeRequest = revokeRequest;
    const skipped = 'revoked while the bulk operation was renewing it';
    if (!lean) await reportToBulk('skipped', skipped);
    setState('revoking', 'revoke');
    revocation = await revokeCertificate({ certificateId: input.certificateId, reason: request.reason });
    status.revokedAt = revocation.revokedAt;
    status.nextRenewalAt = null;
    setState('revoked', 'none');
    // Lean runs revoke first: bulk bookkeeping never holds a revocation up.
    if (lean) await reportToBulk('skipped', skipped);
    await condition(allHandlersFinished);
    return status;
  }

  await condition(allHandlersFinished);
  const reason = (renewRequest as RenewNowRequest | null)?.reason ?? 'scheduled renewal';
  // Lean runs leave BulkOperationId to the next run's first upsert.
  if (!lean && (renewRequest as RenewNowRequest | null)?.bulkOperationId) {
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTE_KEYS.bulkOperationId, value: renewRequest!.bulkOperationId! }]);
  }
  return continueAsNew<typeof certificateLifecycle>({
    ...input,
    generation: input.generation + 1,
    currentVersion: status.currentVersion,
    renewalReason: reason,
    approval: null,
    bulkOperationId: (renewRequest as RenewNowRequest | null)?.bulkOperationId ?? null,
    bulkCollectsOutcomes: (renewRequest as RenewNowRequest | null)?.bulkCollectsOutcomes === true,
  });
}

/** How a bulk renewal went, from its first rollout round. */
function bulkOutcomeOf(plans: DestinationPlan[], failures: RolloutFailure[]): [BulkOutcome, string | null] {
  if (failures.length > 0) return ['failed', failures.map((failure) => `destination #${failure.destinationIndex}: ${failure.reason}`).join('; ')];
  if (plans.length === 0) return ['reissued', null];
  return plans.some((plan) => plan.verify) ? ['verified', null] : ['rolled_out', null];
}

/** The approve/reject validator: the caller must be allowed to decide, and the request still pending. */
function validateDecision(plan: ApprovalPlan | null, status: LifecycleStatus, decision: PendingDecision | null, request: ApprovalDecisionRequest): void {
  if (!plan || status.approval === null || status.approval === undefined) throw new Error(`certificate ${status.certificateId} has no approval request`);
  if (decision !== null || status.approval.state !== 'pending') throw new Error(`the approval request of ${status.certificateId} is no longer pending (${status.approval.state})`);
  const problem = approverProblem(request.approver, plan.teamId, plan.requestedBy);
  if (problem) throw new Error(problem);
  if (typeof request.reason !== 'string' || request.reason.trim() === '') throw new Error('a decision needs a reason, for the audit log');
}

function describeFailure(error: unknown, attempt: number): LifecycleError {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  const type = cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : cause instanceof Error ? cause.name : 'Error';
  const message = cause instanceof Error ? cause.message : String(cause);
  return { type, message, at: new Date(Date.now()).toISOString(), attempt };
}
