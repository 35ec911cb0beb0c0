/**
 * First start: create a root CA and an issuing intermediate (pathLen 0) unless an active
 * intermediate exists. Their distinguished names come from CaNames (CERTFLOW_CA_*), with defaults;
 * once the hierarchy exists, configured names that differ from it are logged and not applied (an
 * issuer's name cannot change under the certificates it signed). Runs under a transaction-scoped
 * advisory lock so concurrent starts of the API and the worker create exactly one hierarchy. The keys are created where the worker keeps CA
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
import { x509 } from '../ca/x509.js';
import type { Database } from '../db/database.js';
import { newId } from '../db/ids.js';
import { appendAuditEvent } from '../db/audit.js';
import { findActiveIntermediate, findIssuer, insertIssuer, type IssuerRow } from '../db/issuers.js';
import { UNSPECIFIED_COUNTRY } from '../core/country-codes.js';

const BOOTSTRAP_LOCK_ID = 727_002;

/** The CA's distinguished names; each one omitted takes its default (DEFAULT_CA_ORGANIZATION, …). */
export interface CaNames {
  organization?: string;
  /** ISO 3166-1 alpha-2 (core/country-codes.ts). */
  country?: string;
  rootCommonName?: string;
  intermediateCommonName?: string;
}

export const DEFAULT_CA_ORGANIZATION = 'Certflow';
export const DEFAULT_CA_COUNTRY = UNSPECIFIED_COUNTRY;

export interface CaBootstrapOptions extends CaNames {
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
    if (existing) {
      await reportNameChanges(tx, existing, options);
      return { intermediate: existing, created: [] };
    }
    const names = caNamesFor(options);

    const rootId = newId('iss');
    const intermediateId = newId('iss');
    const sources = { kek, hsm: options.hsm };
    const rootKey = await createCaKey(sources, rootId, 'ECDSA-P384');
    const root = await certifyRootKey(rootKey.signer, {
      commonName: names.rootCommonName,
      organization: names.organization,
      country: names.country,
      validityDays: 3650,
      now: options.now,
      serial: randomSerial,
    });
    const intermediateKey = await createCaKey(sources, intermediateId, 'ECDSA-P256');
    const intermediate = await certifyIntermediateKey(
      { certificate: root, signer: rootKey.signer, urls: issuerUrls(options.publicUrl, rootId) },
      intermediateKey.signer.publicKeySpki,
      {
        commonName: names.intermediateCommonName,
        organization: names.organization,
        country: names.country,
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
    options.log(
      `created root CA ${rootId} "${root.subject}" and issuing intermediate ${intermediateId} "${intermediate.subject}" (keys: ${rootKey.location.keyBackend})`,
    );
    const stored = await findActiveIntermediate(tx);
    if (!stored) throw new Error('the issuing intermediate was not stored');
    return { intermediate: stored, created: rows };
  });
  // After the commit: the audit log takes its own lock, and records only issuers that exist.
  for (const row of created) await appendAuditEvent(db, issuerCreatedEvent(row, 'system', options.now));
  return intermediate;
}

/** The names a new hierarchy gets: the configured ones, else the defaults (the common names carry the year). */
function caNamesFor(names: CaNames & { now: Date }): Required<CaNames> {
  const organization = names.organization ?? DEFAULT_CA_ORGANIZATION;
  const year = names.now.getUTCFullYear();
  return {
    organization,
    country: names.country ?? DEFAULT_CA_COUNTRY,
    rootCommonName: names.rootCommonName ?? `${organization} Root CA ${year}`,
    intermediateCommonName: names.intermediateCommonName ?? `${organization} Issuing CA ${year} 1`,
  };
}

/** Logs each configured name that the existing hierarchy does not carry; nothing is changed. */
async function reportNameChanges(db: Parameters<typeof findIssuer>[0], intermediate: IssuerRow, options: CaBootstrapOptions): Promise<void> {
  const intermediateName = new x509.X509Certificate(intermediate.certificatePem).subjectName;
  const root = intermediate.parentId ? await findIssuer(db, intermediate.parentId) : null;
  const rootName = root ? new x509.X509Certificate(root.certificatePem).subjectName : null;
  const inUse = (name: x509.Name | null, type: string): string | undefined => name?.getField(type)[0];
  const checks: [string, string | undefined, string | undefined][] = [
    ['CERTFLOW_CA_ORGANIZATION', options.organization, inUse(intermediateName, 'O')],
    ['CERTFLOW_CA_COUNTRY', options.country, inUse(intermediateName, 'C')],
    ['CERTFLOW_CA_ROOT_CN', options.rootCommonName, inUse(rootName, 'CN')],
    ['CERTFLOW_CA_INTERMEDIATE_CN', options.intermediateCommonName, inUse(intermediateName, 'CN')],
  ];
  const changes = checks
    .filter(([, configured, current]) => configured !== undefined && configured !== current)
    .map(([variable, configured, current]) => `${variable} is "${configured}" but the CA has ${current === undefined ? 'none' : `"${current}"`}`);
  if (changes.length === 0) return;
  options.log(
    `CA names not applied: ${changes.join('; ')}. The names are set when the hierarchy is created (root ${root?.id ?? '?'}, ` +
      `intermediate ${intermediate.id} exist already) and an issuer's name cannot change under the certificates it signed; ` +
      'the existing names stay in use. A new hierarchy (an empty database) takes the configured ones.',
  );
}

function commonNameOf(certificate: x509.X509Certificate): string {
  return certificate.subjectName.getField('CN')[0] ?? certificate.subject;
}
