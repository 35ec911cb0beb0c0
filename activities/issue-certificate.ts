/**
 * Signs the certificate version for one generation through the issuance pipeline (ca/issuance.ts:
 * CSR, names, key checks, team policy, lint, sign) and records it. Idempotent on
 * (certificateId, generation): a retry returns the version already recorded, never a second
 * certificate; a server-generated key is stored before signing so a retry reuses it.
 */
import { announceAcmeVersion } from '../db/acme-orders.js';
import { findIssuanceContext, type IssuanceContext } from '../db/issuance-context.js';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import type { VersionSummary } from '../core/types.js';
import { IssuanceError, issueFromRequest, type IssuanceRequest } from '../ca/issuance.js';
import type { KeyBlocklist } from '../ca/key-checks.js';
import { sealPrivateKey } from '../ca/key-encryption.js';
import { exportPrivateKeyPkcs8, generateKeyPair } from '../ca/keys.js';
import { randomSerial } from '../ca/serial.js';
import { findAgentCsr } from '../db/agents.js';
import { issuanceRequestOf } from '../db/certificates.js';
import { newId } from '../db/ids.js';
import { databaseKeyBlocklist } from '../db/blocked-keys.js';
import { storeCertificateKey, type NewCertificateKey } from '../db/keys.js';
import type { Queryable } from '../db/database.js';
import { recordSerialBeforeSigning } from '../db/serials.js';
import { issuerOf, recordIssuedVersion, type VersionRow } from '../db/versions.js';
import { recordVersionIssued, recordVersionsRevoked } from './audit-records.js';
import { goodResponsesOf, refreshOcspResponses } from './publish-ocsp.js';
import { storeOcspResponses } from '../db/revocation.js';
import type { ActivityDeps } from './deps.js';
import { publishRevocation } from './revoke-certificate.js';

export interface IssueCertificateInput {
  certificateId: string;
  generation: number;
}

/**
 * The version's summary with its signed PEM: the PEM lands in the workflow's history (the activity's
 * result), a second record of every signed certificate, from which `certflow reconcile` recovers a
 * version a database restore lost instead of signing it again. The workflow keeps only the summary.
 */
export type IssuedVersion = VersionSummary & { certificatePem: string };

export async function issueCertificate(deps: ActivityDeps, input: IssueCertificateInput): Promise<IssuedVersion> {
  // The certificate, its team, a version already recorded for this generation, an ACME order's CSR: one read.
  const context = await findIssuanceContext(deps.db, input.certificateId, input.generation);
  const existing = context?.existing ?? null;
  if (existing?.status === 'revoked') throw revokedFailure(input.certificateId);
  if (existing) {
    // A retry of an issuance whose audit event may not have been written (deduplicated if it was).
    await recordVersionIssued(deps.db, existing, context!.certificate.teamId);
    await refreshOcspResponses(deps, { issuerId: issuerOf(existing), serials: [existing.serial] }).catch(() => undefined);
    return { ...summarize(existing), certificatePem: existing.certificatePem };
  }

  if (!context) {
    throw ApplicationFailure.nonRetryable(`certificate ${input.certificateId} does not exist`, BUSINESS_ERROR_TYPES.certificateNotFound);
  }
  const { certificate, team } = context;
  if (certificate.state === 'revoked') throw revokedFailure(certificate.id);
  if (!team) throw ApplicationFailure.nonRetryable(`team ${certificate.teamId} no longer exists`, BUSINESS_ERROR_TYPES.policyViolation);

  const issuerRow = context.activeIssuer;
  if (!issuerRow) throw ApplicationFailure.retryable('no active issuing intermediate exists', BUSINESS_ERROR_TYPES.noActiveIssuer);
  const issuer = await deps.issuers.load(issuerRow.id);

  const issuedAt = deps.now();
  const key = await subjectKey(deps, context, input.generation);
  let deferredHash: string | null = null;
  const deferredBlocklist: KeyBlocklist = {
    isBlocked: async (spkiSha256Hex) => {
      deferredHash = spkiSha256Hex;
      return false;
    },
  };
  const leaf = await issueFromRequest(
    {
      templates: issuer.templates,
      now: () => issuedAt,
      serial: randomSerial,
      keyBlocklist: key.newKey ? deferredBlocklist : databaseKeyBlocklist(deps.db),
      // A new server-generated key and the serial are durable before anything is signed, in one
      // transaction, which also makes the new key's blocklist check (a key made here is never blocklisted in practice).
      beforeSigning: (fields) =>
        deps.db.transaction(async (tx) => {
          if (deferredHash && (await databaseKeyBlocklist(tx).isBlocked(deferredHash))) {
            throw new IssuanceError('key_rejected', 'this public key is blocklisted (for example, its private key was reported compromised); generate a new key pair', { keyCheckReason: 'blocklisted' });
          }
          if (key.newKey) await storeNewKey(tx, key.newKey);
          await recordSerialBeforeSigning(tx, { issuerId: issuerRow.id, serial: fields.serial, certificateId: certificate.id, generation: input.generation });
        }),
    },
    issuanceRequestOf(certificate, team.policy, key.request),
  ).catch((error: unknown) => {
    throw error instanceof IssuanceError ? businessFailure(error) : error;
  });

  // Best effort, as before: without them the API answers tryLater until the crl-publication schedule signs them.
  const ocspResponses = await goodResponsesOf(deps, issuerRow.id, leaf.serial).catch((error: unknown) => {
    warn('signing the OCSP responses of a new version failed; the crl-publication schedule will', { certificateId: certificate.id, error: String(error) });
    return [];
  });
  const stored = await recordIssuedVersion(deps.db, {
    id: newId('ver'),
    certificateId: certificate.id,
    generation: input.generation,
    issuerId: issuerRow.id,
    serial: leaf.serial,
    certificatePem: leaf.pem,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    fingerprintSha256: leaf.fingerprintSha256,
    status: 'active',
    createdAt: issuedAt,
  }, async (tx, inserted) => {
    // In the same commit as the version: a version recorded revoked (revoked while being signed) gets none.
    if (inserted.status === 'active') await storeOcspResponses(tx, ocspResponses);
  });
  // The audit log's group commit (db/audit.ts) writes the events of renewals signed together in one transaction.
  await recordVersionIssued(deps.db, stored, certificate.teamId);
  // Revoked while this was being signed: recorded revoked, published like any revocation, and never rolled out.
  if (stored.status === 'revoked') {
    await recordVersionsRevoked(deps.db, [stored], certificate.teamId);
    await publishRevocation(deps, certificate.id);
    throw revokedFailure(certificate.id);
  }
  // Finalize waits for this (api/acme/issuance-notices.ts); without the announcement it still finds the version by reading.
  if (certificate.keySource === 'acme') await announceAcmeVersion(deps.db, stored).catch(() => undefined);
  return { ...summarize(stored), certificatePem: stored.certificatePem };
}

/** A revoked certificate gets nothing more: no new version, and no revoked version handed out to roll out. */
function revokedFailure(certificateId: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`certificate ${certificateId} is revoked; nothing more is issued for it`, BUSINESS_ERROR_TYPES.certificateRevoked);
}

/** A refusal by the pipeline cannot be fixed by retrying: the workflow waits for an operator. */
function businessFailure(error: IssuanceError): ApplicationFailure {
  return ApplicationFailure.create({
    message: `issuance refused (${error.code}): ${error.message}`,
    type: error.code === 'policy_violation' ? BUSINESS_ERROR_TYPES.policyViolation : BUSINESS_ERROR_TYPES.invalidRequest,
    nonRetryable: true,
    details: [{ code: error.code, ...error.details }],
  });
}

/** The key to certify and, for a key made here now, the key to store before signing. */
interface SubjectKey {
  request: IssuanceRequest['key'];
  newKey: NewCertificateKey | null;
}

/** The key to certify: the client's CSR, the agent's or ACME client's CSR of this generation, or a key made here. */
async function subjectKey(deps: ActivityDeps, context: IssuanceContext, generation: number): Promise<SubjectKey> {
  const { certificate } = context;
  switch (certificate.keySource) {
    case 'agent': {
      const request = await findAgentCsr(deps.db, certificate.id, generation);
      // awaitAgentCsr runs first; a missing CSR is a race or an old history, so retry.
      if (!request?.csrPem) throw ApplicationFailure.retryable(`the agent has not sent the CSR of ${certificate.id} generation ${generation} yet`);
      return { request: { csrPem: request.csrPem }, newKey: null };
    }
    case 'csr':
    case 'kubernetes':
      if (!certificate.csrPem) throw ApplicationFailure.nonRetryable(`certificate ${certificate.id} has no CSR`, BUSINESS_ERROR_TYPES.invalidRequest);
      return { request: { csrPem: certificate.csrPem }, newKey: null };
    case 'acme': {
      // The order is marked processing with its CSR before the generation's issuance is asked for.
      if (!context.acmeOrderCsrPem) throw ApplicationFailure.retryable(`no ACME order has sent the CSR of ${certificate.id} generation ${generation} yet`);
      return { request: { csrPem: context.acmeOrderCsrPem }, newKey: null };
    }
    case 'server':
      return serverGeneratedKey(deps, context, generation);
  }
}

/**
 * The server-generated key of this generation: the one an earlier attempt stored, else a new one,
 * stored (sealed) with the serial before anything is signed, so a retry signs for the same key.
 */
async function serverGeneratedKey(deps: ActivityDeps, context: IssuanceContext, generation: number): Promise<SubjectKey> {
  if (context.storedKey) return { request: { publicKeySpki: Buffer.from(context.storedKey.publicKeySpki, 'base64') }, newKey: null };
  const { certificate } = context;
  const keys = await generateKeyPair(certificate.keyAlgorithm);
  const keyId = newId('key');
  const spki = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
  const newKey: NewCertificateKey = {
    id: keyId,
    certificateId: certificate.id,
    generation,
    keyAlgorithm: certificate.keyAlgorithm,
    sealedPrivateKey: sealPrivateKey(deps.kek, await exportPrivateKeyPkcs8(keys.privateKey), keyId),
    publicKeySpki: spki.toString('base64'),
  };
  return { request: { publicKeySpki: spki }, newKey };
}

/** Stores a new key; another attempt that stored its key first wins, and this one signs nothing (its retry signs for that key). */
async function storeNewKey(tx: Queryable, key: NewCertificateKey): Promise<void> {
  const kept = await storeCertificateKey(tx, key);
  if (kept.id !== key.id) throw ApplicationFailure.retryable(`another attempt stored the key of ${key.certificateId} generation ${key.generation} first; retrying signs for that key`);
}

export function summarize(version: VersionRow): VersionSummary {
  return {
    versionId: version.id,
    generation: version.generation,
    serial: version.serial,
    issuerId: issuerOf(version),
    issuedAt: version.createdAt.toISOString(),
    notBefore: version.notBefore.toISOString(),
    notAfter: version.notAfter.toISOString(),
    fingerprintSha256: version.fingerprintSha256,
  };
}

function warn(message: string, meta: Record<string, unknown>): void {
  try {
    Context.current().log.warn(message, meta);
  } catch {
    console.warn(message, meta);
  }
}
