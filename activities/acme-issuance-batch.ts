/**
 * The ACME issuance shard's activities (workflows/acme-issuance-shard.ts). `issueAcmeBatch` signs each
 * certificate of a batch through the worker's `issueCertificate` activity function (the pipeline
 * with its metrics, OCSP presigning and error groups, as a lifecycle run calls it), idempotent per
 * (certificate, generation): a batch retried after its worker died returns the versions already
 * recorded, signs nothing twice. Each outcome is returned, the signed PEM included, so that the
 * shard's history holds every certificate it signed (`certflow reconcile` reads it after a restore).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import { lifecycleWorkflowId } from '../contracts/lifecycle-messages.js';
import { ACME_FIRST_GENERATION, type AcmeIssuanceOutcome } from '../core/acme-issuance-shard.js';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import type { LifecycleInput } from '../core/lifecycle.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { findCertificate } from '../db/certificates.js';
import { findTeam } from '../db/teams.js';
import type { ActivityDeps } from './deps.js';
import type { IssueCertificateInput, IssuedVersion } from './issue-certificate.js';

/** Attempts per certificate within a batch before its lifecycle workflow takes it over. */
const ATTEMPTS = 3;
const RETRY_PAUSE_MS = 500;

const batchInput = z.object({ certificateIds: z.array(z.string().min(1)).max(1_000) });
const handOverInput = z.object({ certificateIds: z.array(z.string().min(1)).max(1_000), taskQueue: z.string().min(1) });

export async function issueAcmeBatch(issue: (input: IssueCertificateInput) => Promise<IssuedVersion>, raw: { certificateIds: string[] }): Promise<AcmeIssuanceOutcome[]> {
  const { certificateIds } = batchInput.parse(raw);
  return Promise.all(certificateIds.map((certificateId) => issueOne(issue, certificateId)));
}

async function issueOne(issue: (input: IssueCertificateInput) => Promise<IssuedVersion>, certificateId: string): Promise<AcmeIssuanceOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      const version = await issue({ certificateId, generation: ACME_FIRST_GENERATION });
      heartbeat();
      return { certificateId, kind: 'issued', version };
    } catch (error) {
      const type = error instanceof ApplicationFailure ? error.type : null;
      // A revocation won (its lifecycle run recorded it), or the certificate is gone: nothing to sign.
      if (type === BUSINESS_ERROR_TYPES.certificateRevoked) return { certificateId, kind: 'skipped', reason: 'revoked' };
      if (type === BUSINESS_ERROR_TYPES.certificateNotFound) return { certificateId, kind: 'skipped', reason: 'not_found' };
      const refused = error instanceof ApplicationFailure && error.nonRetryable === true;
      if (refused || attempt >= ATTEMPTS) return { certificateId, kind: 'failed', refused, error: (error as Error).message.slice(0, 500) };
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * 2 ** (attempt - 1)));
      heartbeat();
    }
  }
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Called outside an activity (a unit of the worker's own): nothing to report to.
  }
}

/** Starts each certificate's lifecycle as finalize used to: it issues (or fails and reports) like any other. */
export async function handAcmeIssuancesToLifecycles(deps: ActivityDeps, raw: { certificateIds: string[]; taskQueue: string }): Promise<void> {
  const { certificateIds, taskQueue } = handOverInput.parse(raw);
  for (const certificateId of certificateIds) await handOver(deps, certificateId, taskQueue);
}

async function handOver(deps: ActivityDeps, certificateId: string, taskQueue: string): Promise<void> {
  const certificate = await findCertificate(deps.db, certificateId);
  if (!certificate) return;
  const team = await findTeam(deps.db, certificate.teamId);
  const input: LifecycleInput = {
    certificateId,
    generation: ACME_FIRST_GENERATION,
    destinations: [],
    keySource: certificate.keySource,
    approval: null,
    renewBeforeSeconds: certificate.renewBeforeSeconds,
  };
  try {
    await deps.temporal.workflow.start('certificateLifecycle', {
      workflowId: lifecycleWorkflowId(certificateId),
      taskQueue,
      args: [input],
      // Started meanwhile (a revocation, a renewal asked of Certflow): that run owns it.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTE_KEYS.certificateId, value: certificateId },
        { key: SEARCH_ATTRIBUTE_KEYS.team, value: team?.name ?? certificate.teamId },
        { key: SEARCH_ATTRIBUTE_KEYS.commonName, value: certificate.commonName ?? '' },
        { key: SEARCH_ATTRIBUTE_KEYS.certState, value: 'issuing' },
        { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 },
      ],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
