import { describe, expect, it } from 'vitest';
import { assessAgentReport } from '../../../activities/deliver-to-agent.js';

const expected = { rolloutKey: 'g2/rollout/1', serial: '4fab', agentId: 'agt_x', deadlineMs: 10_000, reportTimeoutSeconds: 600 };
const row = (change: Partial<{ rolloutKey: string | null; state: 'pending' | 'delivered'; deployedSerial: string | null; lastError: string | null }> = {}) => ({
  rolloutKey: 'g2/rollout/1',
  state: 'pending' as const,
  deployedSerial: null,
  lastError: null,
  ...change,
});

describe('assessAgentReport', () => {
  const cases: Array<[string, Parameters<typeof assessAgentReport>[0], number, ReturnType<typeof assessAgentReport>['kind'], RegExp?]> = [
    ['waiting/nothing reported yet', row(), 5_000, 'waiting'],
    ['deployed/the version serial', row({ deployedSerial: '4fab' }), 5_000, 'deployed'],
    ['deployed/serial compared case-insensitively', row({ deployedSerial: '4FAB' }), 5_000, 'deployed'],
    ['deployed/a report wins over a passed deadline', row({ deployedSerial: '4fab' }), 20_000, 'deployed'],
    ['failed/another serial deployed, both named', row({ deployedSerial: '99' }), 5_000, 'failed', /reported serial 99 deployed, but the version to deploy has serial 4fab/],
    ['failed/the agent reported an error', row({ lastError: 'reload command failed' }), 5_000, 'failed', /agent agt_x could not deploy serial 4fab: reload command failed/],
    ['timed_out/deadline passed', row(), 10_000, 'timed_out', /did not report deploying serial 4fab within 600 s/],
    ['timed_out/a failure after the deadline ends the wait, naming the error', row({ lastError: 'reload failed' }), 10_000, 'timed_out', /within 600 s; last report: agent agt_x could not deploy serial 4fab: reload failed/],
    ['superseded/another rollout key', row({ rolloutKey: 'g2/rollback/1' }), 5_000, 'superseded', /replaced by another request/],
    ['superseded/row gone', null, 5_000, 'superseded'],
  ];
  it('timed_out/names the failure an earlier attempt saw', () => {
    const outcome = assessAgentReport(row(), { ...expected, lastFailure: 'agent agt_x could not deploy serial 4fab: disk full' }, 10_000);
    expect(outcome).toEqual({ kind: 'timed_out', message: 'agent agt_x did not report deploying serial 4fab within 600 s; last report: agent agt_x could not deploy serial 4fab: disk full' });
  });

  for (const [name, input, now, kind, message] of cases) {
    it(name, () => {
      const outcome = assessAgentReport(input, expected, now);
      expect(outcome.kind).toBe(kind);
      if (message) expect('message' in outcome ? outcome.message : '').toMatch(message);
    });
  }
});
