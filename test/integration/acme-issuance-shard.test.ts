/**
 * The ACME issuance shard workflow (workflows/acme-issuance-shard.ts) on the real Temporal dev server with
 * the in-process worker: ids signalled while a run continues as new are carried to the next run, each is
 * handled once, and the shard keeps running. The ids name no certificate, so each batch answers `skipped`
 * (not_found) quickly; what is checked is the dispatch, across runs.
 */
import { describe, expect, it } from 'vitest';
import { ACME_ISSUANCE_WORKFLOW_TYPE, ACME_ISSUE_SIGNAL, type AcmeIssuanceOutcome, type AcmeShardInput } from '../../core/acme-issuance-shard.js';
import { eventually } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { defaultPayloadConverter } from '@temporalio/common';

const suite = useIntegrationSuite('acme-issuance-shard', { worker: true });

/** Every outcome in the shard's runs, newest run first, and how many runs there were. */
async function outcomesAcrossRuns(workflowId: string): Promise<{ outcomes: AcmeIssuanceOutcome[]; runs: number }> {
  const outcomes: AcmeIssuanceOutcome[] = [];
  let runId: string | undefined;
  let runs = 0;
  for (;;) {
    const history = await suite.harness.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs++;
    let previous: string | undefined;
    for (const event of history.events ?? []) {
      previous ??= event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
      for (const payload of event.activityTaskCompletedEventAttributes?.result?.payloads ?? []) {
        const value = defaultPayloadConverter.fromPayload(payload);
        if (Array.isArray(value)) outcomes.push(...(value as AcmeIssuanceOutcome[]));
      }
    }
    if (!previous) return { outcomes, runs };
    runId = previous;
  }
}

describe('ACME issuance shard', () => {
  it('continues as new every batch and carries the ids signalled meanwhile: each handled exactly once, the shard still running', async () => {
    const workflowId = `acme-issuance-test/${suite.harness.taskQueue}`;
    const ids = Array.from({ length: 12 }, (_, index) => `crt_shardtest${index}`);
    const input: AcmeShardInput = { shard: 0, batchSize: 2, pending: [], maxBatches: 1 };
    // All at once, and two ids twice: many arrive while a batch runs or while the run continues as new.
    await Promise.all(
      [...ids, ids[0]!, ids[5]!].map((id) =>
        suite.harness.client.workflow.signalWithStart(ACME_ISSUANCE_WORKFLOW_TYPE, { workflowId, taskQueue: suite.harness.taskQueue, args: [input], signal: ACME_ISSUE_SIGNAL, signalArgs: [id] }),
      ),
    );
    const { outcomes, runs } = await eventually(
      async () => {
        const seen = await outcomesAcrossRuns(workflowId);
        return new Set(seen.outcomes.map((outcome) => outcome.certificateId)).size === ids.length ? seen : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every signalled id handled' },
    );
    expect(outcomes.every((outcome) => outcome.kind === 'skipped' && outcome.reason === 'not_found')).toBe(true);
    // A duplicate signal may arrive after its id's batch ran (then it is handled again, harmlessly: issuance is idempotent);
    // ids signalled once are handled once.
    const once = ids.filter((id) => id !== ids[0] && id !== ids[5]);
    for (const id of once) expect(outcomes.filter((outcome) => outcome.certificateId === id)).toHaveLength(1);
    expect(runs).toBeGreaterThan(1);
    expect((await suite.harness.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
    await suite.harness.client.workflow.getHandle(workflowId).terminate('test done');
  }, 90_000);
});
