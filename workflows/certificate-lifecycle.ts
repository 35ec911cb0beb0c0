/**
 * certificateLifecycle — one per managed certificate, workflow id `certificate/<id>`. A run issues
 * one generation: [approval] → [agent CSR] → issue → roll out (workflows/lifecycle-rollout.ts) →
 * sleep until renewal time → continueAsNew with the next generation. `renewNow` cuts the sleep
 * short. A revocation wins over everything: it cancels whatever the run is waiting on, then revokes,
 * retried until done. What a message changes and what a failure leads to are pure (core/lifecycle-*.ts).
 */
import { CancellationScope, allHandlersFinished, condition, continueAsNew, isCancellation, log, patched, setHandler } from '@temporalio/workflow';
import { receiveRenewNow, receiveRevoke } from '../core/lifecycle-inbox.js';
import { nextRunInput } from '../core/lifecycle-steps.js';
import { withoutCertificatePem } from '../core/reconcile.js';
import type { LifecycleInput, LifecycleStatus, RevokeResult } from '../core/lifecycle.js';
import { renewalTime } from '../core/renewal.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { REVOCATION_REASONS, renewedByClient } from '../core/types.js';
import { suggestedWindow } from '../core/ari.js';
import { clientRenewedSignal } from '../contracts/acme-messages.js';
import { renewNowSignal, retryRolloutSignal, revokeSignal, statusQuery } from '../contracts/lifecycle-messages.js';
import { lifecycleActivities, localActivities, signingActivities } from './lifecycle-activities.js';
import { SIGNING_QUEUE_PATCH } from '../core/signing-queue.js';
import { approvalStep, type ApprovalOutcome } from './lifecycle-approval.js';
import { reportToBulk } from './lifecycle-bulk-report.js';
import { rollOut } from './lifecycle-rollout.js';
import { LifecycleRun } from './lifecycle-run.js';

/** How long an ACME client has to renew once Certflow asked it to (ARI), before it is renewal_overdue. */
const CLIENT_RENEWAL_GRACE_MS = 24 * 3600_000;
/** A failing revocation is tried again at least this often (its activity also retries by itself). */
const REVOKE_RETRY_CAP_MS = 10_000;

export async function certificateLifecycle(input: LifecycleInput): Promise<LifecycleStatus> {
  const run = new LifecycleRun(input);
  const work = new CancellationScope();

  setHandler(statusQuery, () => run.status);
  setHandler(renewNowSignal, (request) => {
    run.inbox = receiveRenewNow(run.inbox, request, { state: run.status.state, failing: run.failing, issued: run.issued });
  });
  setHandler(retryRolloutSignal, () => {
    run.inbox = { ...run.inbox, retryRollout: true };
  });
  setHandler(clientRenewedSignal, ({ generation }) => {
    if (!renewedByClient(input.keySource) || generation !== input.generation + 1) return log.warn('ignored a client renewal for another generation', { generation });
    run.inbox = { ...run.inbox, clientRenewed: true };
  });
  setHandler(revokeSignal, (request) => {
    if (!REVOCATION_REASONS.includes(request.reason)) return log.warn('ignored a revocation with an unknown reason', { reason: request.reason });
    if (run.status.state !== 'revoked') run.inbox = receiveRevoke(run.inbox, request);
    work.cancel();
  });
  const awaitApproval = approvalStep(run);
  if (input.revokeOnStart) run.inbox = receiveRevoke(run.inbox, input.revokeOnStart);
  if (input.renewalReason) log.info('renewing certificate', { certificateId: input.certificateId, reason: input.renewalReason });

  let ended: 'renew' | ApprovalOutcome = 'renew';
  if (!run.inbox.revoke) {
    try {
      ended = await work.run(() => issueAndServe(run, awaitApproval));
    } catch (error) {
      if (!isCancellation(error) || !run.inbox.revoke) throw error;
    }
  }
  await condition(allHandlersFinished);
  // A revocation that arrives while the run winds down still wins.
  if (run.inbox.revoke) {
    await revoke(run);
    await reportToBulk(run, 'skipped', 'revoked while the bulk operation was renewing it', true);
    return run.status;
  }
  if (ended !== 'renew') return run.status;
  return continueAsNew<typeof certificateLifecycle>(nextRunInput(input, run.status.currentVersion, run.inbox.renewNext));
}

/** Issues this run's generation and serves it until a renewal is due or asked for; or ends at a refused approval. */
async function issueAndServe(run: LifecycleRun, awaitApproval: ReturnType<typeof approvalStep>): Promise<'renew' | ApprovalOutcome> {
  const { input, certificateId } = run;
  if (input.generation === 1 && input.approval) {
    const outcome = await awaitApproval(input.approval);
    if (outcome !== 'approved') return outcome;
  }
  if (input.keySource === 'agent') {
    await run.untilDone('await-csr', () => lifecycleActivities.awaitAgentCsr({ certificateId, generation: input.generation }));
  }
  const previous = run.status.currentVersion;
  // Runs recorded before the signing queue existed sign in a local activity, as they did.
  const issue = patched(SIGNING_QUEUE_PATCH) ? signingActivities().issueCertificate : localActivities.issueCertificate;
  const version = withoutCertificatePem(await run.untilDone('issue', () => issue({ certificateId, generation: input.generation })));
  run.status.currentVersion = version;
  run.issued = true;
  run.upsertLater({ key: SEARCH_ATTRIBUTE_KEYS.issuerId, value: version.issuerId }, { key: SEARCH_ATTRIBUTE_KEYS.notAfter, value: new Date(version.notAfter) });
  run.setState(run.status.state, 'deliver');
  if ((await rollOut(run, version, previous)) === 'renew') return 'renew';

  const renewAt = renewalTime({
    issuedAt: new Date(version.issuedAt),
    notAfter: new Date(version.notAfter),
    certificateId,
    generation: version.generation,
    renewBeforeSeconds: input.renewBeforeSeconds ?? null,
  });
  run.status.nextRenewalAt = renewAt.toISOString();
  if (renewedByClient(input.keySource)) return awaitClientRenewal(run, renewAt, new Date(version.notAfter));
  run.setState('active', 'wait-for-renewal');
  await condition(() => run.inbox.renewNext !== null, Math.max(0, renewAt.getTime() - Date.now()));
  return 'renew';
}

/**
 * An ACME certificate is renewed by its client, not here: the run watches for the client's order of
 * the next generation and, past the end of the renewal window it suggests (RFC 9773), shows the
 * certificate as `renewal_overdue` until the client comes. A renewal asked of Certflow meanwhile
 * moves the ARI window into the past (and gives the client a day before it is overdue); the bulk
 * operations that asked are answered by the next generation's run, which the client's order starts.
 */
async function awaitClientRenewal(run: LifecycleRun, renewAt: Date, notAfter: Date): Promise<'renew'> {
  const { certificateId } = run;
  let overdueAt = suggestedWindow({ renewAt, notAfter }).end.getTime();
  let asked = false;
  const signalled = new Set<string>();
  const renewed = () => run.inbox.clientRenewed;
  // A renewal asked of Certflow (bulk, operator) that the client has not been told of yet.
  const unasked = () => {
    const next = run.inbox.renewNext;
    const bulkIds = next?.bulkIds.filter((id) => !signalled.has(id)) ?? [];
    return next && (!asked || bulkIds.length > 0) ? { reason: next.reason, bulkIds } : null;
  };
  run.setState('active', 'wait-for-renewal');
  while (!renewed()) {
    const overdue = run.status.state === 'renewal_overdue';
    // At least 1 ms: a zero timeout would make the SDK record a patch marker.
    const woken = await condition(() => renewed() || unasked() !== null, overdue ? undefined : Math.max(1, overdueAt - Date.now()));
    if (!woken) {
      await run.untilDone('report', () => lifecycleActivities.markRenewalOverdue({ certificateId }));
      run.setState('renewal_overdue', 'wait-for-renewal');
      continue;
    }
    const ask = unasked();
    if (ask) {
      await run.untilDone('report', () => lifecycleActivities.requestClientRenewal({ certificateId, reason: ask.reason, bulkOperationIds: ask.bulkIds }));
      asked = true;
      for (const id of ask.bulkIds) signalled.add(id);
      overdueAt = Math.min(overdueAt, Date.now() + CLIENT_RENEWAL_GRACE_MS);
      run.setState(run.status.state, 'wait-for-renewal');
    }
  }
  return 'renew';
}

/** Revokes every version of the certificate, retried until done, and publishes it (CRL, OCSP). */
async function revoke(run: LifecycleRun): Promise<RevokeResult> {
  const reason = run.inbox.revoke!.reason;
  run.status.attempt = 0;
  run.setState('revoking', 'revoke');
  const result = await run.untilDone('revoke', () => lifecycleActivities.revokeCertificate({ certificateId: run.certificateId, reason }), { backoffCapMs: REVOKE_RETRY_CAP_MS });
  run.status.revokedAt = result.revokedAt;
  run.status.nextRenewalAt = null;
  run.status.rolloutFailures = [];
  run.setState('revoked', 'none');
  return result;
}
