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
import { openRollout, recordDelivered, updateRollout, type DeliveryRow } from '../db/deliveries.js';
import { findRolloutContext } from '../db/rollout-context.js';
import { issuerOf } from '../db/versions.js';
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
  const { context, rollout, claimedKeys } = await readDeliveryContext(deps, input);
  const destination = context.certificate.destinations[input.destinationIndex]!;
  const key = { versionId: input.versionId, destinationIndex: input.destinationIndex, rolloutKey: input.rolloutKey };
  // A retry of a delivery already made for this request.
  if (rollout?.rolloutKey === input.rolloutKey && rollout.state !== 'pending' && rollout.deployedSerial) return { deployedSerial: rollout.deployedSerial };
  if (destination.type === 'file') {
    // Written here and now: no pending row first, one write once the files are in place.
    const report = await writeToFileDestination(deps, context, destination, claimedKeys);
    await recordDelivered(deps.db, { ...key, destination }, report.deployedSerial, deps.now());
    return report;
  }
  const row = await openRollout(deps.db, { ...key, destination });
  if (row.state !== 'pending' && row.deployedSerial) return { deployedSerial: row.deployedSerial };

  let report: DeliveryReport;
  switch (destination.type) {
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
  return (await readDeliveryContext(deps, input)).context;
}

/** The delivery's context, the rollout row as it is, and the destination claims the certificate holds: one read. */
async function readDeliveryContext(deps: ActivityDeps, input: DeliverVersionInput): Promise<{ context: DeliveryContext; rollout: DeliveryRow | null; claimedKeys: string[] }> {
  const found = await findRolloutContext(deps.db, input);
  if (!found) {
    throw ApplicationFailure.nonRetryable(`version ${input.versionId} of ${input.certificateId} does not exist`, BUSINESS_ERROR_TYPES.certificateNotFound);
  }
  const { certificate, version, team } = found;
  if (!certificate.destinations[input.destinationIndex]) {
    throw ApplicationFailure.nonRetryable(`certificate ${certificate.id} has no destination #${input.destinationIndex}`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  const issuer = await deps.issuers.load(issuerOf(version));
  let keyPem: string | null = null;
  if (certificate.keySource === 'server') {
    const key = found.key;
    if (!key) throw new Error(`the private key of ${certificate.id} generation ${version.generation} is missing`);
    const pkcs8 = openPrivateKey(deps.kek, key.sealedPrivateKey, key.id);
    keyPem = privateKeyPem(pkcs8);
    pkcs8.fill(0);
  }
  const context: DeliveryContext = {
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
  return { context, rollout: found.rollout, claimedKeys: found.claimedKeys };
}

/** `claimedKeys`: the destination claims the certificate is known to hold (a held claim is not claimed again). */
export async function writeToFileDestination(deps: ActivityDeps, context: DeliveryContext, destination: FileDestination, claimedKeys: readonly string[] = []): Promise<DeliveryReport> {
  const files: CertificateFiles = {
    'cert.pem': context.certificatePem,
    'chain.pem': context.chainPem,
    'fullchain.pem': context.certificatePem + context.chainPem,
  };
  if (context.privateKeyPem) files['key.pem'] = context.privateKeyPem;
  const directory = insideRoot(deps.fileDestinationRoot, destination.directory);
  try {
    await holdClaim(deps, context, destination, claimedKeys);
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
async function holdClaim(deps: ActivityDeps, context: DeliveryContext, destination: FileDestination, claimedKeys: readonly string[]): Promise<void> {
  const key = destinationClaimKey(destination, deps.fileDestinationRoot);
  // Held already: no other certificate can have claimed the directory, or one inside or around it, since.
  if (key === null || claimedKeys.includes(key)) return;
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
