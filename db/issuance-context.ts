/**
 * What an issuance reads before it signs (activities/issue-certificate.ts), in one prepared statement:
 * the certificate, its team, the version of this generation if one is already recorded (a retry), and
 * the CSR of the ACME order of this generation (keySource `acme`), the key already stored for this
 * generation (a retry of a server-generated key), and the active issuing intermediate.
 */
import { and, eq, sql, type Placeholder } from 'drizzle-orm';
import type { CertificateRow, VersionRow } from './certificates.js';
import type { Queryable } from './database.js';
import { prepared } from './prepared.js';
import { acmeOrders, certificateKeys, certificates, certificateVersions, issuers, teams } from './schema.js';
import type { TeamRow } from './teams.js';
import type { CertificateKeyRow } from './keys.js';
import type { IssuerRow } from './issuers.js';

export interface IssuanceContext {
  certificate: CertificateRow;
  team: TeamRow | null;
  existing: VersionRow | null;
  acmeOrderCsrPem: string | null;
  storedKey: CertificateKeyRow | null;
  /** The newest active intermediate (db/issuers.ts findActiveIntermediate). */
  activeIssuer: IssuerRow | null;
}

const query = (db: Queryable, certificateId: string | Placeholder, generation: number | Placeholder) =>
  db
    .select({ certificate: certificates, team: teams, existing: certificateVersions, acmeOrderCsrPem: acmeOrders.csrPem, storedKey: certificateKeys, activeIssuer: issuers })
    .from(certificates)
    .leftJoin(teams, eq(teams.id, certificates.teamId))
    .leftJoin(certificateVersions, and(eq(certificateVersions.certificateId, certificates.id), eq(certificateVersions.generation, generation)))
    .leftJoin(acmeOrders, and(eq(acmeOrders.certificateId, certificates.id), eq(acmeOrders.generation, generation)))
    .leftJoin(certificateKeys, and(eq(certificateKeys.certificateId, certificates.id), eq(certificateKeys.generation, generation)))
    .leftJoin(issuers, eq(issuers.id, sql`(select ${issuers.id} from ${issuers} where ${issuers.kind} = 'intermediate' and ${issuers.status} = 'active' order by ${issuers.createdAt} desc limit 1)`))
    .where(eq(certificates.id, certificateId));

/** null when there is no such certificate. */
export async function findIssuanceContext(db: Queryable, certificateId: string, generation: number): Promise<IssuanceContext | null> {
  const statement = prepared(db, 'issuance_context', (pool) => query(pool, sql.placeholder('certificateId'), sql.placeholder('generation')).prepare('issuance_context'));
  const [row] = statement ? await statement.execute({ certificateId, generation }) : await query(db, certificateId, generation);
  if (!row) return null;
  return { certificate: row.certificate, team: row.team, existing: row.existing, acmeOrderCsrPem: row.acmeOrderCsrPem, storedKey: row.storedKey, activeIssuer: row.activeIssuer };
}
