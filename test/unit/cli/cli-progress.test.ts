/** What the `certflow` CLI prints: progress bar, progress line, dry-run summary, problems, exit codes. */
import { describe, expect, it } from 'vitest';
import type { Counts, Operation } from '../../../cmd/cli-api.js';
import {
  EXIT_CANCELLED,
  EXIT_COMPLETED,
  EXIT_SOME_FAILED,
  exitCodeFor,
  formatDryRun,
  formatDuration,
  formatEta,
  formatProblem,
  formatProgressLine,
  formatStatus,
  formatSummary,
  liveState,
  progressBar,
  type LiveState,
} from '../../../cmd/cli-progress.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const counts = (values: Partial<Counts> = {}): Counts => ({ selected: 0, sent: 0, reissued: 0, rolled_out: 0, verified: 0, failed: 0, skipped: 0, revoked: 0, ...values });
const live = (values: Partial<LiveState> = {}): LiveState => ({ state: 'running', counts: counts(), inFlight: 0, ratePerSecond: 0, etaAt: null, final: false, ...values });

function operation(values: Partial<Operation> = {}): Operation {
  return {
    id: 'blk_test',
    workflowId: 'bulk/blk_test',
    state: 'running',
    counts: counts({ selected: 10, sent: 4, reissued: 2 }),
    options: { reason: 'drill', maxConcurrent: 5, maxPerSecond: 2, revokeSuperseded: true },
    selector: { teamIds: ['team_a'] },
    createdBy: 'tok_a',
    createdAt: '2026-03-01T11:59:00.000Z',
    finishedAt: null,
    progress: null,
    items: [],
    nextCursor: null,
    ...values,
  };
}

describe('progressBar', () => {
  it.each([
    ['ok/empty', 0, 10, 10, '[----------]'],
    ['ok/half', 5, 10, 10, '[#####-----]'],
    ['ok/rounds down', 2, 3, 10, '[######----]'],
    ['ok/full', 10, 10, 4, '[####]'],
    ['ok/more done than selected stays full', 12, 10, 4, '[####]'],
    ['ok/nothing selected counts as complete', 0, 0, 4, '[####]'],
    ['ok/width at least one cell', 0, 1, 0, '[-]'],
  ])('%s', (_name, done, total, width, expected) => {
    expect(progressBar(done, total, width)).toBe(expected);
  });
});

describe('formatDuration and formatEta', () => {
  it.each([
    ['ok/seconds', 45, '45s'],
    ['ok/rounded', 44.6, '45s'],
    ['ok/minutes', 185, '3m05s'],
    ['ok/hours', 7_620, '2h07m'],
    ['ok/negative is zero', -3, '0s'],
  ])('%s', (_name, seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });

  it('ok/eta from now, unknown without one', () => {
    expect(formatEta('2026-03-01T12:01:30.000Z', NOW)).toBe('ETA 1m30s');
    expect(formatEta(null, NOW)).toBe('ETA ?');
  });
});

describe('formatProgressLine', () => {
  it.each<[string, LiveState, string]>([
    [
      'ok/running with rate and eta',
      live({ counts: counts({ selected: 12, sent: 7, reissued: 4, failed: 1 }), inFlight: 2, ratePerSecond: 1.25, etaAt: '2026-03-01T12:00:06.000Z' }),
      '[############------------------] 5/12 running · reissued 4, failed 1 · in flight 2 · 1.3/s · ETA 6s',
    ],
    [
      'ok/live progress unavailable',
      live({ counts: counts({ selected: 4 }), inFlight: null, ratePerSecond: null }),
      '[------------------------------] 0/4 running · failed 0 · ETA ?',
    ],
    [
      'ok/final with revocations has no eta',
      live({ state: 'completed', final: true, counts: counts({ selected: 2, sent: 2, rolled_out: 1, verified: 1, revoked: 2 }), ratePerSecond: 0.5 }),
      // The bar gives way to the text within the 100 columns.
      '[#############] 2/2 completed · rolled_out 1, verified 1, failed 0 · revoked 2 · in flight 0 · 0.5/s',
    ],
  ])('%s', (_name, state, expected) => {
    expect(formatProgressLine(state, NOW)).toBe(expected);
  });

  it('ok/fits narrow terminals', () => {
    const line = formatProgressLine(live({ counts: counts({ selected: 1000, reissued: 500, skipped: 3, failed: 2 }), inFlight: 50 }), NOW, 60);
    expect(line.length).toBeLessThanOrEqual(60);
    expect(line.endsWith('…')).toBe(true);
    expect(line.startsWith('[#####-----] 505/1000')).toBe(true);
  });

  it('ok/an unknown or tiny terminal width still gives a readable line', () => {
    expect(formatProgressLine(live({ counts: counts({ selected: 4, reissued: 1 }) }), NOW, 0)).toHaveLength(40);
  });
});

describe('liveState', () => {
  const progress = { bulkId: 'blk_test', state: 'paused', counts: counts({ selected: 10, sent: 6, reissued: 5 }), inFlight: 1, startedAt: NOW.toISOString(), ratePerSecond: 2, etaAt: null };

  it('ok/live progress while it runs', () => {
    expect(liveState(operation({ progress }))).toEqual({ state: 'paused', counts: progress.counts, inFlight: 1, ratePerSecond: 2, etaAt: null, final: false });
  });
  it('ok/the stored row once it has ended (the workflow may still report running)', () => {
    const ended = operation({ state: 'completed', counts: counts({ selected: 10, sent: 10, reissued: 10 }), progress: { ...progress, state: 'running' } });
    expect(liveState(ended)).toMatchObject({ state: 'completed', counts: ended.counts, inFlight: 0, final: true });
  });
  it('ok/the stored row without live progress', () => {
    expect(liveState(operation())).toMatchObject({ state: 'running', inFlight: null, ratePerSecond: null, final: false });
  });
});

describe('exitCodeFor and formatSummary', () => {
  it.each([
    ['ok/completed', 'completed', counts({ selected: 3, reissued: 3 }), EXIT_COMPLETED],
    ['ok/completed with a failure', 'completed', counts({ selected: 3, reissued: 2, failed: 1 }), EXIT_SOME_FAILED],
    ['ok/cancelled', 'cancelled', counts({ selected: 3, reissued: 1 }), EXIT_CANCELLED],
    ['ok/running has none', 'running', counts(), null],
    ['ok/cancelling has none', 'cancelling', counts(), null],
  ])('%s', (_name, state, values, expected) => {
    expect(exitCodeFor(state, values)).toBe(expected);
  });

  it('ok/summaries', () => {
    expect(formatSummary(live({ state: 'completed', final: true, counts: counts({ selected: 3, reissued: 2, failed: 1 }) }))).toBe('completed with 1 failed: 3/3 finished (reissued 2, failed 1)');
    expect(formatSummary(live({ state: 'cancelled', final: true, counts: counts({ selected: 8, reissued: 1, revoked: 1 }) }))).toBe('cancelled: 1/8 finished (reissued 1, failed 0, revoked 1)');
  });
});

describe('formatDryRun', () => {
  it('ok/count, per team and sample', () => {
    const text = formatDryRun({
      dryRun: true,
      count: 3,
      perTeam: [
        { teamId: 'team_a', teamName: 'payments', count: 2 },
        { teamId: 'team_b', teamName: 'db', count: 1 },
      ],
      sample: [{ certificateId: 'crt_1', commonName: null, dnsNames: ['a.example.test', 'b.example.test'], serial: '5f3a', issuerId: 'iss_i', notAfter: '2026-04-01T00:00:00.000Z' }],
    });
    expect(text.split('\n')).toEqual([
      '3 certificates selected',
      'per team:',
      '  payments       2  (team_a)',
      '  db             1  (team_b)',
      'sample (1 of 3):',
      '  crt_1  a.example.test,b.example.test  serial 5f3a  issuer iss_i  expires 2026-04-01T00:00:00.000Z',
    ]);
  });

  it('ok/nothing selected', () => {
    expect(formatDryRun({ dryRun: true, count: 0, perTeam: [], sample: [] })).toBe('0 certificates selected');
  });
});

describe('formatProblem', () => {
  it.each([
    ['ok/detail and field errors', 400, { detail: 'selector: name at least one criterion', errors: [{ field: 'selector', message: 'name at least one criterion' }] }, 'error: selector: name at least one criterion\n  selector: name at least one criterion'],
    ['ok/detail only', 403, { detail: 'not allowed' }, 'error: not allowed'],
    ['ok/title when no detail', 500, { title: 'Internal error' }, 'error: Internal error'],
    ['ok/status when nothing else', 502, {}, 'error: HTTP 502'],
  ])('%s', (_name, status, problem, expected) => {
    expect(formatProblem(status, problem)).toBe(expected);
  });
});

describe('formatStatus', () => {
  it('ok/a running operation without live progress says so', () => {
    const text = formatStatus(operation(), NOW);
    expect(text).toContain('bulk operation blk_test (bulk/blk_test)');
    expect(text).toContain('5 at once, 2/s, revoking superseded versions');
    expect(text).toContain('2/10 running');
    expect(text).toContain('live progress unavailable');
  });
  it('ok/a finished operation', () => {
    const text = formatStatus(operation({ state: 'completed', finishedAt: '2026-03-01T12:00:00.000Z', counts: counts({ selected: 1, sent: 1, reissued: 1 }) }), NOW);
    expect(text).toContain('finished   2026-03-01T12:00:00.000Z');
    expect(text).not.toContain('unavailable');
  });
});
