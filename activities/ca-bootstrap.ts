/**
 * First start: create a root CA and an issuing intermediate (pathLen 0) unless an active
 * intermediate exists. Runs under a transaction-scoped advisory lock so concurrent starts of the
 * API and the worker create exactly one hierarchy.
 */
import { sql } from 'drizzle-orm';
import { createIntermediateCa, createRootCa } from '../ca/authority.js';
import { issuerRow } from './issuer-row.js';
import { issuerUrls } from '../ca/profiles.js';
import { randomSerial } from '../ca/serial.js';
import type { x509 } from '../ca/x509.js';
import type { Database } from '../db/database.js';
import { newId } from '../db/ids.js';
import { findActiveIntermediate, findIssuer, insertIssuer, type IssuerRow } from '../db/issuers.js';
import { recordIssuerCreated } from './audit-records.js';

const BOOTSTRAP_LOCK_ID = 727_002;

export interface CaBootstrapOptions {
  organization: string;
  /** Base URL of the API, for the CRL and AIA locations written into the intermediate. */
  publicUrl: string;
  /** DNS zones the issuing intermediate is limited to (nameConstraints); empty: unconstrained. */
  permittedDnsZones?: string[];
  now: Date;
  log: (message: string) => void;
}

export async function ensureCaHierarchy(db: Database, kek: Buffer, options: CaBootstrapOptions): Promise<IssuerRow> {
  const intermediate = await createHierarchyOnce(db, kek, options);
  // Outside the transaction (the audit log has its own); deduplicated, so every start makes sure it is there.
  const root = intermediate.parentId ? await findIssuer(db, intermediate.parentId) : null;
  if (root) await recordIssuerCreated(db, root, root.createdAt, { reason: 'CA bootstrap' });
  await recordIssuerCreated(db, intermediate, intermediate.createdAt, { reason: 'CA bootstrap' });
  return intermediate;
}

async function createHierarchyOnce(db: Database, kek: Buffer, options: CaBootstrapOptions): Promise<IssuerRow> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_ID})`);
    const existing = await findActiveIntermediate(tx);
    if (existing) return existing;

    const rootId = newId('iss');
    const intermediateId = newId('iss');
    const year = options.now.getUTCFullYear();
    const root = await createRootCa({
      commonName: `${options.organization} Root CA ${year}`,
      organization: options.organization,
      keyAlgorithm: 'ECDSA-P384',
      validityDays: 3650,
      now: options.now,
      serial: randomSerial,
    });
    const intermediate = await createIntermediateCa(
      { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm: root.keyAlgorithm, urls: issuerUrls(options.publicUrl, rootId) },
      {
        commonName: `${options.organization} Issuing CA ${year} 1`,
        organization: options.organization,
        keyAlgorithm: 'ECDSA-P256',
        validityDays: 1825,
        now: options.now,
        serial: randomSerial,
        permittedDnsZones: options.permittedDnsZones ?? [],
      },
    );
    await insertIssuer(tx, await issuerRow(kek, { id: rootId, kind: 'root', parentId: null, commonName: commonNameOf(root.certificate) }, root));
    await insertIssuer(tx, await issuerRow(kek, { id: intermediateId, kind: 'intermediate', parentId: rootId, commonName: commonNameOf(intermediate.certificate) }, intermediate));
    options.log(`created root CA ${rootId} and issuing intermediate ${intermediateId}`);
    const created = await findActiveIntermediate(tx);
    if (!created) throw new Error('the issuing intermediate was not stored');
    return created;
  });
}

function commonNameOf(certificate: x509.X509Certificate): string {
  return certificate.subjectName.getField('CN')[0] ?? certificate.subject;
}
