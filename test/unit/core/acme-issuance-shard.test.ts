import { describe, expect, it } from 'vitest';
import { acmeShardOf, acmeShardWorkflowId, addPending, shouldContinueAsNew, takeBatch, toHandOver, type AcmeIssuanceOutcome } from '../../../core/acme-issuance-shard.js';

describe('acmeShardOf', () => {
  it('ok/stable, within range, and spreads ids over the shards', () => {
    const ids = Array.from({ length: 400 }, (_, index) => `crt_${index.toString(36).padStart(8, 'x')}`);
    const counts = [0, 0, 0, 0];
    for (const id of ids) {
      const shard = acmeShardOf(id, 4);
      expect(shard).toBe(acmeShardOf(id, 4));
      counts[shard]!++;
    }
    expect(Math.min(...counts)).toBeGreaterThan(50);
  });

  it.each([
    { name: 'ok/one shard: always 0', id: 'crt_abc', shards: 1, shard: 0 },
    { name: 'edge/zero shards treated as one', id: 'crt_abc', shards: 0, shard: 0 },
    { name: 'ok/known value (FNV-1a of "a" mod 7)', id: 'a', shards: 7, shard: 0xe40c292c % 7 },
  ])('$name', ({ id, shards, shard }) => {
    expect(acmeShardOf(id, shards)).toBe(shard);
  });

  it('ok/the workflow id names the task queue and the shard', () => {
    expect(acmeShardWorkflowId('certflow', 3)).toBe('acme-issuance/certflow/3');
  });
});

describe('addPending', () => {
  it.each([
    { name: 'ok/appends new ids in order', pending: ['a'], ids: ['b', 'c'], next: ['a', 'b', 'c'] },
    { name: 'ok/an id already pending is not added again', pending: ['a', 'b'], ids: ['b', 'a', 'c'], next: ['a', 'b', 'c'] },
    { name: 'edge/a repeat within one call is added once', pending: [], ids: ['a', 'a'], next: ['a'] },
    { name: 'edge/nothing new', pending: ['a'], ids: [], next: ['a'] },
  ])('$name', ({ pending, ids, next }) => {
    expect(addPending(pending, ids)).toEqual(next);
  });
});

describe('takeBatch', () => {
  it.each([
    { name: 'ok/the oldest first, at most the batch size', pending: ['a', 'b', 'c'], size: 2, batch: ['a', 'b'], rest: ['c'] },
    { name: 'ok/fewer than the batch size: all', pending: ['a'], size: 32, batch: ['a'], rest: [] },
    { name: 'edge/a batch size below one takes one', pending: ['a', 'b'], size: 0, batch: ['a'], rest: ['b'] },
  ])('$name', ({ pending, size, batch, rest }) => {
    expect(takeBatch(pending, size)).toEqual({ batch, rest });
  });
});

describe('toHandOver', () => {
  const version = { versionId: 'ver_1', generation: 1, serial: '01', issuerId: 'iss_1', fingerprintSha256: 'ff', notBefore: '', notAfter: '', issuedAt: '', certificatePem: 'PEM' };
  it('ok/only failed ids (refused, or failed every attempt) go to their lifecycle', () => {
    const outcomes: AcmeIssuanceOutcome[] = [
      { certificateId: 'a', kind: 'issued', version },
      { certificateId: 'b', kind: 'skipped', reason: 'revoked' },
      { certificateId: 'c', kind: 'skipped', reason: 'not_found' },
      { certificateId: 'd', kind: 'failed', refused: true, error: 'policy' },
      { certificateId: 'e', kind: 'failed', refused: false, error: 'postgres away' },
    ];
    expect(toHandOver(outcomes)).toEqual(['d', 'e']);
  });
});

describe('shouldContinueAsNew', () => {
  it.each([
    { name: 'ok/early in the run: keep going', suggested: false, batches: 3, result: false },
    { name: 'ok/Temporal suggests it', suggested: true, batches: 3, result: true },
    { name: 'ok/after the last batch of a run', suggested: false, batches: 200, result: true },
  ])('$name', ({ suggested, batches, result }) => {
    expect(shouldContinueAsNew({ suggested, batches, maxBatches: 200 })).toBe(result);
  });
});
