import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { RevocationReason } from '../core/types.js';
import type { Database, Queryable } from './database.js';
import { prepared } from './prepared.js';
import { certificateKeys, certificates, certificateVersions, issuers } from './schema.js';

export type VersionRow = typeof certificateVersions.$inferSelect;
/** A version Certflow signs: always with its issuer (external certificates are recorded by db/inventory.ts). */
export type NewVersion = typeof certificateVersions.$inferInsert & { issuerId: string };

/** Thrown where a path only makes sense for a certificate Certflow signed and meets an imported or discovered one. */
export class ExternalCertificateError extends Error {
  override name = 'ExternalCertificateError';
}

/** The issuer of a version Certflow signed; an external version (no issuer) here is a bug in the caller's selection. */
export function issuerOf(version: { id: string; issuerId: string | null }): string {
  if (version.issuerId === null) throw new ExternalCertificateError(`certificate version ${version.id} was not signed by Certflow (imported or discovered): it has no Certflow issuer`);
  return version.issuerId;
}

export async function findVersion(db: Queryable, id: string): Promise<VersionRow | null> {
  const statement = prepared(db, 'version_by_id', (pool) => pool.select().from(certificateVersions).where(eq(certificateVersions.id, sql.placeholder('id'))).prepare('version_by_id'));
  const [row] = statement ? await statement.execute({ id }) : await db.select().from(certificateVersions).where(eq(certificateVersions.id, id));
  return row ?? null;
}

/** These versions, each with its certificate's team, in one read. */
export async function findVersionsWithTeams(db: Queryable, ids: string[]): Promise<{ version: VersionRow; teamId: string | null }[]> {
  if (ids.length === 0) return [];
  return db
    .select({ version: certificateVersions, teamId: certificates.teamId })
    .from(certificateVersions)
    .leftJoin(certificates, eq(certificates.id, certificateVersions.certificateId))
    .where(inArray(certificateVersions.id, ids));
}

export async function findVersionByGeneration(db: Queryable, certificateId: string, generation: number): Promise<VersionRow | null> {
  const statement = prepared(db, 'version_by_generation', (pool) =>
    pool
      .select()
      .from(certificateVersions)
      .where(and(eq(certificateVersions.certificateId, sql.placeholder('certificateId')), eq(certificateVersions.generation, sql.placeholder('generation'))))
      .prepare('version_by_generation'),
  );
  const [row] = statement
    ? await statement.execute({ certificateId, generation })
    : await db
        .select()
        .from(certificateVersions)
        .where(and(eq(certificateVersions.certificateId, certificateId), eq(certificateVersions.generation, generation)));
  return row ?? null;
}

export async function listVersions(db: Queryable, certificateId: string): Promise<VersionRow[]> {
  return db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, certificateId)).orderBy(certificateVersions.generation);
}

/**
 * Records a newly signed version as the certificate's current one, in one transaction. If a version
 * for this generation already exists (a retried activity), the stored one wins and is returned. A
 * version signed by an issuer that is no longer active is refused (a retryable error). A version
 * signed while the certificate was being revoked is recorded already revoked: every signed serial is
 * on record, and none outlives its certificate's revocation (the certificate row is locked, so this
 * and revokeCertificateVersions never interleave).
 */
/**
 * `alsoInserted` runs in the same transaction when this call inserted the version (its OCSP
 * responses): one commit for the version, the certificate and what goes with them.
 */
export async function recordIssuedVersion(db: Database, version: NewVersion, alsoInserted?: (tx: Queryable, inserted: VersionRow) => Promise<void>): Promise<VersionRow> {
  return db.transaction(async (tx) => {
    // An issuer marked compromised while this was being signed must not get a new certificate: the
    // retry signs again with the active intermediate (FOR SHARE waits for a concurrent status change).
    const [issuer] = await tx.select({ status: issuers.status }).from(issuers).where(eq(issuers.id, version.issuerId)).for('share');
    if (issuer?.status !== 'active') {
      const existing = await findVersionByGeneration(tx, version.certificateId, version.generation);
      if (existing) return existing;
      throw new Error(`issuer ${version.issuerId} is ${issuer?.status ?? 'gone'}; the certificate will be signed again by the active intermediate`);
    }
    const [certificate] = await tx
      .select({ state: certificates.state, revokedAt: certificates.revokedAt, revocationReason: certificates.revocationReason })
      .from(certificates)
      .where(eq(certificates.id, version.certificateId))
      .for('update');
    const lateRevocation = certificate?.state === 'revoked';
    const [inserted] = await tx
      .insert(certificateVersions)
      .values(
        lateRevocation
          ? { ...version, status: 'revoked', revokedAt: certificate.revokedAt ?? new Date(), revocationReason: certificate.revocationReason ?? 'unspecified' }
          : version,
      )
      .onConflictDoNothing({ target: [certificateVersions.certificateId, certificateVersions.generation] })
      .returning();
    const stored = inserted ?? (await findVersionByGeneration(tx, version.certificateId, version.generation));
    if (!stored) throw new Error(`version ${version.certificateId}/${version.generation} vanished during recording`);
    if (inserted && !lateRevocation) {
      await tx
        .update(certificateVersions)
        .set({ status: 'superseded' })
        .where(and(eq(certificateVersions.certificateId, version.certificateId), eq(certificateVersions.status, 'active'), ne(certificateVersions.id, stored.id)));
      await tx
        .update(certificates)
        // A revocation accepted while this was being signed keeps the certificate `revoking`: it revokes this version next.
        .set({ currentVersionId: stored.id, state: certificate?.state === 'revoking' ? 'revoking' : 'active', updatedAt: sql`now()` })
        .where(eq(certificates.id, version.certificateId));
    }
    if (inserted && alsoInserted) await alsoInserted(tx, stored);
    return stored;
  });
}

/** Revokes every not-yet-revoked version of a certificate and marks the certificate revoked. */
export async function revokeCertificateVersions(
  db: Database,
  certificateId: string,
  reason: RevocationReason,
  at: Date,
): Promise<VersionRow[]> {
  return db.transaction(async (tx) => {
    // Serializes with recordIssuedVersion: a version recorded after this commits is recorded revoked.
    await tx.select({ id: certificates.id }).from(certificates).where(eq(certificates.id, certificateId)).for('update');
    const revoked = await tx
      .update(certificateVersions)
      .set({ status: 'revoked', revokedAt: at, revocationReason: reason })
      .where(and(eq(certificateVersions.certificateId, certificateId), ne(certificateVersions.status, 'revoked')))
      .returning();
    // A key made for a generation that will now never be signed goes: no key outlives its certificate unused.
    await tx
      .delete(certificateKeys)
      .where(
        and(
          eq(certificateKeys.certificateId, certificateId),
          sql`not exists (select 1 from ${certificateVersions} where ${certificateVersions.certificateId} = ${certificateKeys.certificateId} and ${certificateVersions.generation} = ${certificateKeys.generation})`,
        ),
      );
    // The first revocation's time and reason stay: a repeated revoke changes neither.
    await tx
      .update(certificates)
      .set({ state: 'revoked', revokedAt: sql`coalesce(${certificates.revokedAt}, ${at})`, revocationReason: sql`coalesce(${certificates.revocationReason}, ${reason})`, updatedAt: sql`now()` })
      .where(eq(certificates.id, certificateId));
    return revoked;
  });
}

/**
 * Revokes superseded versions (never a certificate's current one: that is what is serving) and
 * returns those it revoked now. Already revoked versions are left as they are.
 */
export async function revokeSupersededVersions(db: Queryable, versionIds: string[], reason: RevocationReason, at: Date): Promise<VersionRow[]> {
  if (versionIds.length === 0) return [];
  return db
    .update(certificateVersions)
    .set({ status: 'revoked', revokedAt: at, revocationReason: reason })
    .where(
      and(
        inArray(certificateVersions.id, versionIds),
        ne(certificateVersions.status, 'revoked'),
        sql`not exists (select 1 from ${certificates} where ${certificates.currentVersionId} = ${certificateVersions.id})`,
      ),
    )
    .returning();
}
