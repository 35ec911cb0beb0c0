/**
 * acmeIssuanceShard — `acme-issuance/<task queue>/<shard>`: signs new ACME certificates that need no approval, in
 * batches, without a lifecycle workflow each (core/acme-issuance-shard.ts). Finalize signals
 * `issue(certificateId)` with start; pending ids are deduplicated and signed by one activity per
 * batch, whose result (each signed PEM) stays in this history for `certflow reconcile`. What the
 * pipeline refuses or what keeps failing is handed to the certificate's lifecycle workflow. Runs
 * forever, continuing as new (with its pending ids) before its history grows large.
 */
import { allHandlersFinished, condition, continueAsNew, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  ACME_ISSUE_SIGNAL,
  ACME_SHARD_MAX_BATCHES,
  addPending,
  shouldContinueAsNew,
  takeBatch,
  toHandOver,
  type AcmeShardInput,
} from '../core/acme-issuance-shard.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';

export const issueSignal = defineSignal<[certificateId: string]>(ACME_ISSUE_SIGNAL);

const { issueAcmeBatch, handAcmeIssuancesToLifecycles } = proxyActivities<Activities>({
  // A worker killed mid-batch: its heartbeats stop and the batch is retried elsewhere within seconds;
  // issuance is idempotent per (certificate, generation), so nothing is signed twice.
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export async function acmeIssuanceShard(input: AcmeShardInput): Promise<void> {
  let pending = addPending([], input.pending);
  setHandler(issueSignal, (certificateId) => {
    pending = addPending(pending, [certificateId]);
  });
  for (let batches = 0; ; batches++) {
    await condition(() => pending.length > 0 || workflowInfo().continueAsNewSuggested);
    if (shouldContinueAsNew({ suggested: workflowInfo().continueAsNewSuggested, batches, maxBatches: input.maxBatches ?? ACME_SHARD_MAX_BATCHES })) {
      await condition(allHandlersFinished);
      // Read after the wait: ids signalled during this last task travel with the new run.
      return continueAsNew<typeof acmeIssuanceShard>({ ...input, pending });
    }
    const { batch, rest } = takeBatch(pending, input.batchSize);
    pending = rest;
    // Per-certificate failures come back as outcomes; a failed batch (a bug: it is retried until then) must not end the shard.
    const handOver = await issueAcmeBatch({ certificateIds: batch }).then(toHandOver, () => batch);
    if (handOver.length > 0) await handAcmeIssuancesToLifecycles({ certificateIds: handOver, taskQueue: workflowInfo().taskQueue });
  }
}
