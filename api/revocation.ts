/**
 * POST /v1/certificates/:id/revoke: hands the revocation to the certificate's lifecycle workflow
 * (durable once Temporal has it, even with no worker up) and answers 202. A revocation that
 * completes within a moment is reported as done; otherwise the answer says `revoking`.
 */
import type { RevocationReason } from '../core/types.js';
import { findCertificate, type CertificateRow } from '../db/certificates.js';
import { findTeam } from '../db/teams.js';
import { findVersion, listVersions } from '../db/versions.js';
import type { ApiDeps } from './deps.js';
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

export async function requestRevocation(deps: ApiDeps, certificate: CertificateRow, reason: RevocationReason): Promise<RevocationAnswer> {
  const team = await findTeam(deps.db, certificate.teamId);
  const current = certificate.currentVersionId ? await findVersion(deps.db, certificate.currentVersionId) : null;
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
  for (const deadline = Date.now() + SETTLE_MS; Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if ((await findCertificate(deps.db, certificate.id))?.state !== 'revoked') continue;
    const revoked = (await listVersions(deps.db, certificate.id)).filter((version) => version.status === 'revoked');
    const revokedAt = revoked.map((version) => version.revokedAt!).sort((a, b) => b.getTime() - a.getTime())[0];
    return { id: certificate.id, state: 'revoked', revokedAt: revokedAt?.toISOString() ?? null, revokedSerials: revoked.map((version) => version.serial) };
  }
  return { id: certificate.id, state: 'revoking', revokedAt: null, revokedSerials: [] };
}
