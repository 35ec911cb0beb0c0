import { Context } from '@temporalio/activity';
import type { RevocationReason } from '../core/types.js';
import { spkiSha256Hex } from '../ca/key-checks.js';
import { certificateFacts } from '../ca/certificate-facts.js';
import { blockKey } from '../db/blocked-keys.js';
import { listVersions, revokeCertificateVersions } from '../db/versions.js';
import { findCertificate } from '../db/certificates.js';
import { recordVersionsRevoked } from './audit-records.js';
import type { ActivityDeps } from './deps.js';
import { publishCrl } from './publish-crl.js';
import { refreshOcspResponses } from './publish-ocsp.js';

export interface RevokeCertificateInput {
  certificateId: string;
  reason: RevocationReason;
}

/** In-activity attempts at publishing after the revocation is recorded, and the pause before each retry. */
const PUBLISH_RETRY_DELAYS_MS = [250, 1_000];

/**
 * Revokes every version of the certificate that is not revoked yet, then publishes the revocation:
 * new OCSP responses for the revoked serials and a new CRL of every issuer concerned. Idempotent.
 *
 * Publishing never fails the activity: the revocation is already recorded, and the lifecycle must
 * not fail over a CRL. If publishing still fails after a few tries, the hourly `crlPublication`
 * schedule publishes it (it re-signs every OCSP response that disagrees with the database).
 */
export async function revokeCertificate(deps: ActivityDeps, input: RevokeCertificateInput): Promise<{ revokedAt: string; serials: string[] }> {
  const at = deps.now();
  const revoked = await revokeCertificateVersions(deps.db, input.certificateId, input.reason, at);
  // Every revoked version, not just this attempt's: a retry records what an earlier attempt revoked.
  const certificate = await findCertificate(deps.db, input.certificateId);
  await recordVersionsRevoked(deps.db, await listVersions(deps.db, input.certificateId), certificate?.teamId ?? null);
  await blockCompromisedKeys(deps, input.certificateId);
  await publishRevocation(deps, input.certificateId);
  return { revokedAt: at.toISOString(), serials: revoked.map((version) => version.serial) };
}

/**
 * A key revoked for keyCompromise must never be certified again: its SPKI goes on the blocklist.
 * Reads every such version (not just this attempt's), so a retried activity still blocks them.
 */
async function blockCompromisedKeys(deps: ActivityDeps, certificateId: string): Promise<void> {
  for (const version of await listVersions(deps.db, certificateId)) {
    if (version.status !== 'revoked' || version.revocationReason !== 'keyCompromise') continue;
    const spkiSha256 = spkiSha256Hex(certificateFacts(version.certificatePem).spkiDer);
    await blockKey(deps.db, { spkiSha256, reason: 'keyCompromise', sourceVersionId: version.id });
  }
}

/** Publishes for all revoked versions of the certificate — also those an earlier attempt of this activity revoked. */
export async function publishRevocation(deps: ActivityDeps, certificateId: string): Promise<void> {
  const serialsByIssuer = new Map<string, string[]>();
  for (const version of await listVersions(deps.db, certificateId)) {
    if (version.status !== 'revoked' || version.issuerId === null) continue;
    serialsByIssuer.set(version.issuerId, [...(serialsByIssuer.get(version.issuerId) ?? []), version.serial]);
  }
  for (const [issuerId, serials] of serialsByIssuer) {
    for (let attempt = 0; ; attempt++) {
      try {
        await refreshOcspResponses(deps, { issuerId, serials });
        await publishCrl(deps, { issuerId });
        break;
      } catch (error) {
        if (attempt >= PUBLISH_RETRY_DELAYS_MS.length) {
          warn('publishing the revocation failed; the crl-publication schedule will publish it', { certificateId, issuerId, error: String(error) });
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, PUBLISH_RETRY_DELAYS_MS[attempt]));
      }
    }
  }
}

function warn(message: string, meta: Record<string, unknown>): void {
  let context: Context | null = null;
  try {
    context = Context.current();
  } catch {
    // Called outside an activity (tests): no activity logger.
  }
  if (context) context.log.warn(message, meta);
  else console.warn(message, meta);
}
