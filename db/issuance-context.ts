/**
 * What an issuance reads before it signs (activities/issue-certificate.ts), in one prepared statement:
 * the certificate, its team, the version of this generation if one is already recorded (a retry), and
 * the CSR of the ACME order of this generation (keySource `acme`).
 */
import { and, eq, sql, type Placeholder } from 'drizzle-orm';
import type { CertificateRow, VersionRow } from './certificates.js';
import type { Queryable } from './database.js';
import { prepared } from './prepared.js';
import { acmeOrders, certificates, certificateVersions, teams } from './schema.js';
import type { TeamRow } from './teams.js';

export interface IssuanceContext {
  certificate: CertificateRow;
  team: TeamRow | null;
  existing: VersionRow | null;
  acmeOrderCsrPem: string | null;
}

const query = (db: Queryable, certificateId: string | Placeholder, generation: number | Placeholder) =>
  db
    .select({ certificate: certificates, team: teams, existing: certificateVersions, acmeOrderCsrPem: acmeOrders.csrPem })
    .from(certificates)
    .leftJoin(teams, eq(teams.id, certificates.teamId))
    .leftJoin(certificateVersions, and(eq(certificateVersions.certificateId, certificates.id), eq(certificateVersions.generation, generation)))
    .leftJoin(acmeOrders, and(eq(acmeOrders.certificateId, certificates.id), eq(acmeOrders.generation, generation)))
    .where(eq(certificates.id, certificateId));

/** null when there is no such certificate. */
export async function findIssuanceContext(db: Queryable, certificateId: string, generation: number): Promise<IssuanceContext | null> {
  const statement = prepared(db, 'issuance_context', (pool) => query(pool, sql.placeholder('certificateId'), sql.placeholder('generation')).prepare('issuance_context'));
  const [row] = statement ? await statement.execute({ certificateId, generation }) : await query(db, certificateId, generation);
  if (!row) return null;
  return { certificate: row.certificate, team: row.team, existing: row.existing, acmeOrderCsrPem: row.acmeOrderCsrPem };
}
