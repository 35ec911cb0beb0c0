/**
 * `deliverToFile`: the file delivery of runs started before rollouts existed (replayed histories
 * still schedule it). It writes exactly what `deliverVersion` writes to a `file` destination and
 * records a plain delivery row (no rollout key). Idempotent.
 */
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { recordDelivery } from '../db/deliveries.js';
import { loadDeliveryContext, writeToFileDestination } from './deliver-version.js';
import type { ActivityDeps } from './deps.js';

export interface DeliverToFileInput {
  certificateId: string;
  versionId: string;
  destinationIndex: number;
}

export async function deliverToFile(deps: ActivityDeps, input: DeliverToFileInput): Promise<void> {
  const context = await loadDeliveryContext(deps, { ...input, rolloutKey: 'legacy', purpose: 'rollout' });
  const destination = context.certificate.destinations[input.destinationIndex]!;
  if (destination.type !== 'file') {
    throw ApplicationFailure.nonRetryable(`certificate ${input.certificateId} has no file destination #${input.destinationIndex}`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  await writeToFileDestination(deps, context, destination);
  await recordDelivery(deps.db, input.versionId, input.destinationIndex, destination);
}
