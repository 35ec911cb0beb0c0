import { describe, expect, it } from 'vitest';
import {
  dueForLivenessCheck,
  countsOfItems,
  EMPTY_COUNTS,
  LIVENESS_CHECK,
  livenessCheckDueAt,
  mayRevokeSuperseded,
  nextLivenessCheckAt,
  progressOf,
  selectedOnceExhausted,
  sendBudget,
  stalledSkipReason,
  type BulkCarry,
  type BulkCounts,
  type InFlight,
  type LivenessFacts,
} from '../../../core/bulk.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const inFlight = (certificateId: string, sentAfterMs: number, checks = 0, checkedAfterMs: number | null = null): InFlight => ({
  certificateId,
  oldVersionId: null,
  sentAt: at(sentAfterMs),
  checks,
  checkedAt: checkedAfterMs === null ? null : at(checkedAfterMs),
});

describe('stalledSkipReason (the safety net: which renewals in flight will never report)', () => {
  const cases: { name: string; facts: LivenessFacts; skipped: RegExp | null }[] = [
    { name: 'ok/running lifecycle of an active certificate: wait for it', facts: { certificateState: 'active', workflowStatus: 'RUNNING' }, skipped: null },
    { name: 'ok/renewing certificate, lifecycle running', facts: { certificateState: 'renewing', workflowStatus: 'RUNNING' }, skipped: null },
    { name: 'ok/revocation under way: the lifecycle reports by itself', facts: { certificateState: 'revoking', workflowStatus: 'RUNNING' }, skipped: null },
    { name: 'ok/failed certificate, lifecycle waiting for an operator', facts: { certificateState: 'failed', workflowStatus: 'RUNNING' }, skipped: null },
    { name: 'ok/status unknown to the server yet', facts: { certificateState: 'active', workflowStatus: 'UNKNOWN' }, skipped: null },
    { name: 'fail/certificate revoked, lifecycle still running', facts: { certificateState: 'revoked', workflowStatus: 'RUNNING' }, skipped: /was revoked/ },
    { name: 'fail/certificate revoked, lifecycle completed', facts: { certificateState: 'revoked', workflowStatus: 'COMPLETED' }, skipped: /was revoked/ },
    { name: 'fail/certificate decommissioned', facts: { certificateState: 'decommissioned', workflowStatus: 'RUNNING' }, skipped: /was decommissioned/ },
    { name: 'fail/certificate row gone', facts: { certificateState: null, workflowStatus: null }, skipped: /no longer exists/ },
    { name: 'fail/lifecycle completed', facts: { certificateState: 'active', workflowStatus: 'COMPLETED' }, skipped: /ended \(completed\)/ },
    { name: 'fail/lifecycle failed', facts: { certificateState: 'renewing', workflowStatus: 'FAILED' }, skipped: /ended \(failed\)/ },
    { name: 'fail/lifecycle terminated', facts: { certificateState: 'renewing', workflowStatus: 'TERMINATED' }, skipped: /ended \(terminated\)/ },
    { name: 'fail/lifecycle timed out', facts: { certificateState: 'renewing', workflowStatus: 'TIMED_OUT' }, skipped: /ended \(timed out\)/ },
    { name: 'fail/lifecycle cancelled', facts: { certificateState: 'active', workflowStatus: 'CANCELLED' }, skipped: /ended \(cancelled\)/ },
    { name: 'fail/no lifecycle workflow', facts: { certificateState: 'active', workflowStatus: 'NOT_FOUND' }, skipped: /does not exist/ },
  ];
  it.each(cases)('$name', ({ facts, skipped }) => {
    const reason = stalledSkipReason(facts);
    if (skipped === null) expect(reason).toBeNull();
    else expect(reason).toMatch(skipped);
  });
});

describe('livenessCheckDueAt (first check after 30 s, then doubling intervals up to 2 min)', () => {
  const cases: { name: string; item: InFlight; dueAfterMs: number }[] = [
    { name: 'ok/never checked: 30 s after it was sent', item: inFlight('crt_a', 0), dueAfterMs: LIVENESS_CHECK.firstAfterMs },
    { name: 'ok/checked once: 30 s after that check', item: inFlight('crt_a', 0, 1, 31_000), dueAfterMs: 61_000 },
    { name: 'ok/checked twice: 60 s after the last check', item: inFlight('crt_a', 0, 2, 61_000), dueAfterMs: 121_000 },
    { name: 'ok/checked three times: 120 s', item: inFlight('crt_a', 0, 3, 121_000), dueAfterMs: 241_000 },
    { name: 'ok/checked ten times: capped at 120 s', item: inFlight('crt_a', 0, 10, 1_000_000), dueAfterMs: 1_120_000 },
    { name: 'ok/carried from an older run without check fields', item: { certificateId: 'crt_a', oldVersionId: null, sentAt: at(5_000) }, dueAfterMs: 35_000 },
  ];
  it.each(cases)('$name', ({ item, dueAfterMs }) => {
    expect(livenessCheckDueAt(item)).toBe(T0 + dueAfterMs);
  });
});

describe('dueForLivenessCheck', () => {
  const items = [inFlight('crt_b', 0), inFlight('crt_a', 0), inFlight('crt_c', 10_000), inFlight('crt_d', 0, 1, 35_000)];
  const cases: { name: string; nowMs: number; limit?: number; due: string[] }[] = [
    { name: 'ok/nothing is due right after sending', nowMs: 1_000, due: [] },
    { name: 'ok/not due 1 ms before 30 s', nowMs: 29_999, due: [] },
    { name: 'ok/due at 30 s, ties by id', nowMs: 30_000, due: ['crt_a', 'crt_b'] },
    { name: 'ok/later ones follow, the longest overdue first', nowMs: 65_000, due: ['crt_a', 'crt_b', 'crt_c', 'crt_d'] },
    { name: 'ok/a checked one waits for its interval', nowMs: 64_999, due: ['crt_a', 'crt_b', 'crt_c'] },
    { name: 'ok/at most the limit', nowMs: 65_000, limit: 2, due: ['crt_a', 'crt_b'] },
  ];
  it.each(cases)('$name', ({ nowMs, limit, due }) => {
    expect(dueForLivenessCheck(items, T0 + nowMs, limit)).toEqual(due);
  });

  it('ok/nextLivenessCheckAt is the earliest due time, null with nothing in flight', () => {
    expect(nextLivenessCheckAt(items)).toBe(T0 + 30_000);
    expect(nextLivenessCheckAt([])).toBeNull();
  });
});

describe('selectedOnceExhausted (selected = outcomes at completion)', () => {
  const counts = (change: Partial<BulkCounts>): BulkCounts => ({ ...EMPTY_COUNTS, ...change });
  const cases: { name: string; counts: BulkCounts; inFlight: number; selected: number }[] = [
    { name: 'ok/all finished', counts: counts({ selected: 10, sent: 10, reissued: 8, failed: 1, skipped: 1 }), inFlight: 0, selected: 10 },
    { name: 'ok/more matched than counted at the start', counts: counts({ selected: 10, sent: 12, rolled_out: 9 }), inFlight: 3, selected: 12 },
    { name: 'ok/fewer (revoked before their page was read)', counts: counts({ selected: 10, sent: 7, verified: 7 }), inFlight: 0, selected: 7 },
    { name: 'ok/skipped at sending count, revocations do not', counts: counts({ selected: 5, sent: 3, reissued: 3, skipped: 2, revoked: 3 }), inFlight: 0, selected: 5 },
    { name: 'ok/nothing selected', counts: counts({}), inFlight: 0, selected: 0 },
  ];
  it.each(cases)('$name', ({ counts, inFlight, selected }) => {
    expect(selectedOnceExhausted(counts, inFlight)).toBe(selected);
  });
});

describe('sendBudget', () => {
  const cases: { name: string; input: Parameters<typeof sendBudget>[0]; budget: number }[] = [
    { name: 'ok/empty window', input: { maxConcurrent: 4, inFlight: 0, maxPerSecond: 20, sentInLastSecond: 0 }, budget: 4 },
    { name: 'ok/rate limit is tighter', input: { maxConcurrent: 50, inFlight: 0, maxPerSecond: 5, sentInLastSecond: 2 }, budget: 3 },
    { name: 'fail/window full', input: { maxConcurrent: 4, inFlight: 4, maxPerSecond: 20, sentInLastSecond: 0 }, budget: 0 },
    { name: 'fail/rate used up', input: { maxConcurrent: 4, inFlight: 0, maxPerSecond: 2, sentInLastSecond: 2 }, budget: 0 },
    { name: 'fail/window over-full never goes negative', input: { maxConcurrent: 4, inFlight: 6, maxPerSecond: 20, sentInLastSecond: 0 }, budget: 0 },
  ];
  it.each(cases)('$name', ({ input, budget }) => {
    expect(sendBudget(input)).toBe(budget);
  });
});

describe('mayRevokeSuperseded', () => {
  const cases = [
    { name: 'ok/reissued', outcome: 'reissued', may: true },
    { name: 'ok/rolled out', outcome: 'rolled_out', may: true },
    { name: 'ok/verified', outcome: 'verified', may: true },
    { name: 'fail/failed: the old version is still the one served', outcome: 'failed', may: false },
    { name: 'fail/skipped: nothing replaced it', outcome: 'skipped', may: false },
  ] as const;
  it.each(cases)('$name', ({ outcome, may }) => {
    expect(mayRevokeSuperseded(outcome)).toBe(may);
  });
});

describe('progressOf', () => {
  const carry: BulkCarry = { after: null, exhausted: true, counts: { ...EMPTY_COUNTS, selected: 10, sent: 6, reissued: 4 }, inFlight: [inFlight('crt_a', 0)], paused: false, cancelRequested: false, startedAt: at(0) };
  it('ok/rate, ETA and the step being retried', () => {
    const failure = { step: 'send-renewals', type: 'Error', message: 'connection refused', attempt: 3, at: at(1_000) };
    const progress = progressOf('blk_1', 'running', carry, T0 + 2_000, failure);
    expect(progress).toEqual({ bulkId: 'blk_1', state: 'running', counts: carry.counts, inFlight: 1, startedAt: at(0), ratePerSecond: 2, etaAt: at(5_000), lastError: failure });
  });
  it('ok/no failure: lastError is null, and no ETA before anything finished', () => {
    const progress = progressOf('blk_1', 'running', { ...carry, counts: { ...EMPTY_COUNTS, selected: 10 } }, T0 + 2_000);
    expect(progress.lastError).toBeNull();
    expect(progress.etaAt).toBeNull();
  });
});

describe('countsOfItems', () => {
  it("ok/counts one team's items by outcome and revoked superseded versions", () => {
    expect(
      countsOfItems([
        { outcome: 'verified', revoked: true },
        { outcome: 'failed', revoked: false },
        { outcome: null, revoked: false },
      ]),
    ).toEqual({ ...EMPTY_COUNTS, selected: 3, sent: 3, verified: 1, failed: 1, revoked: 1 });
  });
});
