/**
 * Signing runs on its own task queue, next to the lifecycle's: the server dispatches its activities
 * at most `CERTFLOW_SIGNER_MAX_PER_SECOND` per second over every worker, so a bulk operation queues
 * for the signer (an HSM) instead of starving or overloading it, and a revocation — on the
 * lifecycle's queue — never waits behind the signings.
 */
export function signingTaskQueue(lifecycleTaskQueue: string): string {
  return `${lifecycleTaskQueue}-signing`;
}

/** The patch id that moves a lifecycle run's issuance from a local activity to the signing queue. */
export const SIGNING_QUEUE_PATCH = 'signing-task-queue';
