/**
 * certificateLifecycle — one per managed certificate, workflow id `certificate/<id>`.
 * Each run issues one generation: issue → deliver to every destination → sleep until renewal
 * time → continueAsNew with the next generation. `renewNow` cuts the sleep short; `revoke` ends it.
 * Activities retry infrastructure errors themselves; when they give up, the workflow records the
 * error, backs off and tries again, so a dependency that is down for hours never fails the workflow.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';
import {
  retryBackoffMs,
  type LifecycleError,
  type LifecycleInput,
  type LifecycleStatus,
  type LifecycleStep,
  type RenewNowRequest,
  type RevokeRequest,
  type RevokeResult,
} from '../core/lifecycle.js';
import { renewalTime } from '../core/renewal.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { REVOCATION_REASONS, type CertState } from '../core/types.js';
import { renewNowSignal, revokeUpdate, statusQuery } from './messages.js';

/**
 * Activity presets. Timeouts are short on purpose: if a worker dies mid-activity, the server retries
 * the activity elsewhere after startToCloseTimeout, so this bounds how long a crash delays a renewal.
 */
const INFRASTRUCTURE_RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
} as const;

// RSA-4096 key generation is the slowest step (a few seconds on a busy 2-core machine).
const { issueCertificate } = proxyActivities<Activities>({ startToCloseTimeout: '20 seconds', retry: INFRASTRUCTURE_RETRY });
const { deliverToFile } = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: INFRASTRUCTURE_RETRY });
const { revokeCertificate } = proxyActivities<Activities>({ startToCloseTimeout: '15 seconds', retry: INFRASTRUCTURE_RETRY });

/** Raised inside the run when an operator asked to revoke; unwinds to the revocation step. */
class RevocationRequested extends Error {}

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
  };
  let renewRequest: RenewNowRequest | null = null;
  let revokeRequest: RevokeRequest | null = null;
  let revocation: RevokeResult | null = null;

  setHandler(statusQuery, () => status);
  setHandler(renewNowSignal, (request) => {
    if (status.state !== 'revoked' && status.state !== 'revoking') renewRequest = request;
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

  const setState = (state: CertState, step: LifecycleStep) => {
    status.state = state;
    status.pendingStep = step;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTE_KEYS.certState, value: state },
      { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: status.attempt },
    ]);
  };

  /** Runs a step until it succeeds; infrastructure failures back off and retry forever. */
  async function untilDone<T>(step: LifecycleStep, run: () => Promise<T>): Promise<T> {
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
        status.attempt += 1;
        status.lastError = failure;
        log.warn('lifecycle step failed', { step, certificateId: input.certificateId, error: failure });
        if (NON_RETRYABLE_ERROR_TYPES.includes(failure.type)) {
          // A business error: retrying cannot help until someone changes the request or policy.
          setState('failed', 'wait-for-operator');
          await condition(() => renewRequest !== null || revokeRequest !== null);
          renewRequest = null;
          setState(input.generation === 1 ? 'issuing' : 'renewing', step);
          continue;
        }
        const backoff = retryBackoffMs(status.attempt);
        status.nextRetryAt = new Date(Date.now() + backoff).toISOString();
        setState(status.state, 'retry-backoff');
        await condition(() => revokeRequest !== null, backoff);
      }
    }
  }

  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTE_KEYS.certState, value: status.state }]);
  if (input.renewalReason) log.info('renewing certificate', { certificateId: input.certificateId, reason: input.renewalReason });

  try {
    const version = await untilDone('issue', () => issueCertificate({ certificateId: input.certificateId, generation: input.generation }));
    status.currentVersion = version;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTE_KEYS.issuerId, value: version.issuerId },
      { key: SEARCH_ATTRIBUTE_KEYS.notAfter, value: new Date(version.notAfter) },
    ]);

    setState(status.state, 'deliver');
    for (let index = 0; index < input.destinationCount; index++) {
      await untilDone('deliver', () => deliverToFile({ certificateId: input.certificateId, versionId: version.versionId, destinationIndex: index }));
    }

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
    if (revokeRequest) throw new RevocationRequested();
  } catch (error) {
    if (!(error instanceof RevocationRequested)) throw error;
  }

  if (revokeRequest) {
    const request: RevokeRequest = revokeRequest;
    setState('revoking', 'revoke');
    revocation = await revokeCertificate({ certificateId: input.certificateId, reason: request.reason });
    status.revokedAt = revocation.revokedAt;
    status.nextRenewalAt = null;
    setState('revoked', 'none');
    await condition(allHandlersFinished);
    return status;
  }

  await condition(allHandlersFinished);
  const reason = (renewRequest as RenewNowRequest | null)?.reason ?? 'scheduled renewal';
  if ((renewRequest as RenewNowRequest | null)?.bulkOperationId) {
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTE_KEYS.bulkOperationId, value: renewRequest!.bulkOperationId! }]);
  }
  return continueAsNew<typeof certificateLifecycle>({
    ...input,
    generation: input.generation + 1,
    currentVersion: status.currentVersion,
    renewalReason: reason,
  });
}

function describeFailure(error: unknown, attempt: number): LifecycleError {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  const type = cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : cause instanceof Error ? cause.name : 'Error';
  const message = cause instanceof Error ? cause.message : String(cause);
  return { type, message, at: new Date(Date.now()).toISOString(), attempt };
}
