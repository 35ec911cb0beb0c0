import { and, arrayOverlaps, desc, eq, lt, or, sql, type SQL } from 'drizzle-orm';
import type { TeamPolicy } from '../core/policy.js';
import type { CertState } from '../core/types.js';
import type { IssuanceRequest } from '../ca/issuance.js';
import type { Queryable } from './database.js';
import { certificates, certificateVersions } from './schema.js';

export type CertificateRow = typeof certificates.$inferSelect;
export type NewCertificate = typeof certificates.$inferInsert;
export type VersionRow = typeof certificateVersions.$inferSelect;

export async function insertCertificate(db: Queryable, certificate: NewCertificate): Promise<void> {
  await db.insert(certificates).values(certificate);
}

export async function deleteCertificate(db: Queryable, id: string): Promise<void> {
  await db.delete(certificates).where(eq(certificates.id, id));
}

export async function findCertificate(db: Queryable, id: string): Promise<CertificateRow | null> {
  const [row] = await db.select().from(certificates).where(eq(certificates.id, id));
  return row ?? null;
}

export async function setCertificateState(db: Queryable, id: string, state: CertState): Promise<void> {
  await db.update(certificates).set({ state, updatedAt: sql`now()` }).where(eq(certificates.id, id));
}

export interface CertificateListFilter {
  teamId?: string | undefined;
  state?: CertState | undefined;
  expiringBefore?: Date | undefined;
  after?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, id) so pages stay stable while rows are added. */
export async function listCertificates(
  db: Queryable,
  filter: CertificateListFilter,
): Promise<Array<{ certificate: CertificateRow; version: VersionRow | null }>> {
  const conditions: SQL[] = [];
  if (filter.teamId) conditions.push(eq(certificates.teamId, filter.teamId));
  if (filter.state) conditions.push(eq(certificates.state, filter.state));
  if (filter.expiringBefore) conditions.push(lt(certificateVersions.notAfter, filter.expiringBefore));
  if (filter.after) {
    const { createdAt, id } = filter.after;
    conditions.push(or(lt(certificates.createdAt, createdAt), and(eq(certificates.createdAt, createdAt), lt(certificates.id, id)))!);
  }
  const rows = await db
    .select({ certificate: certificates, version: certificateVersions })
    .from(certificates)
    .leftJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
    .where(and(...conditions))
    .orderBy(desc(certificates.createdAt), desc(certificates.id))
    .limit(filter.limit);
  return rows;
}

/** Which of `names` appear on an earlier certificate of the team (for the "new name" approval rule). */
export async function knownDnsNames(db: Queryable, teamId: string, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await db
    .select({ dnsNames: certificates.dnsNames })
    .from(certificates)
    .where(and(eq(certificates.teamId, teamId), arrayOverlaps(certificates.dnsNames, names)));
  const wanted = new Set(names);
  return new Set(rows.flatMap((row) => row.dnsNames.filter((name) => wanted.has(name))));
}

/** The issuance request a stored certificate stands for, with the subject key of this generation. */
export function issuanceRequestOf(certificate: CertificateRow, teamPolicy: TeamPolicy, key: IssuanceRequest['key']): IssuanceRequest {
  return {
    key,
    commonName: certificate.commonName,
    dnsNames: certificate.dnsNames,
    ipAddresses: certificate.ipAddresses,
    uris: certificate.uris,
    profile: certificate.profile,
    validitySeconds: certificate.validitySeconds,
    teamPolicy,
  };
}
