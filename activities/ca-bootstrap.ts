/**
 * First start: create a root CA and an issuing intermediate (pathLen 0) unless an active
 * intermediate exists. Runs under a transaction-scoped advisory lock so concurrent starts of the
 * API and the worker create exactly one hierarchy. The keys are created where the worker keeps CA
 * keys (activities/ca-keys.ts): sealed in the rows, or inside the PKCS#11 token.
 */
import { sql } from 'drizzle-orm';
import { certifyIntermediateKey, certifyRootKey } from '../ca/authority.js';
import type { Pkcs11Token } from '../ca/pkcs11-token.js';
import { createCaKey } from './ca-keys.js';
import { issuerCreatedEvent, storedIssuer } from './issuer-row.js';
import type { KeyEncryptionKeys } from '../ca/key-encryption.js';
import { issuerUrls } from '../ca/profiles.js';
import { randomSerial } from '../ca/serial.js';
import type { x509 } from '../ca/x509.js';
import type { Database } from '../db/database.js';
import { newId } from '../db/ids.js';
import { appendAuditEvent } from '../db/audit.js';
import { findActiveIntermediate, insertIssuer, type IssuerRow } from '../db/issuers.js';

const BOOTSTRAP_LOCK_ID = 727_002;

export interface CaBootstrapOptions {
  organization: string;
  /** Base URL of the API, for the CRL and AIA locations written into the intermediate. */
  publicUrl: string;
  /** DNS zones the issuing intermediate is limited to (nameConstraints); empty: unconstrained. */
  permittedDnsZones?: string[];
  /** URI host subtrees ("prod" for spiffe://prod/…, ".example.com" for hosts under it); empty: URIs unconstrained. */
  permittedUriDomains?: string[];
  /** IP ranges (CIDRs) the issuing intermediate is limited to; empty: IPs unconstrained. */
  permittedIpRanges?: string[];
  now: Date;
  log: (message: string) => void;
  /** Create the keys inside this PKCS#11 token (default: software keys sealed under the KEK). */
  hsm?: Pkcs11Token | undefined;
}

export async function ensureCaHierarchy(db: Database, kek: KeyEncryptionKeys, options: CaBootstrapOptions): Promise<IssuerRow> {
  const { intermediate, created } = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_ID})`);
    const existing = await findActiveIntermediate(tx);
    if (existing) return { intermediate: existing, created: [] };

    const rootId = newId('iss');
    const intermediateId = newId('iss');
    const year = options.now.getUTCFullYear();
    const sources = { kek, hsm: options.hsm };
    const rootKey = await createCaKey(sources, rootId, 'ECDSA-P384');
    const root = await certifyRootKey(rootKey.signer, {
      commonName: `${options.organization} Root CA ${year}`,
      organization: options.organization,
      validityDays: 3650,
      now: options.now,
      serial: randomSerial,
    });
    const intermediateKey = await createCaKey(sources, intermediateId, 'ECDSA-P256');
    const intermediate = await certifyIntermediateKey(
      { certificate: root, signer: rootKey.signer, urls: issuerUrls(options.publicUrl, rootId) },
      intermediateKey.signer.publicKeySpki,
      {
        commonName: `${options.organization} Issuing CA ${year} 1`,
        organization: options.organization,
        validityDays: 1825,
        now: options.now,
        serial: randomSerial,
        permittedDnsZones: options.permittedDnsZones ?? [],
        permittedUriDomains: options.permittedUriDomains ?? [],
        permittedIpRanges: options.permittedIpRanges ?? [],
      },
    );
    const rows = [
      storedIssuer({ id: rootId, kind: 'root', parentId: null, commonName: commonNameOf(root) }, root, 'ECDSA-P384', rootKey.location),
      storedIssuer({ id: intermediateId, kind: 'intermediate', parentId: rootId, commonName: commonNameOf(intermediate) }, intermediate, 'ECDSA-P256', intermediateKey.location),
    ];
    for (const row of rows) await insertIssuer(tx, row);
    options.log(`created root CA ${rootId} and issuing intermediate ${intermediateId} (keys: ${rootKey.location.keyBackend})`);
    const stored = await findActiveIntermediate(tx);
    if (!stored) throw new Error('the issuing intermediate was not stored');
    return { intermediate: stored, created: rows };
  });
  // After the commit: the audit log takes its own lock, and records only issuers that exist.
  for (const row of created) await appendAuditEvent(db, issuerCreatedEvent(row, 'system', options.now));
  return intermediate;
}

function commonNameOf(certificate: x509.X509Certificate): string {
  return certificate.subjectName.getField('CN')[0] ?? certificate.subject;
}
