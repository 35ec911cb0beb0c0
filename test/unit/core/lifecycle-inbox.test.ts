import { describe, expect, it } from 'vitest';
import { emptyInbox, markReported, receiveRenewNow, receiveRevoke, unreportedBulkIds, type Inbox, type RunPosition } from '../../../core/lifecycle-inbox.js';
import type { RenewNowRequest } from '../../../core/lifecycle.js';

const issuing: RunPosition = { state: 'renewing', failing: false, issued: false };
const failing: RunPosition = { state: 'renewing', failing: true, issued: false };
const waitingForOperator: RunPosition = { state: 'failed', failing: true, issued: false };
const active: RunPosition = { state: 'active', failing: false, issued: true };
const deliveryFailing: RunPosition = { state: 'renewing', failing: true, issued: true };
const rolloutFailed: RunPosition = { state: 'rollout_failed', failing: false, issued: true };
const revoking: RunPosition = { state: 'revoking', failing: false, issued: true };

const operator: RenewNowRequest = { reason: 'operator asked' };
const bulk = (bulkOperationId: string): RenewNowRequest => ({ reason: `bulk ${bulkOperationId}`, bulkOperationId });
const inbox = (change: Partial<Inbox> = {}): Inbox => ({ ...emptyInbox(), ...change });

describe('receiveRenewNow', () => {
  const cases: { name: string; before: Inbox; request: RenewNowRequest; at: RunPosition; want: Partial<Inbox> }[] = [
    { name: 'ok/active: an operator renewal asks for the next generation', before: inbox(), request: operator, at: active, want: { renewNext: { reason: 'operator asked', bulkIds: [] } } },
    { name: 'ok/active: a bulk renewal asks for the next generation and is owed its outcome there', before: inbox(), request: bulk('b1'), at: active, want: { renewNext: { reason: 'bulk b1', bulkIds: ['b1'] } } },
    { name: 'ok/active: two overlapping bulk operations both wait for the next generation', before: inbox({ renewNext: { reason: 'bulk b1', bulkIds: ['b1'] } }), request: bulk('b2'), at: active, want: { renewNext: { reason: 'bulk b1', bulkIds: ['b1', 'b2'] } } },
    { name: 'ok/rollout failed: a renewal asks for the next generation', before: inbox(), request: bulk('b1'), at: rolloutFailed, want: { renewNext: { reason: 'bulk b1', bulkIds: ['b1'] } } },
    { name: 'ok/issuing: the issuance under way serves a bulk renewal', before: inbox(), request: bulk('b1'), at: issuing, want: { owed: ['b1'] } },
    { name: 'ok/issuing: an operator renewal changes nothing (already renewing)', before: inbox(), request: operator, at: issuing, want: {} },
    { name: 'ok/failing: a renewal retries the step now', before: inbox(), request: operator, at: failing, want: { retryNow: true } },
    { name: 'ok/failing: a bulk renewal retries now and is owed the outcome', before: inbox(), request: bulk('b1'), at: failing, want: { retryNow: true, owed: ['b1'] } },
    { name: 'ok/delivery failing after issuance: an operator renewal retries the delivery now', before: inbox(), request: operator, at: deliveryFailing, want: { retryNow: true } },
    {
      name: 'ok/delivery failing after issuance: a bulk renewal retries now and waits for the next generation, not this version',
      before: inbox(),
      request: bulk('b1'),
      at: deliveryFailing,
      want: { retryNow: true, renewNext: { reason: 'bulk b1', bulkIds: ['b1'] } },
    },
    { name: 'fail/delivery failing after issuance: a bulk operation this run owes already only retries now', before: inbox({ owed: ['b1'] }), request: bulk('b1'), at: deliveryFailing, want: { retryNow: true, owed: ['b1'] } },
    { name: 'ok/waiting for an operator: a renewal retries now', before: inbox(), request: operator, at: waitingForOperator, want: { retryNow: true } },
    { name: 'ok/failing: a bulk operation already told of the failure retries now without a second outcome', before: inbox({ reported: ['b1'] }), request: bulk('b1'), at: failing, want: { retryNow: true, reported: ['b1'] } },
    { name: 'fail/issuing: a retried batch of the same bulk operation is a duplicate', before: inbox({ owed: ['b1'] }), request: bulk('b1'), at: issuing, want: { owed: ['b1'] } },
    { name: 'fail/active: a bulk operation this run already served asks for nothing more', before: inbox({ reported: ['b1'] }), request: bulk('b1'), at: active, want: { reported: ['b1'] } },
    { name: 'fail/active: the same bulk operation twice for the next generation counts once', before: inbox({ renewNext: { reason: 'bulk b1', bulkIds: ['b1'] } }), request: bulk('b1'), at: active, want: { renewNext: { reason: 'bulk b1', bulkIds: ['b1'] } } },
    { name: 'fail/revoking: a renewal is ignored', before: inbox(), request: bulk('b1'), at: revoking, want: {} },
    { name: 'fail/a revocation was asked for: a renewal is ignored', before: inbox({ revoke: { reason: 'keyCompromise' } }), request: operator, at: active, want: { revoke: { reason: 'keyCompromise' } } },
  ];
  it.each(cases)('$name', ({ before, request, at, want }) => {
    expect(receiveRenewNow(before, request, at)).toEqual({ ...before, ...want });
  });
});

describe('receiveRevoke', () => {
  it('ok/the first revocation is recorded', () => {
    expect(receiveRevoke(inbox(), { reason: 'keyCompromise' }).revoke).toEqual({ reason: 'keyCompromise' });
  });
  it('ok/a second revocation keeps the first reason', () => {
    expect(receiveRevoke(inbox({ revoke: { reason: 'superseded' } }), { reason: 'keyCompromise' }).revoke).toEqual({ reason: 'superseded' });
  });
});

describe('unreportedBulkIds', () => {
  const cases: { name: string; state: Inbox; includingNext: boolean; want: string[] }[] = [
    { name: 'ok/owed and not yet reported', state: inbox({ owed: ['b1', 'b2'], reported: ['b1'] }), includingNext: false, want: ['b2'] },
    { name: 'ok/the next generation is not this run’s to report', state: inbox({ owed: ['b1'], renewNext: { reason: 'x', bulkIds: ['b2'] } }), includingNext: false, want: ['b1'] },
    { name: 'ok/after a revocation the next generation’s operations are answered too', state: inbox({ owed: ['b1'], renewNext: { reason: 'x', bulkIds: ['b2'] } }), includingNext: true, want: ['b1', 'b2'] },
    { name: 'ok/an operation in both lists is answered once', state: inbox({ owed: ['b1'], renewNext: { reason: 'x', bulkIds: ['b1'] } }), includingNext: true, want: ['b1'] },
    { name: 'fail/everything reported: nothing left', state: markReported(inbox({ owed: ['b1'] }), 'b1'), includingNext: true, want: [] },
  ];
  it.each(cases)('$name', ({ state, includingNext, want }) => {
    expect(unreportedBulkIds(state, includingNext)).toEqual(want);
  });

  it('ok/a run started for bulk operations owes each once', () => {
    expect(emptyInbox(['b1', 'b1', 'b2']).owed).toEqual(['b1', 'b2']);
  });
});
