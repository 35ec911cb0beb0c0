/**
 * What a delivery or a verification of one version to one destination reads (activities/deliver-version.ts,
 * activities/verify-served.ts), in one statement: the certificate, the version, the team, the
 * server-generated key of the version's generation, the rollout row, and the destination claims
 * the certificate holds.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { CertificateRow } from './certificates.js';
import type { Queryable } from './database.js';
import type { DeliveryRow } from './deliveries.js';
import type { CertificateKeyRow } from './keys.js';
import { certificateKeys, certificates, certificateVersions, deliveries, destinationClaims, teams } from './schema.js';
import type { TeamRow } from './teams.js';
import type { VersionRow } from './versions.js';

export interface RolloutContext {
  certificate: CertificateRow;
  version: VersionRow;
  team: TeamRow | null;
  key: CertificateKeyRow | null;
  rollout: DeliveryRow | null;
  claimedKeys: string[];
}

/** null when the version is not this certificate's (or either does not exist). */
export async function findRolloutContext(db: Queryable, input: { certificateId: string; versionId: string; destinationIndex: number }): Promise<RolloutContext | null> {
  const [row] = await db
    .select({
      certificate: certificates,
      version: certificateVersions,
      team: teams,
      key: certificateKeys,
      rollout: deliveries,
      claimedKeys: sql<string[]>`coalesce((select json_agg(${destinationClaims.key}) from ${destinationClaims} where ${destinationClaims.certificateId} = ${certificates.id}), '[]'::json)`,
    })
    .from(certificates)
    .innerJoin(certificateVersions, and(eq(certificateVersions.id, input.versionId), eq(certificateVersions.certificateId, certificates.id)))
    .leftJoin(teams, eq(teams.id, certificates.teamId))
    .leftJoin(certificateKeys, and(eq(certificateKeys.certificateId, certificates.id), eq(certificateKeys.generation, certificateVersions.generation)))
    .leftJoin(deliveries, and(eq(deliveries.versionId, certificateVersions.id), eq(deliveries.destinationIndex, input.destinationIndex)))
    .where(eq(certificates.id, input.certificateId));
  return row ?? null;
}
