/**
 * createSuccessorIntermediate: the intermediate that replaces a compromised one — signed by the
 * same root, with the same key algorithm, organization, name constraints, parent URLs and
 * lifetime, a fresh key (created where the worker keeps CA keys: the PKCS#11 token when configured) and the
 * next commonName. Idempotent: the successor's id is derived from the
 * compromised issuer's id, so a retry (or a second drill run) finds the successor already stored.
 * The successor publishes its first CRL and the root's OCSP response for it at once, so relying
 * parties can check the reissued leaves before the hourly crlPublication schedule runs.
 */
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { canonicalizeIp } from '../core/ip.js';
import { successorCommonName } from '../core/issuer-compromise.js';
import { certifyIntermediateKey } from '../ca/authority.js';
import { certificateFacts } from '../ca/certificate-facts.js';
import { children, parseDer } from '../ca/der-reader.js';
import type { IssuerUrls } from '../ca/profiles.js';
import { randomSerial } from '../ca/serial.js';
import { x509 } from '../ca/x509.js';
import { appendAuditEvent } from '../db/audit.js';
import { derivedId, insertIssuerOnce } from '../db/issuer-compromise.js';
import { findIssuer, type IssuerRow } from '../db/issuers.js';
import { findCrl } from '../db/revocation.js';
import type { ActivityDeps } from './deps.js';
import { publishCrl } from './publish-crl.js';
import { refreshOcspResponses } from './publish-ocsp.js';
import { createCaKey } from './ca-keys.js';
import { issuerCreatedEvent, storedIssuer } from './issuer-row.js';

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
  if (existing) return published(deps, existing);

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
  const sources = { kek: deps.kek, hsm: deps.hsm };
  // Through the store: its key is checked against the root's certificate, and loaded once per process.
  const rootSigner = (await deps.issuers.load(root.id)).signer;
  const now = deps.now();
  const commonName = successorCommonName(old.commonName);
  // Where the worker creates CA keys now (the token when configured), whatever the old intermediate used.
  const key = await createCaKey(sources, successorId, old.keyAlgorithm);
  const certificate = await certifyIntermediateKey(
    { certificate: rootCertificate, signer: rootSigner, ...withUrls(parentUrlsOf(oldCertificate)) },
    key.signer.publicKeySpki,
    {
      commonName,
      organization: oldCertificate.subjectName.getField('O')[0] ?? commonName,
      ...countryOf(oldCertificate),
      validityDays: Math.max(1, Math.round((old.notAfter.getTime() - old.notBefore.getTime()) / DAY_MS)),
      now,
      serial: randomSerial,
      ...permittedSubtreesOf(oldCertificate),
    },
  );
  const stored = await insertIssuerOnce(deps.db, {
    ...storedIssuer({ id: successorId, kind: 'intermediate', parentId: root.id, commonName }, certificate, old.keyAlgorithm, key.location),
    createdAt: now,
  });
  return published(deps, stored);
}

/** Records the successor's creation, publishes its first CRL (once) and the root's OCSP response for it. */
async function published(deps: ActivityDeps, successor: IssuerRow): Promise<SuccessorResult> {
  // Here, not after the insert: a retry after a crash between the two still records it (once: dedupe key).
  await appendAuditEvent(deps.db, issuerCreatedEvent(successor, 'workflow', successor.createdAt));
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

/** The permitted subtrees of an intermediate's nameConstraints, in createIntermediateCa's terms. */
export interface PermittedSubtrees {
  permittedDnsZones: string[];
  permittedUriDomains: string[];
  permittedIpRanges: string[];
}

/**
 * The permitted dNSName, URI and iPAddress subtrees of the certificate's nameConstraints (the only
 * forms Certflow writes). Any other constraint cannot be reproduced, so it stops the drill instead
 * of widening what the successor may sign.
 */
export function permittedSubtreesOf(certificate: x509.X509Certificate): PermittedSubtrees {
  const subtrees: PermittedSubtrees = { permittedDnsZones: [], permittedUriDomains: [], permittedIpRanges: [] };
  const extension = certificate.extensions.find((ext) => ext.type === NAME_CONSTRAINTS_OID);
  if (!extension) return subtrees;
  const unsupported = () =>
    ApplicationFailure.nonRetryable(
      `the nameConstraints of "${certificate.subject}" hold more than permitted dNSName, URI and iPAddress subtrees; create the successor by hand`,
      BUSINESS_ERROR_TYPES.invalidRequest,
    );
  for (const part of children(parseDer(new Uint8Array(extension.value)))) {
    if (part.tag !== 0xa0) throw unsupported(); // [1] excludedSubtrees
    for (const subtree of children(part)) {
      const [base, ...rest] = children(subtree);
      if (!base || rest.length > 0) throw unsupported(); // no minimum/maximum
      if (base.tag === 0x82) subtrees.permittedDnsZones.push(base.content.toString('ascii'));
      else if (base.tag === 0x86) subtrees.permittedUriDomains.push(base.content.toString('ascii'));
      else if (base.tag === 0x87) subtrees.permittedIpRanges.push(ipRangeOf(base.content, unsupported));
      else throw unsupported();
    }
  }
  return subtrees;
}

/** The permitted dNSName subtrees alone (the zones the intermediate may issue DNS names in). */
export function permittedDnsZonesOf(certificate: x509.X509Certificate): string[] {
  return permittedSubtreesOf(certificate).permittedDnsZones;
}

/** An iPAddress subtree base (address then mask) back to CIDR text; a mask that is not a prefix is refused. */
function ipRangeOf(content: Buffer, unsupported: () => Error): string {
  if (content.length !== 8 && content.length !== 32) throw unsupported();
  const half = content.length / 2;
  const bits = Array.from(content.subarray(half), (octet) => octet.toString(2).padStart(8, '0')).join('');
  const prefixLength = bits.indexOf('0') < 0 ? bits.length : bits.indexOf('0');
  if (bits.slice(prefixLength).includes('1')) throw unsupported();
  const octets = Uint8Array.from(content.subarray(0, half));
  const address = half === 4 ? Array.from(octets).join('.') : canonicalizeIp(Array.from({ length: 8 }, (_, i) => ((octets[2 * i]! << 8) | octets[2 * i + 1]!).toString(16)).join(':'));
  return `${address}/${prefixLength}`;
}

/** The old intermediate's countryName, if it has one: a successor keeps its predecessor's names. */
function countryOf(certificate: x509.X509Certificate): { country?: string } {
  const country = certificate.subjectName.getField('C')[0];
  return country === undefined ? {} : { country };
}
