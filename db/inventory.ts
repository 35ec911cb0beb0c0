/**
 * The inventory of certificates Certflow did not sign: recording one (idempotent per team and SHA-256
 * fingerprint, all rows in one transaction), where scans saw certificates served, and adoption marks.
 */
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { ExternalCertificate } from '../ca/pem-bundle.js';
import type { PolicyFinding } from '../core/inventory-policy.js';
import type { TrackedSource } from '../core/types.js';
import type { Database, Queryable } from './database.js';
import { newId } from './ids.js';
import { certificates, certificateVersions, inventoryItems, inventorySightings } from './schema.js';

export type InventoryItemRow = typeof inventoryItems.$inferSelect;

export interface ExternalRecord {
  teamId: string;
  source: TrackedSource;
  /** File name of the import, or `host:port` of the scan. */
  origin: string;
  certificate: ExternalCertificate;
  policyFindings: PolicyFinding[];
  /** Token id and principal of the caller (imports) or of the scan's requester. */
  requestedBy: string;
  requestedByPrincipal: string | null;
  at: Date;
}

/** Records the certificate for the team, or (already there) moves its last-seen time on; never a second row. */
export async function recordExternalCertificate(db: Database, record: ExternalRecord): Promise<{ certificateId: string; created: boolean }> {
  const [recorded] = await recordExternalCertificates(db, [record]);
  return recorded!;
}

/**
 * Records many certificates of one team in one transaction (an import request): the ones already there
 * (or repeated in `records`) only move their last-seen time on. All or nothing: on an error the caller
 * records them one by one, so that one bad row fails alone. Answers in the order of `records`.
 */
export async function recordExternalCertificates(db: Database, records: ExternalRecord[]): Promise<Array<{ certificateId: string; created: boolean }>> {
  if (records.length === 0) return [];
  const teamId = records[0]!.teamId;
  if (records.some((record) => record.teamId !== teamId)) throw new Error('recordExternalCertificates: one team per call');
  const at = records[0]!.at;
  const fingerprints = [...new Set(records.map((record) => record.certificate.fingerprintSha256))].sort();
  return db.transaction(async (tx) => {
    // One writer per team and fingerprint (in a fixed order: no deadlock between two imports).
    const keys = fingerprints.map((fingerprint) => `inventory:${teamId}:${fingerprint}`);
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest(array[${sql.join(keys.map((key) => sql`${key}`), sql`, `)}]::text[]) as k order by k`);
    const existing = await tx
      .update(inventoryItems)
      .set({ lastSeenAt: sql`greatest(${inventoryItems.lastSeenAt}, ${at})` })
      .where(and(eq(inventoryItems.teamId, teamId), inArray(inventoryItems.fingerprintSha256, fingerprints)))
      .returning({ certificateId: inventoryItems.certificateId, fingerprint: inventoryItems.fingerprintSha256 });
    const known = new Map(existing.map((row) => [row.fingerprint, row.certificateId]));
    const created = new Set<string>();
    const newRecords: ExternalRecord[] = [];
    for (const record of records) {
      const fingerprint = record.certificate.fingerprintSha256;
      if (known.has(fingerprint)) continue;
      known.set(fingerprint, newId('crt'));
      created.add(fingerprint);
      newRecords.push(record);
    }
    if (newRecords.length > 0) {
      const rows = newRecords.map((record) => ({ record, certificateId: known.get(record.certificate.fingerprintSha256)!, versionId: newId('ver') }));
      await tx.insert(certificates).values(rows.map(({ record, certificateId, versionId }) => certificateRow(record, certificateId, versionId)));
      await tx.insert(certificateVersions).values(rows.map(({ record, certificateId, versionId }) => versionRow(record, certificateId, versionId)));
      await tx.insert(inventoryItems).values(rows.map(({ record, certificateId }) => itemRow(record, certificateId)));
    }
    const answered = new Set<string>();
    return records.map((record) => {
      const fingerprint = record.certificate.fingerprintSha256;
      const first = created.has(fingerprint) && !answered.has(fingerprint);
      answered.add(fingerprint);
      return { certificateId: known.get(fingerprint)!, created: first };
    });
  });
}

function certificateRow(record: ExternalRecord, certificateId: string, versionId: string): typeof certificates.$inferInsert {
  const cert = record.certificate;
  return {
    id: certificateId,
    teamId: record.teamId,
    commonName: cert.commonName,
    dnsNames: cert.dnsNames,
    ipAddresses: cert.ipAddresses,
    uris: cert.uris,
    profile: cert.profile,
    keyAlgorithm: cert.keyAlgorithm ?? 'ECDSA-P256',
    validitySeconds: Math.max(0, Math.round((cert.notAfter.getTime() - cert.notBefore.getTime()) / 1000)),
    keySource: 'csr',
    destinations: [],
    state: 'active',
    currentVersionId: versionId,
    // No lifecycle: it is only tracked until adopted.
    workflowId: '',
    requestedBy: record.requestedBy,
    requestedByPrincipal: record.requestedByPrincipal,
    source: record.source,
    createdAt: record.at,
    updatedAt: record.at,
  };
}

function versionRow(record: ExternalRecord, certificateId: string, versionId: string): typeof certificateVersions.$inferInsert {
  const cert = record.certificate;
  return {
    id: versionId,
    certificateId,
    generation: 1,
    issuerId: null,
    serial: cert.serial,
    certificatePem: cert.pem,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprintSha256: cert.fingerprintSha256,
    status: 'active',
    createdAt: record.at,
  };
}

function itemRow(record: ExternalRecord, certificateId: string): typeof inventoryItems.$inferInsert {
  const cert = record.certificate;
  return {
    certificateId,
    teamId: record.teamId,
    fingerprintSha256: cert.fingerprintSha256,
    origin: record.origin,
    subject: cert.subject,
    issuerName: cert.issuerName,
    publicKey: cert.publicKey,
    policyFindings: record.policyFindings,
    firstSeenAt: record.at,
    lastSeenAt: record.at,
  };
}

/** The team's own Certflow-signed certificate with this fingerprint, if any (a scan links it instead of recording a copy). */
export async function findTeamCertflowCertificate(db: Queryable, teamId: string, fingerprintSha256: string): Promise<string | null> {
  const [row] = await db
    .select({ certificateId: certificateVersions.certificateId })
    .from(certificateVersions)
    .innerJoin(certificates, eq(certificates.id, certificateVersions.certificateId))
    .where(and(eq(certificateVersions.fingerprintSha256, fingerprintSha256), isNotNull(certificateVersions.issuerId), eq(certificates.teamId, teamId)));
  return row?.certificateId ?? null;
}

export interface Sighting {
  teamId: string;
  certificateId: string;
  endpoint: string;
  serverName: string;
  chainPem: string;
  scanId: string;
  at: Date;
}

/** Where the certificate was served: a new sighting, or (seen there before) its last-seen time and chain moved on. */
export async function recordSighting(db: Queryable, sighting: Sighting): Promise<void> {
  await db
    .insert(inventorySightings)
    .values({ ...sighting, firstSeenAt: sighting.at, lastSeenAt: sighting.at })
    .onConflictDoUpdate({
      target: [inventorySightings.teamId, inventorySightings.certificateId, inventorySightings.endpoint, inventorySightings.serverName],
      set: { lastSeenAt: sql`greatest(${inventorySightings.lastSeenAt}, excluded.last_seen_at)`, chainPem: sql`excluded.chain_pem`, scanId: sql`excluded.scan_id` },
    });
}

export async function findInventoryItem(db: Queryable, certificateId: string): Promise<InventoryItemRow | null> {
  const [row] = await db.select().from(inventoryItems).where(eq(inventoryItems.certificateId, certificateId));
  return row ?? null;
}

export async function listSightings(db: Queryable, certificateId: string) {
  return db.select().from(inventorySightings).where(eq(inventorySightings.certificateId, certificateId)).orderBy(inventorySightings.endpoint);
}

/** What `adopted_by` holds while an adoption is under way (before the managed certificate exists). */
const ADOPTING = 'adopting';
/** A claim older than this was left by an API process that died mid-way: another adoption may take it over. */
const ADOPTION_CLAIM_SECONDS = 120;

/**
 * Claims the tracked certificate for one adoption, so that two concurrent adoptions never both create a
 * managed certificate: false when it is adopted, or another adoption holds a fresh claim.
 */
export async function claimAdoption(db: Queryable, certificateId: string, at: Date): Promise<boolean> {
  const claimed = await db
    .update(inventoryItems)
    .set({ adoptedBy: ADOPTING, adoptedAt: at })
    .where(
      and(
        eq(inventoryItems.certificateId, certificateId),
        sql`(${inventoryItems.adoptedBy} is null or (${inventoryItems.adoptedBy} = ${ADOPTING} and ${inventoryItems.adoptedAt} < ${new Date(at.getTime() - ADOPTION_CLAIM_SECONDS * 1000)}))`,
      ),
    )
    .returning({ certificateId: inventoryItems.certificateId });
  return claimed.length > 0;
}

/** Gives the claim up (the managed certificate was refused: policy, quota, approval rules). */
export async function releaseAdoption(db: Queryable, certificateId: string): Promise<void> {
  await db
    .update(inventoryItems)
    .set({ adoptedBy: null, adoptedAt: null })
    .where(and(eq(inventoryItems.certificateId, certificateId), eq(inventoryItems.adoptedBy, ADOPTING)));
}

/** Completes a claimed adoption: the tracked certificate is `adopted`, linked to the managed one. */
export async function markAdopted(db: Database, certificateId: string, adoptedBy: string, at: Date): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(inventoryItems).set({ adoptedBy, adoptedAt: at }).where(eq(inventoryItems.certificateId, certificateId));
    await tx.update(certificates).set({ state: 'adopted', updatedAt: at }).where(eq(certificates.id, certificateId));
  });
}

/** Whether `adopted_by` names a managed certificate (not a claim under way). */
export function adoptedByCertificate(item: InventoryItemRow): string | null {
  return item.adoptedBy && item.adoptedBy !== ADOPTING ? item.adoptedBy : null;
}
