/** audit verify after a database restore: a checkpoint ahead of the log is tampering unless a sound `platform.restored` row names it. */
import { describe, expect, it } from 'vitest';
import { AuditKey, chainNextRow, verifyAuditLog, type AuditCheckpoint, type ChainedRow } from '../../../db/audit-chain.js';

const KEY = AuditKey.fromSecret(Buffer.alloc(32, 7));
const T0 = Date.parse('2026-01-01T00:00:00Z');

function append(rows: ChainedRow[], action: string, details: Record<string, unknown> = {}): ChainedRow[] {
  const at = new Date(T0 + rows.length * 1000);
  return [...rows, chainNextRow(rows.at(-1), { at, actor: 'test', principalId: null, action, teamId: null, certificateId: null, details, dedupeKey: null }, KEY)];
}

function checkpointOf(row: ChainedRow): AuditCheckpoint {
  const at = new Date(row.at.getTime() + 500);
  return { seq: row.seq, hash: row.hash, at, mac: KEY.sealCheckpoint({ seq: row.seq, hash: row.hash, at }) };
}

/** Five rows; the checkpoint names row 5; the backup holds rows 1–3; after the restore, rows 4 and 5 are written again (other hashes). */
function restored() {
  let before: ChainedRow[] = [];
  for (let index = 0; index < 5; index++) before = append(before, 'test.event', { index });
  const outside = checkpointOf(before[4]!);
  let after = before.slice(0, 3);
  after = append(after, 'test.after-restore');
  return { outside, after };
}

describe('audit verify after a restore', () => {
  it('fail/unacknowledged: a checkpoint naming rows the restored log lacks or holds with another hash is a problem that points at reconcile', () => {
    const { outside, after } = restored();
    const truncated = verifyAuditLog({ rows: after, checkpoints: [outside], key: KEY });
    expect(truncated.ok).toBe(false);
    expect(truncated.problems.map((problem) => problem.kind)).toEqual(['truncated']);
    expect(truncated.problems[0]?.message).toContain('run certflow reconcile');
    const rewritten = verifyAuditLog({ rows: append(after, 'test.more'), checkpoints: [outside], key: KEY });
    expect(rewritten.problems.map((problem) => problem.kind)).toEqual(['changed']);
    expect(rewritten.restores).toEqual([]);
  });

  it('ok/acknowledged: a platform.restored row naming the checkpoint turns the problem into a reported restore', () => {
    const { outside, after } = restored();
    const rows = append(after, 'platform.restored', { restoredHeadSeq: 3, checkpoints: [{ seq: outside.seq, hash: outside.hash, at: outside.at.toISOString() }] });
    const verification = verifyAuditLog({ rows, checkpoints: [outside], key: KEY });
    expect(verification.problems).toEqual([]);
    expect(verification.ok).toBe(true);
    expect(verification.restores).toEqual([expect.objectContaining({ checkpointSeq: 5, acknowledgedBySeq: 5, restoredHeadSeq: 3 })]);
    expect(verification.restores[0]?.message).toContain('restored from a backup');
  });

  it('fail/wrong-hash: an acknowledgement of another checkpoint (same seq, other hash) does not cover this one', () => {
    const { outside, after } = restored();
    const rows = append(after, 'platform.restored', { restoredHeadSeq: 3, checkpoints: [{ seq: outside.seq, hash: 'f'.repeat(64) }] });
    expect(verifyAuditLog({ rows, checkpoints: [outside], key: KEY }).ok).toBe(false);
  });

  it('fail/forged: a platform.restored row written without the audit key acknowledges nothing', () => {
    const { outside, after } = restored();
    const forged = append(after, 'platform.restored', { restoredHeadSeq: 3, checkpoints: [{ seq: outside.seq, hash: outside.hash }] });
    forged[forged.length - 1] = { ...forged.at(-1)!, mac: '0'.repeat(64) };
    const verification = verifyAuditLog({ rows: forged, checkpoints: [outside], key: KEY });
    expect(verification.ok).toBe(false);
    expect(verification.restores).toEqual([]);
  });
});
