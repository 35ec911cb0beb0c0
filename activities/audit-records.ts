/**
 * The CA events activities record in the audit log. Each has a dedupe key derived from what it is
 * about (a version, an issuer), so a retried activity — or a retry that finds the work already done
 * and takes its early return — records it exactly once.
 */
import { appendAuditEvent, type AuditEvent } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { VersionRow } from '../db/versions.js';

/** The lifecycle and bulk workflows act for whoever started them; the API's events name that person. */
const WORKFLOW_ACTOR = 'workflow';

export async function recordVersionIssued(db: Database, version: VersionRow, teamId: string): Promise<void> {
  await appendAuditEvent(db, versionIssuedEvent(version, teamId));
}

function versionIssuedEvent(version: VersionRow, teamId: string): AuditEvent {
  return {
    at: version.createdAt,
    actor: WORKFLOW_ACTOR,
    action: 'certificate.issued',
    teamId,
    certificateId: version.certificateId,
    details: {
      versionId: version.id,
      generation: version.generation,
      serial: version.serial,
      issuerId: version.issuerId,
      notBefore: version.notBefore.toISOString(),
      notAfter: version.notAfter.toISOString(),
      fingerprintSha256: version.fingerprintSha256,
    },
    dedupeKey: `version-issued/${version.id}`,
  };
}

/** One `certificate.revoked` per revoked version (others are skipped), with its serial, issuer and reason. */
export async function recordVersionsRevoked(db: Database, versions: readonly VersionRow[], teamId: string | null, context: Record<string, unknown> = {}): Promise<void> {
  for (const version of versions) {
    if (version.status !== 'revoked') continue;
    await appendAuditEvent(db, {
      at: version.revokedAt ?? new Date(),
      actor: WORKFLOW_ACTOR,
      action: 'certificate.revoked',
      teamId,
      certificateId: version.certificateId,
      details: { versionId: version.id, generation: version.generation, serial: version.serial, issuerId: version.issuerId, reason: version.revocationReason, ...context },
      dedupeKey: `version-revoked/${version.id}`,
    });
  }
}
