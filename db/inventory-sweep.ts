/** What the inventory sweep reads: certificates with their current version, in id order, a page at a time. */
import { and, asc, eq, gt, notInArray } from 'drizzle-orm';
import { FINISHED_STATES } from '../core/inventory-sweep.js';
import type { Queryable } from './database.js';
import { certificates, certificateVersions, teams } from './schema.js';

export interface SweepCandidate {
  id: string;
  teamId: string;
  teamName: string;
  commonName: string | null;
  state: (typeof certificates.$inferSelect)['state'];
  source: string;
  keySource: string;
  workflowId: string | null;
  renewBeforeSeconds: number | null;
  destinations: (typeof certificates.$inferSelect)['destinations'];
  version: { id: string; generation: number; serial: string; issuedAt: Date; notAfter: Date } | null;
}

/** Certificates not finished on purpose (revoked, rejected, approval expired), after `after` in id order; optionally one team's. */
export async function selectSweepPage(db: Queryable, options: { after: string | null; limit: number; teamId?: string }): Promise<SweepCandidate[]> {
  const rows = await db
    .select({ certificate: certificates, teamName: teams.name, version: certificateVersions })
    .from(certificates)
    .innerJoin(teams, eq(teams.id, certificates.teamId))
    .leftJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
    .where(
      and(
        notInArray(certificates.state, [...FINISHED_STATES]),
        options.after ? gt(certificates.id, options.after) : undefined,
        options.teamId ? eq(certificates.teamId, options.teamId) : undefined,
      ),
    )
    .orderBy(asc(certificates.id))
    .limit(options.limit);
  return rows.map(({ certificate, teamName, version }) => ({
    id: certificate.id,
    teamId: certificate.teamId,
    teamName,
    commonName: certificate.commonName,
    state: certificate.state,
    source: certificate.source,
    keySource: certificate.keySource,
    workflowId: certificate.workflowId,
    renewBeforeSeconds: certificate.renewBeforeSeconds,
    destinations: certificate.destinations,
    version: version
      ? { id: version.id, generation: version.generation, serial: version.serial, issuedAt: version.createdAt, notAfter: version.notAfter }
      : null,
  }));
}
