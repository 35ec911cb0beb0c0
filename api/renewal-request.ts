/**
 * `POST /v1/certificates/:id/renew` after authorization: the team's maxRenewalsPerHour quota, the
 * renewNow signal, and the audit event the quota counts. Requests of one team are decided one after
 * the other (a per-team lock), so racing requests cannot exceed the quota. Responders and platform
 * admins (incident response) are not limited; timer renewals and bulk reissues never come here.
 */
import { auditActor } from './audit-actor.js';
import { renewalRateRefusal, RENEWAL_QUOTA_WINDOW_SECONDS } from '../core/fair-use.js';
import { appendAuditEvent, appendAuditEventInTransaction } from '../db/audit.js';
import { lockTeamDecisions, type CertificateRow } from '../db/certificates.js';
import { RENEWAL_REQUESTED_ACTION, renewalRequestTimes } from '../db/renewal-requests.js';
import { findTeam } from '../db/teams.js';
import { isPlatformAdmin } from './auth.js';
import type { ApiDeps, Principal } from './deps.js';
import { signalRenewNow } from './lifecycle-client.js';
import { quotaExceeded } from './quota-problem.js';

export async function requestRenewal(deps: ApiDeps, principal: Principal, certificate: CertificateRow, reason: string): Promise<void> {
  // Only the platform admin is exempt: a team admin can mint itself any team role, responder included.
  const exempt = isPlatformAdmin(principal);
  const team = exempt ? null : await findTeam(deps.db, certificate.teamId);
  const quotas = team?.policy.quotas;
  const now = deps.now();
  const event = { at: now, ...auditActor(principal), action: RENEWAL_REQUESTED_ACTION, teamId: certificate.teamId, certificateId: certificate.id, details: { reason } };
  // Recorded before the signal (as revocation does), so an append that fails leaves no renewal
  // unrecorded and uncounted. With a quota, counted and recorded in one transaction under the team's
  // lock, on one connection, so the next request of the team counts this one.
  if (quotas?.maxRenewalsPerHour !== undefined) {
    await deps.db.transaction(async (tx) => {
      await lockTeamDecisions(tx, certificate.teamId, 'renewal-requests');
      const recent = await renewalRequestTimes(tx, certificate.teamId, new Date(now.getTime() - RENEWAL_QUOTA_WINDOW_SECONDS * 1000));
      const refusal = renewalRateRefusal(quotas, recent, now);
      if (refusal) throw quotaExceeded(refusal);
      await appendAuditEventInTransaction(tx, deps.db, event);
    });
  } else {
    await appendAuditEvent(deps.db, event);
  }
  // After the commit: no lock or pooled connection is held while Temporal answers.
  await signalRenewNow(deps.temporal, certificate.workflowId, { reason });
}
