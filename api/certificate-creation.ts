/**
 * `POST /v1/certificates` after parsing and authorization: plan the certificate, store it, start
 * its lifecycle, and (with an `Idempotency-Key`) make retries of the same request land on the
 * same certificate. Rules for keys: api/idempotency.ts; telling a failed start from a lost answer:
 * api/certificate-start.ts.
 */
import { randomUUID } from 'node:crypto';
import { activeCertificatesRefusal, validityRefusals } from '../core/fair-use.js';
import { lifecycleWorkflowId } from '../contracts/lifecycle-messages.js';
import { countActiveCertificates, deleteCertificate, insertCertificate, lockTeamDecisions, type NewCertificate } from '../db/certificates.js';
import { databaseKeyBlocklist } from '../db/blocked-keys.js';
import {
  claimIdempotencyKey,
  deleteExpiredIdempotencyKeys,
  deleteIdempotencyKey,
  findIdempotencyKey,
  recordAnswer,
  recordLifecycleStart,
  releaseIdempotencyKey,
  takeOverIdempotencyKey,
  type IdempotencyRow,
} from '../db/idempotency.js';
import { appendAuditEvent } from '../db/audit.js';
import { claimDestinations, type ClaimConflict, type DestinationClaim, type ReleasedClaim } from '../db/destination-claims.js';
import { newId } from '../db/ids.js';
import type { Queryable } from '../db/database.js';
import type { TeamRow } from '../db/teams.js';
import { approvalPlan, destinationPlans, keySourceFor, refuseKubernetesWithoutServerKey, refuseServerKeysForAgents, storedDestinations } from './certificate-plan.js';
import { canonicalizeCertificateRequest, certificateColumnsOf, type CanonicalCertificateRequest } from './certificate-request.js';
import { startAndConfirm } from './certificate-start.js';
import { checkDestinationHosts, destinationClaimed, destinationClaims } from './destination-checks.js';
import type { ApiDeps, Principal } from './deps.js';
import { IDEMPOTENCY_LEASE_SECONDS, IDEMPOTENCY_RETENTION_SECONDS, idempotencyProblems, idempotencyScope } from './idempotency.js';
import type { StartLifecycle } from './lifecycle-client.js';
import { ProblemError, problems } from './problem.js';
import { quotaExceeded } from './quota-problem.js';
import { reservedNameIn } from './reserved-names.js';
import { MIN_VALIDITY_SECONDS, type CreateCertificateBody } from './schemas.js';
import { auditActor } from './audit-actor.js';

/** How long a retry waits for the answer of a request with its key still under way before it gets 409. */
const IN_PROGRESS_WAIT_MS = 5_000;
const IN_PROGRESS_POLL_MS = 100;

export interface CreationRequest {
  principal: Principal;
  team: TeamRow;
  body: CreateCertificateBody;
  /** An ACME order being finalized (api/acme/finalize.ts): the certificate is its account's, keyed by its CSR. */
  acme?: AcmeCreation;
  /**
   * A cert-manager request (api/kubernetes-renewal.ts): runs in the transaction that stores the
   * certificate, under the team's lock; it refuses (throws) when the Certificate has a live one already.
   */
  kubernetes?: { stored: (tx: Queryable, certificateId: string) => Promise<void> };
}

/**
 * The ACME side of a creation: `stored` runs in the transaction that stores the certificate (it
 * marks the order processing, or throws to refuse), `forgotten` in the one that removes a
 * certificate whose start failed (it puts the order back).
 */
export interface AcmeCreation {
  accountId: string;
  stored: (tx: Queryable, certificateId: string) => Promise<void>;
  forgotten: (tx: Queryable, certificateId: string) => Promise<void>;
}

/** An answer to send as is: `json` is the body's exact text, the same bytes for every replay. */
export interface CreationAnswer {
  status: number;
  certificateId: string;
  json: string;
}

/** The 202 answer, a function of the start alone so that a resumed request answers like the first. */
function accepted(start: StartLifecycle): CreationAnswer {
  const approval = start.input.approval;
  const body = {
    id: start.certificateId,
    workflowId: lifecycleWorkflowId(start.certificateId),
    state: approval ? 'awaiting_approval' : 'pending',
    approval: approval ? { id: approval.approvalId, reasons: approval.reasons } : null,
  };
  return { status: 202, certificateId: start.certificateId, json: JSON.stringify(body) };
}

/**
 * Everything decided before anything is written, except what depends on the team's other
 * certificates (approval, quota: decideAndStore); refusals are thrown as ProblemErrors.
 */
async function planCertificate(
  deps: ApiDeps,
  { principal, team, body, acme }: CreationRequest,
  id: string,
): Promise<{ row: NewCertificate; start: StartLifecycle; request: CanonicalCertificateRequest; claims: DestinationClaim[] }> {
  const refusals = validityRefusals(body.validity, body.renewBefore ?? null, deps.minValiditySeconds ?? MIN_VALIDITY_SECONDS);
  if (refusals.length > 0) throw problems.validation(refusals.map((refusal) => refusal.message).join('; '), refusals);
  const request = await canonicalizeCertificateRequest(body, team, databaseKeyBlocklist(deps.db));
  const reserved = reservedNameIn(request, team.name, deps.reservedNames ?? []);
  if (reserved) throw problems.policyViolation('name_reserved', `"${reserved}" is one of the platform's own names; only the platform may have certificates for it`);
  checkDestinationHosts(body.destinations, team.policy.destinationHosts, deps.destinationRules);
  const claims = destinationClaims(body.destinations, deps.fileDestinationRoot);
  const destinations = await storedDestinations(deps.db, deps.sealingPublicKey, id, team, body.destinations);
  const keySource = acme ? 'acme' : body.kubernetes ? 'kubernetes' : keySourceFor(body, destinations);
  refuseServerKeysForAgents(keySource, destinations);
  refuseKubernetesWithoutServerKey(keySource, destinations);
  const row: NewCertificate = {
    id,
    teamId: team.id,
    ...certificateColumnsOf(request, body),
    renewBeforeSeconds: body.renewBefore ?? null,
    keySource,
    destinations,
    state: 'pending',
    workflowId: lifecycleWorkflowId(id),
    requestedBy: principal.tokenId,
    requestedByPrincipal: principal.accountableId,
    source: acme ? 'acme' : body.kubernetes ? 'kubernetes' : 'api',
    acmeAccountId: acme?.accountId ?? null,
    kubernetes: acme ? null : (body.kubernetes ?? null),
  };
  const start: StartLifecycle = {
    certificateId: id,
    teamName: team.name,
    commonName: request.commonName,
    input: {
      certificateId: id,
      generation: 1,
      destinations: destinationPlans(destinations),
      keySource,
      approval: null,
      renewBeforeSeconds: body.renewBefore ?? null,
    },
  };
  return { row, start, request, claims };
}

/**
 * Stores the certificate (and, with a key, its start next to it) and launches it. The quota and
 * the approval are decided in the transaction that stores the row, under the team's lock: two
 * racing requests cannot both see "under quota" or "no pending request, no approval needed". The
 * destinations are claimed in the same transaction, so a refused request leaves nothing behind.
 */
async function storeAndLaunch(deps: ApiDeps, creation: CreationRequest, id: string, claim: IdempotencyRow | null): Promise<CreationAnswer> {
  const { row, start: planned, request, claims } = await planCertificate(deps, creation, id);
  const { team, principal, body } = creation;
  let start = planned;
  const { quotas, approval: rules } = team.policy;
  const countsActive = quotas?.maxActiveCertificates !== undefined;
  let refused: ClaimConflict | null = null;
  const claimed = await deps.db
    .transaction(async (tx) => {
      // Only decisions that read the team's other certificates need the lock.
      if (countsActive || rules?.newNames || creation.kubernetes) await lockTeamDecisions(tx, team.id, 'certificate-requests');
      const refusal = countsActive ? activeCertificatesRefusal(quotas, await countActiveCertificates(tx, team.id)) : null;
      if (refusal) throw quotaExceeded(refusal);
      const approval = await approvalPlan(tx, { approvalId: newId('apr'), team, requestedBy: principal.tokenId, requestedByPrincipal: principal.accountableId, request, body });
      start = { ...planned, input: { ...planned.input, approval } };
      await insertCertificate(tx, { ...row, state: approval ? 'awaiting_approval' : 'pending' });
      await creation.acme?.stored(tx, id);
      await creation.kubernetes?.stored(tx, id);
      const outcome = await claimDestinations(tx, { certificateId: id, teamId: team.id }, claims);
      if (outcome.conflict) {
        refused = outcome.conflict;
        throw destinationClaimed(outcome.conflict, body.destinations[outcome.conflict.index]!, team.id);
      }
      // Lost only if this request outlived its lease and a retry took over: that retry carries on.
      if (claim && !(await recordLifecycleStart(tx, claim, start))) throw idempotencyProblems.inProgress(claim.key);
      return outcome;
    })
    .catch(async (error: unknown) => {
      if (refused) await recordClaimRefused(deps, creation, id, refused).catch(() => undefined);
      throw error;
    });
  await recordRequested(deps, creation, row, start).catch(async (error: unknown) => {
    // Unrecorded means not requested: the stored row goes (with its claims), as when the start fails.
    await forget(deps, start.certificateId, claim, creation.acme).catch(() => undefined);
    throw error;
  });
  const answer = await launch(deps, start, claim, creation.acme);
  // After the start, so that a failing audit append cannot leave a stored certificate without its lifecycle.
  if (claims.length > 0) await recordClaims(deps, creation, id, claims, claimed.conflict === null ? claimed.released : []).catch(() => undefined);
  return answer;
}

/** `certificate.requested`, before the start: the log says what was asked before what was issued. */
async function recordRequested(deps: ApiDeps, creation: CreationRequest, row: NewCertificate, start: StartLifecycle): Promise<void> {
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    ...auditActor(creation.principal),
    action: 'certificate.requested',
    teamId: row.teamId,
    certificateId: row.id,
    details: {
      commonName: row.commonName,
      dnsNames: row.dnsNames,
      ipAddresses: row.ipAddresses,
      uris: row.uris,
      profile: row.profile,
      keyAlgorithm: row.keyAlgorithm,
      validitySeconds: row.validitySeconds,
      keySource: row.keySource,
      destinations: row.destinations.map((destination) => destination.type),
      approvalId: start.input.approval?.approvalId ?? null,
      ...(row.source === 'acme' ? { source: 'acme', acmeAccountId: row.acmeAccountId } : {}),
      ...(row.source === 'kubernetes' ? { source: 'kubernetes', kubernetes: row.kubernetes } : {}),
    },
    // A retry with the same Idempotency-Key stores the same certificate again: one event.
    dedupeKey: `certificate-requested/${row.id}`,
  });
}

async function recordClaims(deps: ApiDeps, request: CreationRequest, certificateId: string, claims: DestinationClaim[], released: ReleasedClaim[]): Promise<void> {
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    ...auditActor(request.principal),
    action: 'destination.claimed',
    teamId: request.team.id,
    certificateId,
    details: { keys: claims.map((claim) => claim.key), takenOverFromEndedCertificates: released },
  });
}

/** A certificate that tried to write where another one does: worth a line in the audit log (nothing else is kept). */
async function recordClaimRefused(deps: ApiDeps, request: CreationRequest, certificateId: string, conflict: ClaimConflict): Promise<void> {
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    ...auditActor(request.principal),
    action: 'destination.claim_refused',
    teamId: request.team.id,
    certificateId: null,
    details: { refusedCertificateId: certificateId, key: conflict.key, ownerTeamId: conflict.ownerTeamId, ownerCertificateId: conflict.ownerCertificateId },
  });
}

async function launch(deps: ApiDeps, start: StartLifecycle, claim: IdempotencyRow | null, acme?: AcmeCreation): Promise<CreationAnswer> {
  const workflowId = lifecycleWorkflowId(start.certificateId);
  const outcome = await startAndConfirm(deps.temporal, deps.taskQueue, workflowId, start);
  if (outcome.kind === 'started') {
    const answer = accepted(start);
    // The certificate is started whatever happens next: if Postgres fails now, the answer is still
    // given, and a retry with the same key resumes it once the lease ends (the start is kept).
    if (claim) await recordAnswer(deps.db, claim, answer.status, answer.json).catch(() => undefined);
    return answer;
  }
  if (outcome.kind === 'not-started') {
    // No workflow means no owner: remove the row (and the key, so it can be used again) and say so.
    await forget(deps, start.certificateId, claim, acme);
    throw problems.unavailable(`the certificate could not be handed to the workflow engine (${outcome.error.message}); nothing was created, retry later`);
  }
  // The start may have happened: keep the row, and let a retry with the same key resume it.
  if (claim) await releaseIdempotencyKey(deps.db, claim);
  throw startUnconfirmed(
    { certificateId: start.certificateId, workflowId },
    `certificate "${start.certificateId}" is stored but the workflow engine did not confirm that its lifecycle started (${outcome.error.message}); ` +
      (claim
        ? 'retry the same request with the same Idempotency-Key: it resumes this certificate and creates no other'
        : 'send requests with an Idempotency-Key so that a retry can resume the certificate instead of creating another'),
  );
}

/** Removes a certificate that was stored but never started (its claims go with it) and frees its Idempotency-Key. */
async function forget(deps: ApiDeps, certificateId: string, claim: IdempotencyRow | null, acme?: AcmeCreation): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await acme?.forgotten(tx, certificateId);
    await deleteCertificate(tx, certificateId);
    if (claim) await deleteIdempotencyKey(tx, claim);
  });
}

export function startUnconfirmed(certificate: { certificateId: string; workflowId: string }, detail: string): ProblemError {
  return new ProblemError(503, 'start-unconfirmed', 'Certificate stored, its start is not confirmed', detail, certificate);
}

/** Without a key: a new certificate per request. */
export async function createCertificate(deps: ApiDeps, request: CreationRequest): Promise<CreationAnswer> {
  return storeAndLaunch(deps, request, newId('crt'), null);
}

/**
 * With a key: the first request claims it (with a lease) and creates; a repeat gets the stored
 * answer, waits while the first is under way, or resumes it when its lease ran out unanswered.
 */
export async function createIdempotently(deps: ApiDeps, request: CreationRequest, key: string, requestHash: string): Promise<CreationAnswer> {
  const scope = idempotencyScope(request.principal);
  const holder = randomUUID();
  const waitUntil = Date.now() + IN_PROGRESS_WAIT_MS;
  for (;;) {
    const claim = await claimIdempotencyKey(deps.db, {
      scope,
      key,
      requestHash,
      certificateId: newId('crt'),
      holder,
      leaseSeconds: IDEMPOTENCY_LEASE_SECONDS,
      retentionSeconds: IDEMPOTENCY_RETENTION_SECONDS,
    });
    if (claim) return withRelease(deps, claim, () => storeAndLaunch(deps, request, claim.certificateId, claim));

    const existing = await findIdempotencyKey(deps.db, scope, key);
    if (existing) {
      if (existing.requestHash !== requestHash) throw idempotencyProblems.reusedWithAnotherRequest(key);
      if (existing.responseStatus !== null && existing.responseBody !== null) {
        return { status: existing.responseStatus, certificateId: existing.certificateId, json: existing.responseBody };
      }
      const resumed = await takeOverIdempotencyKey(deps.db, existing, holder, IDEMPOTENCY_LEASE_SECONDS);
      if (resumed) {
        return withRelease(deps, resumed, () =>
          resumed.start ? launch(deps, resumed.start, resumed) : storeAndLaunch(deps, request, resumed.certificateId, resumed),
        );
      }
      if (Date.now() >= waitUntil) throw idempotencyProblems.inProgress(key);
      await new Promise((resolve) => setTimeout(resolve, IN_PROGRESS_POLL_MS));
    }
    // No row: it expired and was purged between the two statements; claim again.
  }
}

/**
 * A refusal (policy, validation) before anything was stored forgets the key, so that it can be
 * used again once the request is fixed. Other failures end the lease so that a retry resumes.
 */
async function withRelease(deps: ApiDeps, claim: IdempotencyRow, work: () => Promise<CreationAnswer>): Promise<CreationAnswer> {
  try {
    return await work();
  } catch (error) {
    // A 503 (not started, or start unconfirmed) has settled the key already; so has a lost lease.
    const settled = error instanceof ProblemError && (error.status === 503 || error.slug === 'idempotency-key-in-progress');
    if (!settled) {
      const current = await findIdempotencyKey(deps.db, claim.scope, claim.key).catch(() => null);
      if (current && current.holder === claim.holder) {
        await (current.start || !(error instanceof ProblemError) ? releaseIdempotencyKey(deps.db, claim) : deleteIdempotencyKey(deps.db, claim)).catch(() => undefined);
      }
    }
    throw error;
  }
}

/** At most once an hour per API process: forget keys older than the retention. */
export function expiredKeyPurger(deps: ApiDeps): () => Promise<void> {
  let next = 0;
  return async () => {
    const now = Date.now();
    if (now < next) return;
    next = now + 3600_000;
    await deleteExpiredIdempotencyKeys(deps.db, IDEMPOTENCY_RETENTION_SECONDS);
  };
}
