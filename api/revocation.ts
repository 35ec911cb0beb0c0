/**
 * POST /v1/certificates/:id/revoke: hands the revocation to the certificate's lifecycle workflow
 * (durable once Temporal has it, even with no worker up) and answers 202. A revocation that
 * completes within a moment is reported as done; otherwise the answer says `revoking`.
 */
import type { RevocationReason } from '../core/types.js';
import { findCertificate, type CertificateRow } from '../db/certificates.js';
import { findTeam } from '../db/teams.js';
import { findVersion, listVersions } from '../db/versions.js';
import { appendAuditEvent } from '../db/audit.js';
import { auditActor } from './audit-actor.js';
import type { ApiDeps, Principal } from './deps.js';
import { signalRevoke } from './lifecycle-client.js';

/** How long the answer waits for the revocation to be recorded before it says `revoking`. */
const SETTLE_MS = 1_500;
const POLL_MS = 100;

export interface RevocationAnswer {
  id: string;
  state: 'revoking' | 'revoked';
  revokedAt: string | null;
  revokedSerials: string[];
}

export async function requestRevocation(deps: ApiDeps, certificate: CertificateRow, reason: RevocationReason, by: Principal): Promise<RevocationAnswer> {
  const team = await findTeam(deps.db, certificate.teamId);
  const current = certificate.currentVersionId ? await findVersion(deps.db, certificate.currentVersionId) : null;
  // Recorded before the signal, so it precedes the revocation it leads to (the worker may be quicker than this answer).
  await appendAuditEvent(deps.db, { at: deps.now(), ...auditActor(by), action: 'certificate.revocation_requested', teamId: certificate.teamId, certificateId: certificate.id, details: { reason } });
  await signalRevoke(
    deps.temporal,
    deps.taskQueue,
    {
      certificateId: certificate.id,
      teamName: team?.name ?? certificate.teamId,
      commonName: certificate.commonName,
      // Used only when the certificate's run has closed: a run that revokes and ends.
      input: { certificateId: certificate.id, generation: current?.generation ?? 1, currentVersion: null, destinations: [], keySource: certificate.keySource },
    },
    { reason },
  );
  // Accepted from here on: a failure while looking at its progress still answers `revoking`.
  const revoking: RevocationAnswer = { id: certificate.id, state: 'revoking', revokedAt: null, revokedSerials: [] };
  return (await revokedWithin(deps, certificate.id, SETTLE_MS).catch(() => null)) ?? revoking;
}

/** The revocation as recorded, if it is recorded within `waitMs`. */
async function revokedWithin(deps: ApiDeps, certificateId: string, waitMs: number): Promise<RevocationAnswer | null> {
  for (const deadline = Date.now() + waitMs; Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const row = await findCertificate(deps.db, certificateId);
    if (row?.state !== 'revoked') continue;
    const revoked = (await listVersions(deps.db, certificateId)).filter((version) => version.status === 'revoked');
    return { id: certificateId, state: 'revoked', revokedAt: row.revokedAt?.toISOString() ?? null, revokedSerials: revoked.map((version) => version.serial) };
  }
  return null;
}
