/**
 * Certificate download (RFC 8555 §7.4.2) and revokeCert (§7.6). A certificate is its account's
 * (another account of the same team may revoke it too: the team owns its certificates); revoking
 * by the certificate's own key needs no account at all.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { base64url, type JWK } from 'jose';
import type { RevocationReason } from '../../core/types.js';
import { appendAuditEvent } from '../../db/audit.js';
import { findCertificate, type CertificateRow, type VersionRow } from '../../db/certificates.js';
import { issuerChainPem } from '../../db/issuers.js';
import { certificateVersions } from '../../db/schema.js';
import { findVersion, issuerOf, revokeSupersededVersions } from '../../db/versions.js';
import { requestRevocation } from '../revocation.js';
import { objectPayload, requirePostAsGet, verifyAcmeRequest, type AcmeDeps, type AcmeRequest } from './context.js';
import { jwkThumbprint } from './jws.js';
import { AcmeProblem } from './problem.js';

/** RFC 5280 reason codes a client may give, and Certflow's names for them. */
const REASON_CODES: ReadonlyMap<number, RevocationReason> = new Map([
  [0, 'unspecified'],
  [1, 'keyCompromise'],
  [3, 'affiliationChanged'],
  [4, 'superseded'],
  [5, 'cessationOfOperation'],
]);

export async function downloadCertificate(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  requirePostAsGet(request);
  const version = await findVersion(deps.db, c.req.param('id')!);
  const certificate = version ? await findCertificate(deps.db, version.certificateId) : null;
  if (!version || !certificate || !sameTeam(request, certificate)) throw new AcmeProblem('malformed', 'no such certificate for this account', { status: 404 });
  const chain = await issuerChainPem(deps.db, issuerOf(version));
  return c.body(`${version.certificatePem.trim()}\n${chain}`, 200, {
    'Content-Type': 'application/pem-certificate-chain',
    Link: `<${request.urls.directory}>;rel="index"`,
  });
}

export async function revokeCert(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'either');
  const payload = objectPayload(request);
  const der = certificateDer(payload['certificate']);
  const reason = revocationReason(payload['reason']);
  const [version] = await deps.db
    .select()
    .from(certificateVersions)
    .where(eq(certificateVersions.fingerprintSha256, createHash('sha256').update(der).digest('hex')));
  const certificate = version ? await findCertificate(deps.db, version.certificateId) : null;
  if (!version || !certificate) throw new AcmeProblem('malformed', 'this CA did not issue that certificate', { status: 404 });
  await authorizeRevocation(request, certificate, der);
  if (version.status === 'revoked') throw new AcmeProblem('alreadyRevoked', `certificate ${version.serial} is already revoked`);
  await revoke(deps, request, certificate, version, reason);
  return c.body(null, 200);
}

async function revoke(deps: AcmeDeps, request: AcmeRequest, certificate: CertificateRow, version: VersionRow, reason: RevocationReason): Promise<void> {
  const actor = request.account?.id ?? `certificate-key:${version.serial}`;
  if (certificate.currentVersionId === version.id) {
    // The certificate's current version: its lifecycle revokes it (and publishes CRL and OCSP), as for the REST API.
    await requestRevocation(deps, certificate, reason, { tokenId: actor, principalId: actor, accountableId: actor, teamId: certificate.teamId, role: 'requester' });
    return;
  }
  await revokeSupersededVersions(deps.db, [version.id], reason, deps.now());
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor,
    action: 'certificate.version_revoked',
    teamId: certificate.teamId,
    certificateId: certificate.id,
    details: { serial: version.serial, reason, via: 'acme' },
  });
}

/** By the account (its team owns the certificate) or by the certificate's key (the JWS was signed with it). */
async function authorizeRevocation(request: AcmeRequest, certificate: CertificateRow, der: Buffer): Promise<void> {
  if (request.account) {
    if (!sameTeam(request, certificate)) throw new AcmeProblem('unauthorized', 'this account may not revoke that certificate');
    return;
  }
  const certificateKey = new X509Certificate(der).publicKey.export({ format: 'jwk' }) as JWK;
  const same = (await jwkThumbprint(certificateKey).catch(() => null)) === (await jwkThumbprint(request.jwk));
  if (!same) throw new AcmeProblem('unauthorized', 'the JWS is signed neither by an account nor by the certificate\'s key');
}

function sameTeam(request: AcmeRequest, certificate: CertificateRow): boolean {
  return certificate.source === 'acme' && request.account !== null && request.account.teamId === certificate.teamId;
}

function certificateDer(value: unknown): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) throw new AcmeProblem('malformed', '"certificate" must be the base64url DER of the certificate');
  let der: Buffer;
  try {
    der = Buffer.from(base64url.decode(value));
    new X509Certificate(der);
  } catch {
    throw new AcmeProblem('malformed', '"certificate" is not a DER X.509 certificate');
  }
  return der;
}

function revocationReason(value: unknown): RevocationReason {
  if (value === undefined) return 'unspecified';
  const reason = typeof value === 'number' ? REASON_CODES.get(value) : undefined;
  if (!reason) throw new AcmeProblem('badRevocationReason', `reason must be one of ${[...REASON_CODES.keys()].join(', ')} (RFC 5280 codes)`);
  return reason;
}
