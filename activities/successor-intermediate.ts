/**
 * createSuccessorIntermediate: the intermediate that replaces a compromised one — signed by the
 * same root, with the same key algorithm, organization, name constraints, parent URLs and
 * lifetime, a fresh key and the next commonName. Idempotent: the successor's id is derived from the
 * compromised issuer's id, so a retry (or a second drill run) finds the successor already stored.
 * The successor publishes its first CRL and the root's OCSP response for it at once, so relying
 * parties can check the reissued leaves before the hourly crlPublication schedule runs.
 */
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { successorCommonName } from '../core/issuer-compromise.js';
import { createIntermediateCa } from '../ca/authority.js';
import { openPrivateKey } from '../ca/key-encryption.js';
import { importPrivateKeyPkcs8 } from '../ca/keys.js';
import { certificateFacts } from '../ca/certificate-facts.js';
import { children, parseDer } from '../ca/der-reader.js';
import type { IssuerUrls } from '../ca/profiles.js';
import { randomSerial } from '../ca/serial.js';
import { x509 } from '../ca/x509.js';
import { derivedId, insertIssuerOnce } from '../db/issuer-compromise.js';
import { findIssuer, type IssuerRow } from '../db/issuers.js';
import { findCrl } from '../db/revocation.js';
import type { ActivityDeps } from './deps.js';
import { publishCrl } from './publish-crl.js';
import { refreshOcspResponses } from './publish-ocsp.js';
import { issuerRow } from './issuer-row.js';
import { recordIssuerCreated } from './audit-records.js';

export interface CreateSuccessorInput {
  /** The compromised intermediate. */
  issuerId: string;
}

export interface SuccessorResult {
  successorId: string;
  commonName: string;
  /** When the successor was stored (its first creation, on a retry too). */
  createdAt: string;
}

const DAY_MS = 86_400_000;
const NAME_CONSTRAINTS_OID = '2.5.29.30';

export function successorIssuerId(compromisedIssuerId: string): string {
  return derivedId('iss', `successor-of:${compromisedIssuerId}`);
}

export async function createSuccessorIntermediate(deps: ActivityDeps, input: CreateSuccessorInput): Promise<SuccessorResult> {
  const successorId = successorIssuerId(input.issuerId);
  const existing = await findIssuer(deps.db, successorId);
  if (existing) {
    // A retry after the successor was stored: its audit event may still be missing (deduplicated if not).
    await recordIssuerCreated(deps.db, existing, existing.createdAt, { reason: 'successor of a compromised intermediate', successorOf: input.issuerId });
    return published(deps, existing);
  }

  const old = await findIssuer(deps.db, input.issuerId);
  if (!old || old.kind !== 'intermediate' || !old.parentId) {
    throw ApplicationFailure.nonRetryable(`issuer ${input.issuerId} is not an intermediate`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  const root = await findIssuer(deps.db, old.parentId);
  if (!root || root.status === 'compromised' || root.status === 'revoked') {
    throw ApplicationFailure.nonRetryable(`the parent ${old.parentId} of ${old.id} cannot sign a successor (${root?.status ?? 'missing'})`, BUSINESS_ERROR_TYPES.invalidRequest);
  }

  const oldCertificate = new x509.X509Certificate(old.certificatePem);
  const rootCertificate = new x509.X509Certificate(root.certificatePem);
  const rootPkcs8 = openPrivateKey(deps.kek, root.sealedPrivateKey, root.id);
  const rootKey = await importPrivateKeyPkcs8(rootPkcs8, root.keyAlgorithm);
  rootPkcs8.fill(0);
  const now = deps.now();
  const commonName = successorCommonName(old.commonName);
  const created = await createIntermediateCa(
    { certificate: rootCertificate, signingKey: rootKey, keyAlgorithm: root.keyAlgorithm, ...withUrls(parentUrlsOf(oldCertificate)) },
    {
      commonName,
      organization: oldCertificate.subjectName.getField('O')[0] ?? commonName,
      keyAlgorithm: old.keyAlgorithm,
      validityDays: Math.max(1, Math.round((old.notAfter.getTime() - old.notBefore.getTime()) / DAY_MS)),
      now,
      serial: randomSerial,
      permittedDnsZones: permittedDnsZonesOf(oldCertificate),
    },
  );
  const stored = await insertIssuerOnce(deps.db, {
    ...(await issuerRow(deps.kek, { id: successorId, kind: 'intermediate', parentId: root.id, commonName }, created)),
    createdAt: now,
  });
  await recordIssuerCreated(deps.db, stored, stored.createdAt, { reason: 'successor of a compromised intermediate', successorOf: input.issuerId });
  return published(deps, stored);
}

/** Publishes the successor's first CRL (once) and the root's OCSP response for it. */
async function published(deps: ActivityDeps, successor: IssuerRow): Promise<SuccessorResult> {
  if (!(await findCrl(deps.db, successor.id))) await publishCrl(deps, { issuerId: successor.id });
  if (successor.parentId) await refreshOcspResponses(deps, { issuerId: successor.parentId, serials: [certificateFacts(successor.certificatePem).serial] });
  return { successorId: successor.id, commonName: successor.commonName, createdAt: successor.createdAt.toISOString() };
}

function withUrls(urls: IssuerUrls | null): { urls?: IssuerUrls } {
  return urls ? { urls } : {};
}

/** The parent's CRL and AIA locations the old intermediate carries; the successor carries the same. */
export function parentUrlsOf(certificate: x509.X509Certificate): IssuerUrls | null {
  const cdp = certificate.getExtension(x509.CRLDistributionPointsExtension);
  const aia = certificate.getExtension(x509.AuthorityInfoAccessExtension);
  const crl = cdp?.distributionPoints[0]?.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier;
  const caIssuers = aia?.caIssuers.find((name) => name.type === 'url')?.value;
  const ocsp = aia?.ocsp.find((name) => name.type === 'url')?.value;
  return crl && caIssuers && ocsp ? { crl, caIssuers, ocsp } : null;
}

/**
 * The permitted dNSName subtrees of the certificate's nameConstraints (the only form Certflow
 * writes). Any other constraint cannot be reproduced, so it stops the drill instead of widening
 * what the successor may sign.
 */
export function permittedDnsZonesOf(certificate: x509.X509Certificate): string[] {
  const extension = certificate.extensions.find((ext) => ext.type === NAME_CONSTRAINTS_OID);
  if (!extension) return [];
  const unsupported = () =>
    ApplicationFailure.nonRetryable(
      `the nameConstraints of "${certificate.subject}" hold more than permitted dNSName subtrees; create the successor by hand`,
      BUSINESS_ERROR_TYPES.invalidRequest,
    );
  const zones: string[] = [];
  for (const part of children(parseDer(new Uint8Array(extension.value)))) {
    if (part.tag !== 0xa0) throw unsupported(); // [1] excludedSubtrees
    for (const subtree of children(part)) {
      const [base, ...rest] = children(subtree);
      if (!base || base.tag !== 0x82 || rest.length > 0) throw unsupported(); // dNSName, no minimum/maximum
      zones.push(base.content.toString('ascii'));
    }
  }
  return zones;
}
