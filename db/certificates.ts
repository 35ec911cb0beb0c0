import { and, arrayOverlaps, desc, eq, exists, lt, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { TeamPolicy } from '../core/policy.js';
import type { CertificateSource, CertState } from '../core/types.js';
import type { IssuanceRequest } from '../ca/issuance.js';
import type { Queryable } from './database.js';
import { prepared } from './prepared.js';
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
  const statement = prepared(db, 'certificate_by_id', (pool) => pool.select().from(certificates).where(eq(certificates.id, sql.placeholder('id'))).prepare('certificate_by_id'));
  const [row] = statement ? await statement.execute({ id }) : await db.select().from(certificates).where(eq(certificates.id, id));
  return row ?? null;
}

/** Sets a certificate's state, unless it is revoked: a revocation is final (only revokeCertificateVersions sets it). */
export async function setCertificateState(db: Queryable, id: string, state: CertState): Promise<void> {
  await db
    .update(certificates)
    .set({ state, updatedAt: sql`now()` })
    .where(and(eq(certificates.id, id), ne(certificates.state, 'revoked')));
}

export interface CertificateListFilter {
  teamId?: string | undefined;
  state?: CertState | undefined;
  source?: CertificateSource | undefined;
  expiringBefore?: Date | undefined;
  /** The position of the last row of the previous page: `createdAt` as `createdAtKey` renders it. */
  after?: { at: string; id: string } | undefined;
  limit: number;
}

/**
 * `created_at` to the microsecond, in UTC and ISO-8601 (`2027-01-31T09:15:02.123456Z`), whatever
 * the session's DateStyle or TimeZone: the exact key of a listing cursor, which `::timestamptz`
 * reads back unchanged.
 */
const createdAtKey = sql<string>`to_char(${certificates.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Newest first, keyset-paginated on (created_at, id) so pages stay stable while rows are added.
 * The row comparison and the ORDER BY use the same two columns, so no row is skipped or repeated
 * however many share a timestamp.
 */
export async function listCertificates(
  db: Queryable,
  filter: CertificateListFilter,
): Promise<Array<{ certificate: CertificateRow; version: VersionRow | null; createdAtKey: string }>> {
  const conditions: SQL[] = [];
  if (filter.teamId) conditions.push(eq(certificates.teamId, filter.teamId));
  if (filter.state) conditions.push(eq(certificates.state, filter.state));
  if (filter.source) conditions.push(eq(certificates.source, filter.source));
  if (filter.expiringBefore) conditions.push(lt(certificateVersions.notAfter, filter.expiringBefore));
  if (filter.after) conditions.push(sql`(${certificates.createdAt}, ${certificates.id}) < (${filter.after.at}::timestamptz, ${filter.after.id})`);
  return db
    .select({ certificate: certificates, version: certificateVersions, createdAtKey })
    .from(certificates)
    .leftJoin(certificateVersions, eq(certificateVersions.id, certificates.currentVersionId))
    .where(and(...conditions))
    .orderBy(desc(certificates.createdAt), desc(certificates.id))
    .limit(filter.limit);
}

export interface RequestedNames {
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
}

/**
 * Which of the names a certificate of the team has been *issued* for: carried by a certificate
 * that has at least one signed version (revoked or superseded ones included). A pending request,
 * or one rejected or expired before issuance, makes no name known (for the "new name" approval rule).
 */
export async function issuedNamesOf(db: Queryable, teamId: string, names: RequestedNames): Promise<Set<string>> {
  if (names.dnsNames.length + names.ipAddresses.length + names.uris.length === 0) return new Set();
  const rows = await db
    .select({ dnsNames: certificates.dnsNames, ipAddresses: certificates.ipAddresses, uris: certificates.uris })
    .from(certificates)
    .where(
      and(
        eq(certificates.teamId, teamId),
        or(
          ...([
            [certificates.dnsNames, names.dnsNames],
            [certificates.ipAddresses, names.ipAddresses],
            [certificates.uris, names.uris],
          ] as const)
            .filter(([, values]) => values.length > 0)
            .map(([column, values]) => arrayOverlaps(column, values)),
        ),
        exists(db.select({ one: sql`1` }).from(certificateVersions).where(eq(certificateVersions.certificateId, certificates.id))),
      ),
    );
  const wanted = new Set([...names.dnsNames, ...names.ipAddresses, ...names.uris]);
  return new Set(rows.flatMap((row) => [...row.dnsNames, ...row.ipAddresses, ...row.uris].filter((name) => wanted.has(name))));
}

/** States in which a certificate no longer counts against the team's maxActiveCertificates. */
const ENDED_STATES: CertState[] = ['revoked', 'revoking', 'rejected', 'approval_expired'];

export async function countActiveCertificates(db: Queryable, teamId: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(certificates)
    .where(and(eq(certificates.teamId, teamId), notInArray(certificates.state, ENDED_STATES)));
  return row?.count ?? 0;
}

/**
 * Serializes the decisions that read what a team already has and then add to it (new-name
 * approvals, quotas) until the surrounding transaction ends: two racing requests of one team decide
 * one after the other, each seeing the other's row. `scope` keeps unrelated decisions apart.
 */
export async function lockTeamDecisions(db: Queryable, teamId: string, scope: 'certificate-requests' | 'renewal-requests'): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext(${`certflow.${scope}`}), hashtext(${teamId}))`);
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
