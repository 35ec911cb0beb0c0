/**
 * Signs the certificate version for one generation and records it. Idempotent on
 * (certificateId, generation): a retry returns the version already recorded, never a second
 * certificate; a server-generated key is stored before signing so a retry reuses it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { evaluatePolicy } from '../core/policy.js';
import type { KeyAlgorithm, VersionSummary } from '../core/types.js';
import { CsrError, parseCsr } from '../ca/csr.js';
import { sealPrivateKey } from '../ca/key-encryption.js';
import { exportPrivateKeyPkcs8, generateKeyPair, importPublicKeySpki } from '../ca/keys.js';
import { buildLeafCertificate, sha256Fingerprint } from '../ca/leaf.js';
import { randomSerial } from '../ca/serial.js';
import { findCertificate, type CertificateRow } from '../db/certificates.js';
import { newId } from '../db/ids.js';
import { findActiveIntermediate } from '../db/issuers.js';
import { findCertificateKey, storeCertificateKey } from '../db/keys.js';
import { findTeam } from '../db/teams.js';
import { findVersionByGeneration, recordIssuedVersion, type VersionRow } from '../db/versions.js';
import type { ActivityDeps } from './deps.js';

export interface IssueCertificateInput {
  certificateId: string;
  generation: number;
}

export async function issueCertificate(deps: ActivityDeps, input: IssueCertificateInput): Promise<VersionSummary> {
  const existing = await findVersionByGeneration(deps.db, input.certificateId, input.generation);
  if (existing) return summarize(existing);

  const certificate = await findCertificate(deps.db, input.certificateId);
  if (!certificate) {
    throw ApplicationFailure.nonRetryable(`certificate ${input.certificateId} does not exist`, BUSINESS_ERROR_TYPES.certificateNotFound);
  }
  await assertPolicyStillAllows(deps, certificate);

  const issuerRow = await findActiveIntermediate(deps.db);
  if (!issuerRow) throw ApplicationFailure.retryable('no active issuing intermediate exists', BUSINESS_ERROR_TYPES.noActiveIssuer);
  const issuer = await deps.issuers.load(issuerRow.id);
  const subject = await subjectPublicKey(deps, certificate, input.generation);

  const issuedAt = deps.now();
  const leaf = await buildLeafCertificate(issuer, {
    serial: randomSerial(),
    commonName: certificate.commonName,
    dnsNames: certificate.dnsNames,
    ipAddresses: certificate.ipAddresses,
    uris: certificate.uris,
    profile: certificate.profile,
    subjectPublicKey: subject.publicKey,
    subjectKeyAlgorithm: subject.keyAlgorithm,
    issuedAt,
    validitySeconds: certificate.validitySeconds,
  });
  const stored = await recordIssuedVersion(deps.db, {
    id: newId('ver'),
    certificateId: certificate.id,
    generation: input.generation,
    issuerId: issuerRow.id,
    serial: leaf.serialNumber.toLowerCase(),
    certificatePem: leaf.toString('pem'),
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    fingerprintSha256: await sha256Fingerprint(leaf),
    status: 'active',
    createdAt: issuedAt,
  });
  return summarize(stored);
}

async function assertPolicyStillAllows(deps: ActivityDeps, certificate: CertificateRow): Promise<void> {
  const team = await findTeam(deps.db, certificate.teamId);
  if (!team) throw ApplicationFailure.nonRetryable(`team ${certificate.teamId} no longer exists`, BUSINESS_ERROR_TYPES.policyViolation);
  const violation = evaluatePolicy(
    {
      dnsNames: certificate.dnsNames,
      ipAddresses: certificate.ipAddresses,
      uris: certificate.uris,
      profile: certificate.profile,
      keyAlgorithm: certificate.keyAlgorithm,
      validitySeconds: certificate.validitySeconds,
    },
    team.policy,
  );
  if (violation) {
    throw ApplicationFailure.create({
      message: `team policy no longer allows this certificate: ${violation.message}`,
      type: BUSINESS_ERROR_TYPES.policyViolation,
      nonRetryable: true,
      details: [violation],
    });
  }
}

async function subjectPublicKey(
  deps: ActivityDeps,
  certificate: CertificateRow,
  generation: number,
): Promise<{ publicKey: CryptoKey; keyAlgorithm: KeyAlgorithm }> {
  if (certificate.csrPem) {
    try {
      const csr = await parseCsr(certificate.csrPem);
      return { publicKey: csr.publicKey, keyAlgorithm: csr.keyAlgorithm };
    } catch (error) {
      if (error instanceof CsrError) throw ApplicationFailure.nonRetryable(error.message, BUSINESS_ERROR_TYPES.invalidRequest);
      throw error;
    }
  }
  const stored = await findCertificateKey(deps.db, certificate.id, generation);
  if (stored) {
    return {
      publicKey: await importPublicKeySpki(Buffer.from(stored.publicKeySpki, 'base64'), stored.keyAlgorithm),
      keyAlgorithm: stored.keyAlgorithm,
    };
  }
  const keys = await generateKeyPair(certificate.keyAlgorithm);
  const keyId = newId('key');
  const spki = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
  const kept = await storeCertificateKey(deps.db, {
    id: keyId,
    certificateId: certificate.id,
    generation,
    keyAlgorithm: certificate.keyAlgorithm,
    sealedPrivateKey: sealPrivateKey(deps.kek, await exportPrivateKeyPkcs8(keys.privateKey), keyId),
    publicKeySpki: spki.toString('base64'),
  });
  // Another attempt may have stored its key first; sign for the key that is stored.
  const publicKey = kept.id === keyId ? keys.publicKey : await importPublicKeySpki(Buffer.from(kept.publicKeySpki, 'base64'), kept.keyAlgorithm);
  return { publicKey, keyAlgorithm: kept.keyAlgorithm };
}

export function summarize(version: VersionRow): VersionSummary {
  return {
    versionId: version.id,
    generation: version.generation,
    serial: version.serial,
    issuerId: version.issuerId,
    issuedAt: version.createdAt.toISOString(),
    notBefore: version.notBefore.toISOString(),
    notAfter: version.notAfter.toISOString(),
    fingerprintSha256: version.fingerprintSha256,
  };
}
