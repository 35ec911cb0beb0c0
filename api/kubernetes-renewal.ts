/**
 * A cert-manager CertificateRequest (`POST /v1/certificates` with `kubernetes`, from `certflow k8s-issuer`).
 * cert-manager renews a Certificate by making a new CertificateRequest for it: when the team has a
 * live certificate for the same Certificate (cluster, namespace, name), the request is that
 * certificate's next generation, as an ACME client's renewal order is (api/acme/replacement.ts): the
 * request's names and CSR become the certificate's, its lifecycle gets `clientRenewed` and issues
 * them (the previous version is superseded), and bulk operations waiting count it reissued.
 * Otherwise the request becomes a new certificate, its first generation.
 *
 * The request's UID is the key: a retried submission answers with the generation it took. Both
 * paths decide under the team's certificate-requests lock, so two requests for one Certificate
 * cannot both create a certificate, and `(certificate, generation)` is unique, so they cannot both
 * take the next generation.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, desc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { renewalRateRefusal, RENEWAL_QUOTA_WINDOW_SECONDS, validityRefusals } from '../core/fair-use.js';
import type { CertState, KubernetesRef } from '../core/types.js';
import { clientRenewedSignal } from '../contracts/acme-messages.js';
import { lifecycleWorkflowId } from '../contracts/lifecycle-messages.js';
import { appendAuditEventInTransaction } from '../db/audit.js';
import { databaseKeyBlocklist } from '../db/blocked-keys.js';
import { lockTeamDecisions, type CertificateRow } from '../db/certificates.js';
import type { Queryable } from '../db/database.js';
import { RENEWAL_REQUESTED_ACTION, renewalRequestTimes } from '../db/renewal-requests.js';
import { certificates, certificateVersions, kubernetesRequests } from '../db/schema.js';
import { isUniqueViolation } from './acme/replacement.js';
import { auditActor } from './audit-actor.js';
import { approvalPlan } from './certificate-plan.js';
import { createCertificate, createIdempotently, type CreationAnswer, type CreationRequest } from './certificate-creation.js';
import { canonicalizeCertificateRequest, certificateColumnsOf, type CanonicalCertificateRequest } from './certificate-request.js';
import type { ApiDeps } from './deps.js';
import { problems } from './problem.js';
import { quotaExceeded } from './quota-problem.js';
import { reservedNameIn } from './reserved-names.js';
import { MIN_VALIDITY_SECONDS } from './schemas.js';

/** States in which the certificate waits for cert-manager's next request. */
const AWAITING_CLIENT: CertState[] = ['active', 'renewal_overdue'];
/** States of certificates that no longer stand for the Certificate: a new request makes a new certificate. */
const LEFT_BEHIND: CertState[] = ['revoking', 'revoked', 'rejected', 'approval_expired', 'failed', 'rollout_failed'];

type KubernetesCreation = CreationRequest & { body: CreationRequest['body'] & { kubernetes: KubernetesRef } };

/** Renews the Certificate's live certificate, or creates its first one (with the Idempotency-Key, if given). */
export async function submitKubernetesRequest(deps: ApiDeps, creation: KubernetesCreation, key: string | null, requestHash: string): Promise<CreationAnswer> {
  const ref = creation.body.kubernetes;
  // Only a request made for a cert-manager Certificate (it has a revision) renews anything.
  if (ref.revision === undefined) return key ? createIdempotently(deps, creation, key, requestHash) : createCertificate(deps, creation);
  for (let attempt = 1; ; attempt++) {
    const taken = await generationOfRequest(deps.db, creation.team.id, ref.uid);
    // A first generation with its Idempotency-Key is answered below, by the key's stored answer.
    if (taken && (taken.generation > 1 || !key)) return answer(taken.certificate, taken.generation);
    if (taken) return createIdempotently(deps, creation, key!, requestHash);
    const live = await liveCertificate(deps.db, creation.team.id, ref, null);
    try {
      if (live && AWAITING_CLIENT.includes(live.state) && live.currentVersionId) return await renewThroughCertManager(deps, creation, live);
      // Its current generation is still being decided or issued (pending, awaiting_approval, issuing, renewing).
      if (live) throw stillIssuing(live);
      const withFirstGeneration = { ...creation, kubernetes: { stored: (tx: Queryable, id: string) => storeFirstGeneration(tx, creation, id) } };
      return await (key ? createIdempotently(deps, withFirstGeneration, key, requestHash) : createCertificate(deps, withFirstGeneration));
    } catch (error) {
      // Another request for the Certificate won the race (or this one's UID was recorded meanwhile): decide again.
      if ((error instanceof LostRace || isUniqueViolation(error)) && attempt < 3) continue;
      if (error instanceof LostRace || isUniqueViolation(error)) throw problems.conflict(`another CertificateRequest for Certificate ${ref.namespace}/${ref.name} is being submitted; retry`);
      throw error;
    }
  }
}

class LostRace extends Error {}

/** The 202 answer for a generation the request took: a renewal is `renewing`; a first one as its creation answered. */
function answer(certificate: Pick<CertificateRow, 'id' | 'state'>, generation: number): CreationAnswer {
  const state = generation > 1 ? 'renewing' : certificate.state === 'awaiting_approval' ? 'awaiting_approval' : 'pending';
  const body = { id: certificate.id, workflowId: lifecycleWorkflowId(certificate.id), state, generation, approval: null };
  return { status: 202, certificateId: certificate.id, json: JSON.stringify(body) };
}

function stillIssuing(live: CertificateRow): Error {
  return problems.conflict(
    `certificate ${live.id} of this Certificate is ${live.state}; a new request for it is taken once that one is decided and issued: retry later`,
  );
}

async function generationOfRequest(db: Queryable, teamId: string, uid: string): Promise<{ certificate: CertificateRow; generation: number } | null> {
  const [row] = await db
    .select({ certificate: certificates, generation: kubernetesRequests.generation })
    .from(kubernetesRequests)
    .innerJoin(certificates, eq(certificates.id, kubernetesRequests.certificateId))
    .where(and(eq(kubernetesRequests.uid, uid), eq(certificates.teamId, teamId)));
  return row ?? null;
}

/** The team's newest certificate that still stands for the Certificate (any but `except`). */
async function liveCertificate(db: Queryable, teamId: string, ref: KubernetesRef, except: string | null): Promise<CertificateRow | null> {
  const rows = await db
    .select()
    .from(certificates)
    .where(
      and(
        eq(certificates.teamId, teamId),
        eq(certificates.source, 'kubernetes'),
        notInArray(certificates.state, LEFT_BEHIND),
        sql`${certificates.kubernetes}->>'cluster' = ${ref.cluster}`,
        sql`${certificates.kubernetes}->>'namespace' = ${ref.namespace}`,
        sql`${certificates.kubernetes}->>'name' = ${ref.name}`,
        sql`${certificates.kubernetes} ? 'revision'`,
      ),
    )
    .orderBy(desc(certificates.createdAt))
    .limit(2);
  return rows.find((row) => row.id !== except) ?? null;
}

/** In the transaction that stores a new certificate: it is the Certificate's only live one, and its first request is recorded. */
async function storeFirstGeneration(tx: Queryable, creation: KubernetesCreation, certificateId: string): Promise<void> {
  const ref = creation.body.kubernetes;
  if (await liveCertificate(tx, creation.team.id, ref, certificateId)) throw new LostRace();
  await tx.insert(kubernetesRequests).values({ uid: ref.uid, certificateId, generation: 1, certificateRequest: ref.certificateRequest, revision: ref.revision ?? null });
}

/**
 * The request as the live certificate's next generation: checked like a new certificate (names,
 * key, policy), then recorded with its names and CSR on the certificate, the team's renewal quota
 * and the audit event in one transaction under the team's lock; then the signal, after the commit.
 */
async function renewThroughCertManager(deps: ApiDeps, creation: KubernetesCreation, live: CertificateRow): Promise<CreationAnswer> {
  const { team, body, principal } = creation;
  const ref = body.kubernetes;
  const refusals = validityRefusals(body.validity, body.renewBefore ?? null, deps.minValiditySeconds ?? MIN_VALIDITY_SECONDS);
  if (refusals.length > 0) throw problems.validation(refusals.map((refusal) => refusal.message).join('; '), refusals);
  const request = await canonicalizeCertificateRequest(body, team, databaseKeyBlocklist(deps.db));
  const reserved = reservedNameIn(request, team.name, deps.reservedNames ?? []);
  if (reserved) throw problems.policyViolation('name_reserved', `"${reserved}" is one of the platform's own names; only the platform may have certificates for it`);
  if (live.kubernetes?.revision !== undefined && ref.revision! < live.kubernetes.revision) {
    throw problems.conflict(`CertificateRequest ${ref.certificateRequest} is for revision ${ref.revision} of Certificate ${ref.namespace}/${ref.name}, which is at revision ${live.kubernetes.revision} already`);
  }
  const now = deps.now();
  let generation = 0;
  await deps.db.transaction(async (tx) => {
    await lockTeamDecisions(tx, team.id, 'certificate-requests');
    const [current] = await tx
      .select({ state: certificates.state, currentVersionId: certificates.currentVersionId, generation: certificateVersions.generation })
      .from(certificates)
      .innerJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
      .where(and(eq(certificates.id, live.id), inArray(certificates.state, AWAITING_CLIENT)));
    if (!current || current.currentVersionId !== live.currentVersionId) throw new LostRace();
    generation = current.generation + 1;
    if (namesChanged(live, request, body.profile)) {
      // The lifecycle asks an approver for a first generation only: names that would need one are refused here.
      const approval = await approvalPlan(tx, { approvalId: 'renewal', team, requestedBy: principal.tokenId, requestedByPrincipal: principal.accountableId, request, body });
      if (approval) {
        throw problems.policyViolation(
          'approval_required',
          `the renewal of certificate ${live.id} changes its names or profile in a way the team's policy sends to an approver (${approval.reasons.join(', ')}); ` +
            'a renewal cannot wait for one: request the new names under a new Certificate, or change the approval rules',
        );
      }
    }
    const quotas = team.policy.quotas;
    if (quotas?.maxRenewalsPerHour !== undefined) {
      const refusal = renewalRateRefusal(quotas, await renewalRequestTimes(tx, team.id, new Date(now.getTime() - RENEWAL_QUOTA_WINDOW_SECONDS * 1000)), now);
      if (refusal) throw quotaExceeded(refusal);
    }
    await tx.insert(kubernetesRequests).values({ uid: ref.uid, certificateId: live.id, generation, certificateRequest: ref.certificateRequest, revision: ref.revision ?? null });
    await tx
      .update(certificates)
      .set({
        ...certificateColumnsOf(request, body),
        kubernetes: ref,
        updatedAt: now,
      })
      .where(eq(certificates.id, live.id));
    await appendAuditEventInTransaction(tx, deps.db, {
      at: now,
      ...auditActor(principal),
      action: RENEWAL_REQUESTED_ACTION,
      teamId: team.id,
      certificateId: live.id,
      details: { reason: 'renewed by cert-manager', source: 'kubernetes', kubernetes: ref, generation, replacesVersionId: live.currentVersionId, dnsNames: request.dnsNames },
    });
  });
  try {
    await deps.temporal.workflow.getHandle(live.workflowId).signal(clientRenewedSignal, { generation });
  } catch (error) {
    // Not handed over: the generation is given back, so that the controller's retry tries again.
    await deps.db.delete(kubernetesRequests).where(eq(kubernetesRequests.uid, ref.uid));
    if (error instanceof WorkflowNotFoundError) throw problems.conflict(`certificate ${live.id} has ended; retry to request a new one`);
    throw error;
  }
  return answer({ id: live.id, state: live.state }, generation);
}

function namesChanged(live: CertificateRow, request: CanonicalCertificateRequest, profile: string): boolean {
  const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);
  return (
    live.commonName !== request.commonName ||
    live.profile !== profile ||
    !same(live.dnsNames, request.dnsNames) ||
    !same(live.ipAddresses, request.ipAddresses) ||
    !same(live.uris, request.uris)
  );
}
