/**
 * Revocation data: the revoked entries a CRL lists, each issuer's latest CRL with its monotonic
 * number, and the pre-signed OCSP responses the API serves.
 */
import { and, asc, eq, gt, inArray, isNull, lte, ne, or, sql } from 'drizzle-orm';
import type { RevocationReason, VersionStatus } from '../core/types.js';
import type { Database, Queryable } from './database.js';
import { certificateVersions, issuerCrls, issuers, ocspResponses } from './schema.js';

export type CrlRow = typeof issuerCrls.$inferSelect;
export type OcspResponseRow = typeof ocspResponses.$inferSelect;
export type NewOcspResponse = typeof ocspResponses.$inferInsert;
export type OcspHashAlgorithm = OcspResponseRow['hashAlgorithm'];

/** Namespace of the transaction-scoped advisory locks that serialise CRL publication per issuer. */
const CRL_LOCK_NAMESPACE = 727_003;

export interface RevokedVersion {
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

/**
 * Revoked versions an issuer's CRL must list: revoked and not yet expired at `at` (RFC 5280 §5.1.2.6
 * lets an entry go once the certificate has expired).
 */
export async function listRevokedVersions(db: Queryable, issuerId: string, at: Date): Promise<RevokedVersion[]> {
  const rows = await db
    .select({ serial: certificateVersions.serial, revokedAt: certificateVersions.revokedAt, reason: certificateVersions.revocationReason })
    .from(certificateVersions)
    .where(and(eq(certificateVersions.issuerId, issuerId), eq(certificateVersions.status, 'revoked'), gt(certificateVersions.notAfter, at)))
    .orderBy(asc(certificateVersions.serial));
  return rows.map((row) => ({ serial: row.serial, revokedAt: row.revokedAt ?? at, reason: row.reason ?? 'unspecified' }));
}

/** Issuers whose certificate this issuer signed (intermediates under a root). */
export async function listChildIssuers(db: Queryable, parentId: string) {
  return db.select().from(issuers).where(eq(issuers.parentId, parentId)).orderBy(asc(issuers.id));
}

/** Issuers that publish revocation information: not revoked and not expired. */
export async function listPublishingIssuers(db: Queryable, at: Date) {
  return db
    .select({ id: issuers.id, kind: issuers.kind })
    .from(issuers)
    .where(and(ne(issuers.status, 'revoked'), gt(issuers.notAfter, at)))
    .orderBy(asc(issuers.createdAt), asc(issuers.id));
}

export async function findCrl(db: Queryable, issuerId: string): Promise<CrlRow | null> {
  const [row] = await db.select().from(issuerCrls).where(eq(issuerCrls.issuerId, issuerId));
  return row ?? null;
}

export interface BuiltCrl {
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
  entryCount: number;
}

/**
 * Publishes the next CRL of an issuer in one transaction: under a per-issuer lock, reads the
 * previous CRL, calls `build` with the next number (so `build` reads the revocation state after
 * every earlier CRL was stored: a higher number never lists less), and stores what it built with
 * that number. Concurrent publications of one issuer queue; numbers never repeat or go back.
 */
/**
 * One more than the stored number, and never below the clock (milliseconds since 1970). The stored
 * number alone goes back when the database is restored from a backup while the CRLs published since
 * are out in the world; counting on from it would publish those numbers again with other contents
 * (RFC 5280 §5.2.3), and relying parties that keep the highest number would ignore the new revocations.
 * From the clock, any CRL published after a restore (the worker's start-up publication included, before
 * `certflow reconcile` runs) is above them, unless more than one CRL per millisecond was published.
 */
export function nextCrlNumber(stored: bigint | null, now: Date): bigint {
  const counted = (stored ?? 0n) + 1n;
  const clock = BigInt(now.getTime());
  return counted > clock ? counted : clock;
}

export async function publishNextCrl(
  db: Database,
  issuerId: string,
  build: (tx: Queryable, crlNumber: bigint, previous: CrlRow | null) => Promise<BuiltCrl>,
  now: Date = new Date(),
): Promise<CrlRow> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CRL_LOCK_NAMESPACE}, hashtext(${issuerId}))`);
    const previous = await findCrl(tx, issuerId);
    const crlNumber = nextCrlNumber(previous?.crlNumber ?? null, now);
    const built = await build(tx, crlNumber, previous);
    const values = {
      crlNumber,
      thisUpdate: built.thisUpdate,
      nextUpdate: built.nextUpdate,
      entryCount: built.entryCount,
      crlDer: built.der,
      updatedAt: sql`now()`,
    };
    const [stored] = await tx
      .insert(issuerCrls)
      .values({ issuerId, ...values })
      .onConflictDoUpdate({ target: issuerCrls.issuerId, set: values })
      .returning();
    return stored!;
  });
}

/** What an OCSP response says about one certificate. */
export interface OcspSubject {
  serial: string;
  status: VersionStatus;
  revokedAt: Date | null;
  reason: RevocationReason | null;
}

const versionSubject = {
  serial: certificateVersions.serial,
  status: certificateVersions.status,
  revokedAt: certificateVersions.revokedAt,
  reason: certificateVersions.revocationReason,
};

/**
 * Unexpired versions of an issuer whose pre-signed responses must be (re)made: none yet, valid
 * until `refreshBefore` or less, or still `good` for a revoked version. The SHA-1 row stands for
 * both hash algorithms: they are always written together.
 */
export async function listVersionsNeedingOcsp(
  db: Queryable,
  issuerId: string,
  options: { now: Date; refreshBefore: Date; limit: number },
): Promise<OcspSubject[]> {
  return db
    .select(versionSubject)
    .from(certificateVersions)
    .leftJoin(
      ocspResponses,
      and(eq(ocspResponses.issuerId, certificateVersions.issuerId), eq(ocspResponses.serial, certificateVersions.serial), eq(ocspResponses.hashAlgorithm, 'sha1')),
    )
    .where(
      and(
        eq(certificateVersions.issuerId, issuerId),
        gt(certificateVersions.notAfter, options.now),
        or(
          isNull(ocspResponses.serial),
          lte(ocspResponses.nextUpdate, options.refreshBefore),
          and(eq(certificateVersions.status, 'revoked'), ne(ocspResponses.certStatus, 'revoked')),
        ),
      ),
    )
    .orderBy(asc(certificateVersions.serial))
    .limit(options.limit);
}

/** The versions with these serials that this issuer signed. */
export async function listVersionSubjects(db: Queryable, issuerId: string, serials: string[]): Promise<OcspSubject[]> {
  if (serials.length === 0) return [];
  return db
    .select(versionSubject)
    .from(certificateVersions)
    .where(and(eq(certificateVersions.issuerId, issuerId), inArray(certificateVersions.serial, serials)));
}

/** Whether this issuer signed a certificate with this (canonical) serial. */
export async function issuerSignedSerial(db: Queryable, issuerId: string, serial: string): Promise<boolean> {
  const [row] = await db
    .select({ serial: certificateVersions.serial })
    .from(certificateVersions)
    // Serials are stored as issued; accept a stored leading zero octet too.
    .where(and(eq(certificateVersions.issuerId, issuerId), inArray(certificateVersions.serial, [serial, `00${serial}`])))
    .limit(1);
  return row !== undefined;
}

/**
 * Stores pre-signed responses. A `good` response never replaces a `revoked` one: revocation is
 * final, so a refresh that read the status just before a revocation committed cannot undo the
 * revocation's own, later response.
 */
export async function storeOcspResponses(db: Queryable, rows: NewOcspResponse[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(ocspResponses)
    .values(rows)
    .onConflictDoUpdate({
      target: [ocspResponses.issuerId, ocspResponses.serial, ocspResponses.hashAlgorithm],
      set: {
        certStatus: sql`excluded.cert_status`,
        thisUpdate: sql`excluded.this_update`,
        nextUpdate: sql`excluded.next_update`,
        responseDer: sql`excluded.response_der`,
        updatedAt: sql`now()`,
      },
      setWhere: or(eq(ocspResponses.certStatus, 'good'), eq(sql`excluded.cert_status`, 'revoked')),
    });
}

/** The stored response for one of these spellings of a serial (as stored: see issuerSignedSerial). */
export async function findOcspResponse(db: Queryable, issuerId: string, serials: string[], hashAlgorithm: OcspHashAlgorithm): Promise<OcspResponseRow | null> {
  const [row] = await db
    .select()
    .from(ocspResponses)
    .where(and(eq(ocspResponses.issuerId, issuerId), inArray(ocspResponses.serial, serials), eq(ocspResponses.hashAlgorithm, hashAlgorithm)))
    .limit(1);
  return row ?? null;
}

export async function listOcspResponses(db: Queryable, issuerId: string, serials: string[]): Promise<OcspResponseRow[]> {
  if (serials.length === 0) return [];
  return db.select().from(ocspResponses).where(and(eq(ocspResponses.issuerId, issuerId), inArray(ocspResponses.serial, serials)));
}
