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

/** Every workflow shape with a committed history (scripts/record-histories.ts records them all). */
const RECORDED_SHAPES = [
  'bulk-reissue-completed',
  'bulk-reissue-paused-resumed-cancelled',
  'crl-publication',
  'issuer-compromise-drill',
  'lifecycle-acme-bulk-renewal-reported',
  'lifecycle-acme-client-renewed',
  'lifecycle-acme-overdue',
  'lifecycle-acme-renewal-requested',
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
  'lifecycle-revoked-after-run-closed',
  'lifecycle-revoked-awaiting-approval',
  'lifecycle-revoked-while-verifying',
  'lifecycle-rolled-back-then-retried',
  'lifecycle-timer-renewal',
  'lifecycle-verified-then-renewed',
  'lifecycle-webhook-renewed',
];

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
    expect(histories.map((history) => history.workflowId)).toEqual([...RECORDED_SHAPES].sort());
  });

  it('carries no patch marker: Certflow is unreleased, so every workflow has one shape (docs/versioning.md)', () => {
    for (const { workflowId, history } of histories) {
      const markers = history.events!.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch');
      expect(markers, workflowId).toEqual([]);
    }
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

  it('fails to replay against a workflow whose command sequence changed', async () => {
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
