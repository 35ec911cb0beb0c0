/**
 * Determinism guard (no server needed): the workflow code bundles under Temporal's sandbox rules,
 * and every committed history recorded from the real server replays against the current code.
 * Histories are recorded by `npm run histories:record`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../workflows/workflows-path.js';
import { BULK_PATCHES } from '../../workflows/bulk-reissue.js';
import { PATCHES } from '../../workflows/certificate-lifecycle.js';

const HISTORIES_DIR = fileURLToPath(new URL('../histories/', import.meta.url));
const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));
const quiet = new DefaultLogger('ERROR');

async function loadHistories() {
  const files = (await readdir(HISTORIES_DIR)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: basename(file, '.json'),
      history: historyFromJSON(JSON.parse(await readFile(join(HISTORIES_DIR, file), 'utf8'))),
    })),
  );
}

let histories: Awaited<ReturnType<typeof loadHistories>>;

beforeAll(async () => {
  try {
    Runtime.install({ logger: quiet, shutdownSignals: [] });
  } catch {
    // Already installed by another file in this process.
  }
  histories = await loadHistories();
});

describe('workflow bundle', () => {
  it('bundles the workflows under the sandbox rules', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
    expect(code).toContain('certificateLifecycle');
    expect(code).toContain('crlPublication');
  });

  it('refuses a workflow that imports a Node built-in', async () => {
    await expect(bundleWorkflowCode({ workflowsPath: join(FIXTURES_DIR, 'imports-node-fs.ts'), logger: quiet })).rejects.toThrow();
  });
});

describe('replay of recorded histories', () => {
  it('has a history for every recorded workflow shape', () => {
    expect(histories.map((history) => history.workflowId)).toEqual([
      'bulk-reissue-completed',
      'bulk-reissue-paused-resumed-cancelled',
      'crl-publication',
      'issuer-compromise-drill',
      'lifecycle-agent-key-renewed',
      'lifecycle-approval-escalated-then-expired',
      'lifecycle-approval-granted-then-renewed',
      'lifecycle-approval-rejected',
      'lifecycle-bulk-renewal-reported',
      'lifecycle-delivery-backoff-renew-retries-now',
      'lifecycle-delivery-backoff-then-revoked',
      'lifecycle-issue-failed-then-revoked',
      'lifecycle-renew-now-continue-as-new',
      'lifecycle-renewal-run-revoked',
      'lifecycle-rolled-back-then-retried',
      'lifecycle-timer-renewal',
      'lifecycle-verified-then-renewed',
      'lifecycle-webhook-renewed',
      // Recorded before the patches of PATCHES existed: they prove the unpatched path still replays.
      'v0-lifecycle-delivery-backoff-then-revoked',
      'v0-lifecycle-issue-failed-then-revoked',
      'v0-lifecycle-renew-now-continue-as-new',
      'v0-lifecycle-renewal-run-revoked',
      'v0-lifecycle-timer-renewal',
      // Recorded before lean-renewal-v1 / collect-outcomes-v1: activities, signalled bulk outcomes, every patch marker.
      'v1-bulk-reissue-completed',
      'v1-bulk-reissue-paused-resumed-cancelled',
      'v1-lifecycle-agent-key-renewed',
      'v1-lifecycle-approval-escalated-then-expired',
      'v1-lifecycle-approval-granted-then-renewed',
      'v1-lifecycle-approval-rejected',
      'v1-lifecycle-bulk-renewal-reported',
      'v1-lifecycle-delivery-backoff-renew-retries-now',
      'v1-lifecycle-delivery-backoff-then-revoked',
      'v1-lifecycle-issue-failed-then-revoked',
      'v1-lifecycle-renew-now-continue-as-new',
      'v1-lifecycle-renewal-run-revoked',
      'v1-lifecycle-rolled-back-then-retried',
      'v1-lifecycle-timer-renewal',
      'v1-lifecycle-verified-then-renewed',
      'v1-lifecycle-webhook-renewed',
    ]);
  });

  it('covers both sides of every patch: v0 histories carry no patch marker, current ones carry theirs', () => {
    const markers = (workflowId: string) =>
      histories
        .find((history) => history.workflowId === workflowId)!
        .history.events!.flatMap((event) => {
          const details = event.markerRecordedEventAttributes?.details?.['patch-data'];
          return details?.payloads?.[0]?.data ? [JSON.parse(Buffer.from(details.payloads[0].data).toString('utf8')).id as string] : [];
        });
    for (const history of histories.filter((h) => h.workflowId.startsWith('v0-'))) expect(markers(history.workflowId), history.workflowId).toEqual([]);
    // v1: every patch before lean-renewal-v1 records its own marker.
    expect(markers('v1-lifecycle-approval-rejected')).toEqual([PATCHES.stateSince, PATCHES.approvals]);
    expect(markers('v1-lifecycle-approval-granted-then-renewed')).toEqual([PATCHES.stateSince, PATCHES.approvals, PATCHES.rollouts]);
    for (const id of ['v1-lifecycle-webhook-renewed', 'v1-lifecycle-verified-then-renewed', 'v1-lifecycle-rolled-back-then-retried', 'v1-lifecycle-timer-renewal']) {
      expect(markers(id), id).toEqual([PATCHES.stateSince, PATCHES.rollouts]);
    }
    expect(markers('v1-lifecycle-agent-key-renewed')).toEqual([PATCHES.stateSince, PATCHES.agentKeys, PATCHES.rollouts]);
    expect(markers('v1-lifecycle-bulk-renewal-reported')).toEqual([PATCHES.stateSince, PATCHES.rollouts, PATCHES.bulkOutcome]);
    expect(markers('v1-lifecycle-delivery-backoff-renew-retries-now')).toEqual([PATCHES.stateSince, PATCHES.rollouts, PATCHES.renewWakesBackoff]);
    for (const id of ['v1-bulk-reissue-completed', 'v1-bulk-reissue-paused-resumed-cancelled']) expect(markers(id), id).toEqual([]);
    // Current: a lean run records only its own marker (it implies the older ones); bulk runs collect outcomes.
    for (const history of histories.filter((h) => h.workflowId.startsWith('lifecycle-'))) {
      expect(markers(history.workflowId), history.workflowId).toEqual([PATCHES.leanRenewal]);
    }
    for (const id of ['bulk-reissue-completed', 'bulk-reissue-paused-resumed-cancelled']) expect(markers(id), id).toEqual([BULK_PATCHES.collectOutcomes]);
  });

  it('replays every history against the current workflow code', async () => {
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, replayName: 'current' }, histories)) {
      results.push(result);
    }
    expect(results.map((result) => ({ id: result.workflowId, error: result.error?.message ?? null }))).toEqual(
      histories.map((history) => ({ id: history.workflowId, error: null })),
    );
  });

  it('fails to replay against a workflow whose command sequence changed without patched()', async () => {
    // The fixture reorders certificateLifecycle only, so only lifecycle histories can prove the point.
    const lifecycle = histories.filter((history) => history.workflowId.includes('lifecycle-'));
    expect(lifecycle.length).toBeGreaterThan(0);
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowsPath: join(FIXTURES_DIR, 'reordered-lifecycle.ts'), replayName: 'reordered' },
      lifecycle,
    )) {
      results.push(result);
    }
    expect(results).toHaveLength(lifecycle.length);
    for (const result of results) {
      expect(result.error?.name, result.workflowId).toBe('DeterminismViolationError');
    }
  });
});
