import { isAbsolute, relative, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { openPrivateKey } from '../ca/key-encryption.js';
import { privateKeyPem } from '../ca/keys.js';
import { findCertificate } from '../db/certificates.js';
import { recordDelivery } from '../db/deliveries.js';
import { findCertificateKey } from '../db/keys.js';
import { findVersion } from '../db/versions.js';
import type { ActivityDeps } from './deps.js';
import { writeCertificateFiles, type CertificateFiles } from './file-writer.js';

export interface DeliverToFileInput {
  certificateId: string;
  versionId: string;
  destinationIndex: number;
}

/** Writes one version (and its server-generated key, if any) to a `file` destination. Idempotent. */
export async function deliverToFile(deps: ActivityDeps, input: DeliverToFileInput): Promise<void> {
  const certificate = await findCertificate(deps.db, input.certificateId);
  const version = await findVersion(deps.db, input.versionId);
  if (!certificate || !version || version.certificateId !== certificate.id) {
    throw ApplicationFailure.nonRetryable(`version ${input.versionId} of ${input.certificateId} does not exist`, BUSINESS_ERROR_TYPES.certificateNotFound);
  }
  const destination = certificate.destinations[input.destinationIndex];
  if (!destination || destination.type !== 'file') {
    throw ApplicationFailure.nonRetryable(`certificate ${certificate.id} has no file destination #${input.destinationIndex}`, BUSINESS_ERROR_TYPES.invalidRequest);
  }

  const issuer = await deps.issuers.load(version.issuerId);
  const files: CertificateFiles = {
    'cert.pem': ensureNewline(version.certificatePem),
    'chain.pem': issuer.chainPem,
    'fullchain.pem': ensureNewline(version.certificatePem) + issuer.chainPem,
  };
  if (!certificate.csrPem) {
    const key = await findCertificateKey(deps.db, certificate.id, version.generation);
    if (!key) throw new Error(`the private key of ${certificate.id} generation ${version.generation} is missing`);
    const pkcs8 = openPrivateKey(deps.kek, key.sealedPrivateKey, key.id);
    files['key.pem'] = privateKeyPem(pkcs8);
    pkcs8.fill(0);
  }
  await writeCertificateFiles(insideRoot(deps.fileDestinationRoot, destination.directory), version.generation, files);
  await recordDelivery(deps.db, version.id, input.destinationIndex, destination);
}

function ensureNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** Resolves a destination directory below the root; anything that would escape it is refused. */
function insideRoot(root: string, directory: string): string {
  const target = resolve(root, directory);
  const path = relative(root, target);
  if (path === '' || path.startsWith('..') || isAbsolute(path)) {
    throw ApplicationFailure.nonRetryable(`file destination "${directory}" is outside the destination root`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  return target;
}
