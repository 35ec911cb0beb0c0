/**
 * Destination claims (schema `destination_claims`, rules in core/destination-claims.ts). Claiming
 * runs in the transaction that stores the certificate: a refusal rolls the certificate back too.
 * The primary key refuses two owners of one key; an advisory lock per lock scope makes the check
 * for nested directories and the insert one step, so two racing requests cannot both pass it.
 */
import { and, eq, inArray, ne, or, sql } from 'drizzle-orm';
import { claimKeysCollide, enclosingKeys } from '../core/destination-claims.js';
import type { CertState } from '../core/types.js';
import type { Queryable } from './database.js';
import { certificates, destinationClaims, teams } from './schema.js';

export interface DestinationClaim {
  /** Index of the destination in the certificate's request, for the problem's field. */
  index: number;
  key: string;
  lockScope: string;
}

export interface ClaimConflict {
  index: number;
  key: string;
  ownerCertificateId: string;
  ownerTeamId: string;
  ownerTeamName: string;
}

/**
 * A claim whose certificate ended without ever delivering again (revoked, rejected, expired
 * approval) passes to the next certificate of the same team that names it; other teams still
 * find it owned (the directory may hold the old files, and services of that team read it).
 */
const ENDED: readonly CertState[] = ['revoked', 'rejected', 'approval_expired'];

/** Claims taken over from ended certificates of the same team (for the audit log). */
export interface ReleasedClaim {
  key: string;
  fromCertificateId: string;
}

export type ClaimOutcome = { conflict: ClaimConflict } | { conflict: null; released: ReleasedClaim[] };

/** Claims every key for the certificate; returns the first conflict (and claims nothing) when one is owned elsewhere. */
export async function claimDestinations(tx: Queryable, owner: { certificateId: string; teamId: string }, claims: DestinationClaim[]): Promise<ClaimOutcome> {
  if (claims.length === 0) return { conflict: null, released: [] };
  for (const scope of [...new Set(claims.map((claim) => claim.lockScope))].sort()) {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('certflow.destination_claims'), hashtext(${scope}))`);
  }
  const exact = [...new Set(claims.flatMap((claim) => [claim.key, ...enclosingKeys(claim.key)]))];
  const inside = claims.map((claim) => sql`starts_with(${destinationClaims.key}, ${`${claim.key}/`})`);
  const existing = await tx
    .select({
      key: destinationClaims.key,
      certificateId: destinationClaims.certificateId,
      teamId: destinationClaims.teamId,
      teamName: teams.name,
      state: certificates.state,
    })
    .from(destinationClaims)
    .innerJoin(certificates, eq(certificates.id, destinationClaims.certificateId))
    .innerJoin(teams, eq(teams.id, destinationClaims.teamId))
    .where(and(ne(destinationClaims.certificateId, owner.certificateId), or(inArray(destinationClaims.key, exact), ...inside)));

  const released: ReleasedClaim[] = [];
  for (const row of existing) {
    const claim = claims.find((candidate) => claimKeysCollide(candidate.key, row.key))!;
    if (row.teamId === owner.teamId && ENDED.includes(row.state)) {
      released.push({ key: row.key, fromCertificateId: row.certificateId });
      continue;
    }
    return { conflict: { index: claim.index, key: claim.key, ownerCertificateId: row.certificateId, ownerTeamId: row.teamId, ownerTeamName: row.teamName } };
  }
  if (released.length > 0) await tx.delete(destinationClaims).where(inArray(destinationClaims.key, released.map((claim) => claim.key)));
  await tx
    .insert(destinationClaims)
    .values(claims.map((claim) => ({ key: claim.key, certificateId: owner.certificateId, teamId: owner.teamId })))
    .onConflictDoNothing({ target: destinationClaims.key });
  return { conflict: null, released };
}

/** The claims a certificate holds (its keys). */
export async function claimsOf(db: Queryable, certificateId: string): Promise<string[]> {
  const rows = await db.select({ key: destinationClaims.key }).from(destinationClaims).where(eq(destinationClaims.certificateId, certificateId));
  return rows.map((row) => row.key);
}
