import type { RevocationReason } from '../core/types.js';
import { revokeCertificateVersions } from '../db/versions.js';
import type { ActivityDeps } from './deps.js';

export interface RevokeCertificateInput {
  certificateId: string;
  reason: RevocationReason;
}

/** Revokes every version of the certificate that is not revoked yet. Idempotent. */
export async function revokeCertificate(deps: ActivityDeps, input: RevokeCertificateInput): Promise<{ revokedAt: string; serials: string[] }> {
  const at = deps.now();
  const revoked = await revokeCertificateVersions(deps.db, input.certificateId, input.reason, at);
  return { revokedAt: at.toISOString(), serials: revoked.map((version) => version.serial) };
}
