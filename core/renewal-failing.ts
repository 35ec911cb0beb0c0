/**
 * When a lifecycle run tells people that a renewal is failing (pure, workflow-safe): a renewal
 * (generation 2 on) whose step failed with a business error (it now waits for an operator), or
 * whose infrastructure failures reached FAILING_AFTER_ATTEMPTS. The report is deduplicated per
 * generation, so a run that keeps failing notifies once.
 */
export const FAILING_AFTER_ATTEMPTS = 3;

/** Steps of a renewal; a failing revocation is another matter (it is retried until done and wins). */
const RENEWAL_STEPS: readonly string[] = ['await-csr', 'issue', 'deliver', 'verify'];

export function reportsRenewalFailing(failure: { generation: number; step: string; attempt: number; waitsForOperator: boolean }): boolean {
  if (failure.generation < 2 || !RENEWAL_STEPS.includes(failure.step)) return false;
  return failure.waitsForOperator || failure.attempt === FAILING_AFTER_ATTEMPTS;
}
