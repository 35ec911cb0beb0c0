import { describe, expect, it } from 'vitest';
import { afterFailure, bulkOutcomeOf, initialStatus, nextRunInput, workingState } from '../../../core/lifecycle-steps.js';
import type { DestinationPlan, LifecycleInput, RolloutFailure } from '../../../core/lifecycle.js';
import type { VersionSummary } from '../../../core/types.js';

const input = (change: Partial<LifecycleInput> = {}): LifecycleInput => ({ certificateId: 'crt_1', generation: 1, destinations: [], ...change });
const version: VersionSummary = {
  versionId: 'ver_2',
  generation: 2,
  serial: '01',
  issuerId: 'iss_1',
  issuedAt: '2026-01-01T00:00:00.000Z',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2026-02-01T00:00:00.000Z',
  fingerprintSha256: 'ab',
};

describe('afterFailure', () => {
  const cases: { name: string; type: string; attempt: number; cap?: number; want: ReturnType<typeof afterFailure> }[] = [
    { name: 'ok/a policy violation waits for an operator', type: 'PolicyViolation', attempt: 1, want: { kind: 'wait-for-operator' } },
    { name: 'ok/a revoked certificate waits (the revocation cancels the wait)', type: 'CertificateRevoked', attempt: 1, want: { kind: 'wait-for-operator' } },
    { name: 'ok/an infrastructure error backs off 30 s first', type: 'Error', attempt: 1, want: { kind: 'backoff', ms: 30_000 } },
    { name: 'ok/then doubles', type: 'Timeout', attempt: 3, want: { kind: 'backoff', ms: 120_000 } },
    { name: 'ok/capped at 15 min', type: 'Error', attempt: 40, want: { kind: 'backoff', ms: 900_000 } },
    { name: 'ok/a revocation is retried at most 10 s apart', type: 'Error', attempt: 40, cap: 10_000, want: { kind: 'backoff', ms: 10_000 } },
    { name: 'fail/a business error is never backed off, cap or not', type: 'InvalidRequest', attempt: 5, cap: 10_000, want: { kind: 'wait-for-operator' } },
  ];
  it.each(cases)('$name', ({ type, attempt, cap, want }) => {
    expect(afterFailure(type, attempt, cap)).toEqual(want);
  });
});

describe('bulkOutcomeOf', () => {
  const file: DestinationPlan = { type: 'file', verify: false };
  const verified: DestinationPlan = { type: 'file', verify: true };
  const failure: RolloutFailure = { destinationIndex: 1, reason: 'endpoint serves 0a', at: '2026-01-01T00:00:00.000Z' };
  const cases: { name: string; plans: DestinationPlan[]; failures: RolloutFailure[]; want: ReturnType<typeof bulkOutcomeOf> }[] = [
    { name: 'ok/no destinations: reissued', plans: [], failures: [], want: { outcome: 'reissued', reason: null } },
    { name: 'ok/delivered, none verified: rolled out', plans: [file], failures: [], want: { outcome: 'rolled_out', reason: null } },
    { name: 'ok/any verified destination: verified', plans: [file, verified], failures: [], want: { outcome: 'verified', reason: null } },
    { name: 'fail/a failed destination fails the renewal, with why', plans: [file, verified], failures: [failure], want: { outcome: 'failed', reason: 'destination #1: endpoint serves 0a' } },
  ];
  it.each(cases)('$name', ({ plans, failures, want }) => {
    expect(bulkOutcomeOf(plans, failures)).toEqual(want);
  });
});

describe('run input and status', () => {
  it('ok/the first generation is issuing, a renewal renewing, a revocation run revoking', () => {
    expect(workingState(input())).toBe('issuing');
    expect(workingState(input({ generation: 3 }))).toBe('renewing');
    expect(initialStatus(input({ revokeOnStart: { reason: 'keyCompromise' } }), new Date(0))).toMatchObject({ state: 'revoking', pendingStep: 'revoke' });
    expect(initialStatus(input({ generation: 2 }), new Date(0))).toMatchObject({ state: 'renewing', pendingStep: 'issue', stateSince: '1970-01-01T00:00:00.000Z' });
  });

  it('ok/the next run carries the version and the bulk operations waiting for it; approval and revocation do not carry', () => {
    const next = nextRunInput(input({ approval: { approvalId: 'apr', teamId: 't', requestedBy: 'tok', reasons: [], deadlineSeconds: 1, escalateAfterSeconds: 1 } }), version, { reason: 'bulk b1', bulkIds: ['b1'] });
    expect(next).toMatchObject({ generation: 2, currentVersion: version, renewalReason: 'bulk b1', approval: null, bulkOperationIds: ['b1'], revokeOnStart: null });
  });

  it('ok/a scheduled renewal has no bulk operation waiting', () => {
    expect(nextRunInput(input({ bulkOperationIds: ['b0'] }), version, null)).toMatchObject({ renewalReason: 'scheduled renewal', bulkOperationIds: [] });
  });
});
