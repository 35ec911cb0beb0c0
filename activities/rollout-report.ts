/**
 * Records how a rollout ended for people: `rollout_failed` with the reasons (state, audit log,
 * an alert to the team), or back to `active` once a retried rollout succeeds.
 */
import type { RolloutFailure } from '../core/lifecycle.js';
import { appendAuditEvent } from '../db/audit.js';
import { findCertificate, setCertificateState } from '../db/certificates.js';
import { enqueueNotification } from '../db/notifications.js';
import type { ActivityDeps } from './deps.js';

export interface RolloutReportInput {
  certificateId: string;
  versionId: string;
  /** A deterministic name of this report (e.g. `g3/rollout/2`): the dedupe key of its side effects. */
  rolloutKey: string;
  failures: RolloutFailure[];
  /** The version the failed destinations were rolled back to (still valid, never revoked by this). */
  previousVersionId: string | null;
}

export async function reportRolloutFailed(deps: ActivityDeps, input: RolloutReportInput): Promise<void> {
  const certificate = await findCertificate(deps.db, input.certificateId);
  if (!certificate) return;
  await setCertificateState(deps.db, certificate.id, 'rollout_failed');
  for (const failure of input.failures) {
    deps.metrics?.rolloutFailures.inc({ destination_type: certificate.destinations[failure.destinationIndex]?.type ?? 'unknown' });
  }
  const summary = input.failures.map((failure) => `destination #${failure.destinationIndex}: ${failure.reason}`).join('; ');
  const key = `${certificate.id}/${input.rolloutKey}/failed`;
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor: 'workflow',
    action: 'rollout.failed',
    teamId: certificate.teamId,
    certificateId: certificate.id,
    details: { versionId: input.versionId, rolledBackTo: input.previousVersionId, failures: input.failures },
    dedupeKey: key,
  });
  await enqueueNotification(deps.db, {
    teamId: certificate.teamId,
    certificateId: certificate.id,
    kind: 'rollout_failed',
    recipients: ['team'],
    message: `the new certificate of ${certificate.id} is not served (${summary}); ${
      input.previousVersionId ? 'the destinations were rolled back to the previous certificate, which stays valid' : 'there is no previous certificate to roll back to'
    }; the rollout is retried automatically or with POST /v1/certificates/${certificate.id}/retry-rollout`,
    details: { versionId: input.versionId, rolledBackTo: input.previousVersionId, failures: input.failures },
    dedupeKey: key,
  });
}

export async function reportRolloutRecovered(deps: ActivityDeps, input: { certificateId: string; versionId: string; rolloutKey: string }): Promise<void> {
  const certificate = await findCertificate(deps.db, input.certificateId);
  if (!certificate) return;
  await setCertificateState(deps.db, certificate.id, 'active');
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor: 'workflow',
    action: 'rollout.recovered',
    teamId: certificate.teamId,
    certificateId: certificate.id,
    details: { versionId: input.versionId },
    dedupeKey: `${certificate.id}/${input.rolloutKey}/recovered`,
  });
}
