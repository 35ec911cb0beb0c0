/**
 * Delivers one version to one destination, whatever its kind: the `deliverVersion` activity.
 * Idempotent per rollout key (db/deliveries.ts): a retry of the same request redoes an idempotent
 * write; a new request (a rollback, a retried rollout) delivers again. Rolling back is delivering
 * the previous version.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import type { FileDestination } from '../core/types.js';
import { openPrivateKey } from '../ca/key-encryption.js';
import { privateKeyPem } from '../ca/keys.js';
import { findCertificate } from '../db/certificates.js';
import { openRollout, updateRollout } from '../db/deliveries.js';
import { findCertificateKey } from '../db/keys.js';
import { findTeam } from '../db/teams.js';
import { findVersion, issuerOf } from '../db/versions.js';
import { deliverToAgent } from './deliver-to-agent.js';
import { deliverToKubernetes } from './deliver-to-kubernetes.js';
import { deliverToWebhook } from './deliver-to-webhook.js';
import { recordDestinationRefusal } from './destination-guard.js';
import type { DeliveryContext, DeliveryReport } from './delivery-context.js';
import type { ActivityDeps } from './deps.js';
import { writeCertificateFiles, type CertificateFiles } from '../host-files/certificate-files.js';
import { ensureRealDirectory, UnsafeDirectoryError } from '../host-files/real-directory.js';
import { claimLockScope, destinationClaimKey } from '../core/destination-claims.js';
import { claimDestinations } from '../db/destination-claims.js';

export interface DeliverVersionInput {
  certificateId: string;
  versionId: string;
  destinationIndex: number;
  rolloutKey: string;
  purpose: 'rollout' | 'rollback';
}

export async function deliverVersion(deps: ActivityDeps, input: DeliverVersionInput): Promise<DeliveryReport> {
  const context = await loadDeliveryContext(deps, input);
  const destination = context.certificate.destinations[input.destinationIndex]!;
  const key = { versionId: input.versionId, destinationIndex: input.destinationIndex, rolloutKey: input.rolloutKey };
  const row = await openRollout(deps.db, { ...key, destination });
  if (row.state !== 'pending' && row.deployedSerial) return { deployedSerial: row.deployedSerial };

  let report: DeliveryReport;
  switch (destination.type) {
    case 'file':
      report = await writeToFileDestination(deps, context, destination);
      break;
    case 'webhook':
      report = await deliverToWebhook(deps, context, destination);
      break;
    case 'agent':
      report = await deliverToAgent(deps, context, destination);
      break;
    case 'kubernetes':
      report = await deliverToKubernetes(deps, context, destination);
      break;
  }
  await updateRollout(deps.db, key, { state: 'delivered', deployedSerial: report.deployedSerial, deliveredAt: deps.now() });
  return report;
}

export async function loadDeliveryContext(deps: ActivityDeps, input: DeliverVersionInput): Promise<DeliveryContext> {
  const certificate = await findCertificate(deps.db, input.certificateId);
  const version = await findVersion(deps.db, input.versionId);
  if (!certificate || !version || version.certificateId !== certificate.id) {
    throw ApplicationFailure.nonRetryable(`version ${input.versionId} of ${input.certificateId} does not exist`, BUSINESS_ERROR_TYPES.certificateNotFound);
  }
  if (!certificate.destinations[input.destinationIndex]) {
    throw ApplicationFailure.nonRetryable(`certificate ${certificate.id} has no destination #${input.destinationIndex}`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  const issuer = await deps.issuers.load(issuerOf(version));
  const team = await findTeam(deps.db, certificate.teamId);
  let keyPem: string | null = null;
  if (certificate.keySource === 'server') {
    const key = await findCertificateKey(deps.db, certificate.id, version.generation);
    if (!key) throw new Error(`the private key of ${certificate.id} generation ${version.generation} is missing`);
    const pkcs8 = openPrivateKey(deps.kek, key.sealedPrivateKey, key.id);
    keyPem = privateKeyPem(pkcs8);
    pkcs8.fill(0);
  }
  return {
    certificate,
    version,
    destinationIndex: input.destinationIndex,
    rolloutKey: input.rolloutKey,
    purpose: input.purpose,
    certificatePem: ensureNewline(version.certificatePem),
    chainPem: issuer.chainPem,
    privateKeyPem: keyPem,
    destinationHosts: team?.policy.destinationHosts,
  };
}

export async function writeToFileDestination(deps: ActivityDeps, context: DeliveryContext, destination: FileDestination): Promise<DeliveryReport> {
  const files: CertificateFiles = {
    'cert.pem': context.certificatePem,
    'chain.pem': context.chainPem,
    'fullchain.pem': context.certificatePem + context.chainPem,
  };
  if (context.privateKeyPem) files['key.pem'] = context.privateKeyPem;
  const directory = insideRoot(deps.fileDestinationRoot, destination.directory);
  try {
    await holdClaim(deps, context, destination);
    await ensureRealDirectory(deps.fileDestinationRoot, directory);
  } catch (error) {
    const refusal =
      error instanceof UnsafeDirectoryError
        ? ApplicationFailure.nonRetryable(`file destination "${destination.directory}" refused: ${error.message}`, BUSINESS_ERROR_TYPES.destinationRejected)
        : error;
    if (refusal instanceof ApplicationFailure && refusal.type === BUSINESS_ERROR_TYPES.destinationRejected) {
      await recordDestinationRefusal(deps, {
        certificateId: context.certificate.id,
        teamId: context.certificate.teamId,
        action: 'destination.write_refused',
        reason: refusal.message,
        dedupeKey: `destination-refused/${context.version.id}/${context.destinationIndex}/${context.rolloutKey}`,
      });
    }
    throw refusal;
  }
  await writeCertificateFiles(directory, context.version.generation, files, destination.owner);
  return { deployedSerial: context.version.serial };
}

/**
 * The directory must be this certificate's (db/destination-claims.ts): the API claimed it with the
 * certificate; a certificate stored before claims existed claims it at its first delivery here.
 */
async function holdClaim(deps: ActivityDeps, context: DeliveryContext, destination: FileDestination): Promise<void> {
  const key = destinationClaimKey(destination, deps.fileDestinationRoot);
  if (key === null) return;
  const claim = { index: context.destinationIndex, key, lockScope: claimLockScope(key, deps.fileDestinationRoot) };
  const owner = { certificateId: context.certificate.id, teamId: context.certificate.teamId };
  const { conflict } = await deps.db.transaction((tx) => claimDestinations(tx, owner, [claim]));
  if (conflict) {
    throw ApplicationFailure.nonRetryable(
      `file destination "${destination.directory}" belongs to ${conflict.ownerTeamId === owner.teamId ? `certificate ${conflict.ownerCertificateId}` : `a certificate of team "${conflict.ownerTeamName}"`}; nothing was written`,
      BUSINESS_ERROR_TYPES.destinationRejected,
    );
  }
}

export function ensureNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** Resolves a destination directory below the root; anything that would escape it is refused. */
export function insideRoot(root: string, directory: string): string {
  const target = resolve(root, directory);
  const path = relative(root, target);
  if (path === '' || path.startsWith('..') || isAbsolute(path)) {
    throw ApplicationFailure.nonRetryable(`file destination "${directory}" is outside the destination root`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  return target;
}
