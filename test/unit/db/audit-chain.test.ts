import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditKey, chainNextRow, GENESIS_HASH, rowHash, verifyAuditLog, type AuditCheckpoint, type AuditProblemKind, type ChainedRow } from '../../../db/audit-chain.js';

const KEY = AuditKey.fromSecret(Buffer.alloc(32, 7));
const OTHER_KEY = AuditKey.fromSecret(Buffer.alloc(32, 8));
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A chain of `n` rows (seq 1..n) written like db/audit.ts writes them. */
function chain(n: number): ChainedRow[] {
  const rows: ChainedRow[] = [];
  for (let index = 0; index < n; index++) {
    rows.push(
      chainNextRow(
        rows.at(-1),
        { at: new Date(T0 + index * 1000), actor: 'tok_1', principalId: null, action: 'test.event', teamId: 'team_1', certificateId: null, details: { index, nested: { b: 1, a: [1.5, 'x'] } }, dedupeKey: null },
        KEY,
      ),
    );
  }
  return rows;
}

function checkpointAt(row: ChainedRow, key = KEY): AuditCheckpoint {
  const at = new Date(row.at.getTime() + 500);
  return { seq: row.seq, hash: row.hash, at, mac: key.sealCheckpoint({ seq: row.seq, hash: row.hash, at }) };
}

/** Rows written before issue 11 (chain version 1): SHA-256 over the previous hash and the old canonical form. */
function legacyChain(n: number): ChainedRow[] {
  const rows: ChainedRow[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const at = new Date(T0 - 100_000 + seq);
    const canonical = JSON.stringify([at.toISOString(), 'workflow', 'old.event', null, 'crt_1', `{"a":1,"seq":${seq}}`, null]);
    const hash = createHash('sha256').update(prevHash).update(canonical).digest('hex');
    rows.push({ seq, at, actor: 'workflow', principalId: null, action: 'old.event', teamId: null, certificateId: 'crt_1', details: { seq, a: 1 }, dedupeKey: null, prevHash, hash, chainVersion: 1, mac: null });
    prevHash = hash;
  }
  return rows;
}

const swap = (rows: ChainedRow[], a: number, b: number): ChainedRow[] =>
  rows.map((row) => (row.seq === a ? { ...rows[b - 1]!, seq: a } : row.seq === b ? { ...rows[a - 1]!, seq: b } : row));

describe('verifyAuditLog', () => {
  const ok: { name: string; rows: () => ChainedRow[]; checkpoints?: (rows: ChainedRow[]) => AuditCheckpoint[] }[] = [
    { name: 'ok/empty log', rows: () => [] },
    { name: 'ok/intact chain', rows: () => chain(5) },
    { name: 'ok/intact chain with checkpoints', rows: () => chain(5), checkpoints: (rows) => [checkpointAt(rows[2]!), checkpointAt(rows[4]!)] },
    { name: 'ok/rows given in any order', rows: () => chain(5).reverse() },
    {
      name: 'ok/legacy rows then version-2 rows continue the chain',
      rows: () => {
        const legacy = legacyChain(3);
        const next = chainNextRow(legacy.at(-1), { at: new Date(T0), actor: 'system', principalId: 'prn_1', action: 'new.event', teamId: null, certificateId: null, details: {}, dedupeKey: 'k' }, KEY);
        return [...legacy, next];
      },
    },
  ];
  it.each(ok)('$name', ({ rows, checkpoints }) => {
    const list = rows();
    const result = verifyAuditLog({ rows: list, checkpoints: checkpoints?.(list) ?? [], key: KEY });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.rows).toBe(list.length);
  });

  const fail: { name: string; tamper: (rows: ChainedRow[]) => { rows: ChainedRow[]; checkpoints?: AuditCheckpoint[] }; want: { kind: AuditProblemKind; seq: number; message: RegExp }[] }[] = [
    {
      name: 'fail/a middle row edited',
      tamper: (rows) => ({ rows: rows.map((row) => (row.seq === 3 ? { ...row, details: { ...row.details, index: 99 } } : row)) }),
      want: [{ kind: 'changed', seq: 3, message: /row 3 was changed: its content does not match its hash/ }],
    },
    {
      name: 'fail/a middle row edited and its hash recomputed (no audit key)',
      tamper: (rows) => ({
        rows: rows.map((row) => {
          if (row.seq !== 3) return row;
          const edited = { ...row, actor: 'someone-else' };
          return { ...edited, hash: rowHash(edited) };
        }),
      }),
      want: [{ kind: 'changed', seq: 3, message: /MAC does not match/ }],
    },
    {
      name: 'fail/the whole chain rewritten from row 2 with a key that is not the audit key',
      tamper: (rows) => {
        const rewritten = [rows[0]!];
        for (const row of rows.slice(1)) rewritten.push(chainNextRow(rewritten.at(-1), { ...row, actor: 'forger' }, OTHER_KEY));
        return { rows: rewritten };
      },
      want: [2, 3, 4, 5].map((seq) => ({ kind: 'changed' as const, seq, message: /MAC does not match/ })),
    },
    {
      name: 'fail/a middle row removed',
      tamper: (rows) => ({ rows: rows.filter((row) => row.seq !== 3) }),
      want: [{ kind: 'removed', seq: 4, message: /rows between row 2 and row 4 were removed \(seq 3\)/ }],
    },
    {
      name: 'fail/the oldest row removed',
      tamper: (rows) => ({ rows: rows.filter((row) => row.seq !== 1) }),
      want: [{ kind: 'removed', seq: 2, message: /rows before row 2 were removed/ }],
    },
    {
      name: 'fail/two rows swapped',
      tamper: (rows) => ({ rows: swap(rows, 3, 4) }),
      want: [
        { kind: 'reordered', seq: 3, message: /row 3 was reordered: in the chain it follows row 4/ },
        { kind: 'reordered', seq: 4, message: /row 4 was reordered: in the chain it follows row 2/ },
        { kind: 'reordered', seq: 5, message: /row 5 was reordered: in the chain it follows row 3/ },
      ],
    },
    {
      name: 'fail/the newest rows removed after a checkpoint',
      tamper: (rows) => ({ rows: rows.slice(0, 3), checkpoints: [checkpointAt(rows[1]!), checkpointAt(rows[4]!)] }),
      want: [{ kind: 'truncated', seq: 5, message: /the newest rows were removed: the checkpoint of .* names row 5, but the log ends at row 3/ }],
    },
    {
      name: 'fail/every row removed after a checkpoint',
      tamper: (rows) => ({ rows: [], checkpoints: [checkpointAt(rows[4]!)] }),
      want: [{ kind: 'truncated', seq: 5, message: /ends at no row/ }],
    },
    {
      name: 'fail/the newest rows replaced by others after a checkpoint',
      tamper: (rows) => {
        const kept = rows.slice(0, 3);
        const replaced = [...kept];
        for (const row of rows.slice(3)) replaced.push(chainNextRow(replaced.at(-1), { ...row, action: 'innocent.event' }, OTHER_KEY));
        return { rows: replaced, checkpoints: [checkpointAt(rows[4]!)] };
      },
      want: [
        { kind: 'changed', seq: 4, message: /MAC does not match/ },
        { kind: 'changed', seq: 5, message: /MAC does not match/ },
        { kind: 'changed', seq: 5, message: /differs from the one the checkpoint .* names/ },
      ],
    },
    {
      name: 'fail/a forged checkpoint',
      tamper: (rows) => ({ rows, checkpoints: [checkpointAt(rows[4]!, OTHER_KEY)] }),
      want: [{ kind: 'checkpoint', seq: 5, message: /not sealed by the audit key/ }],
    },
    {
      name: 'fail/a sealed row rewritten as an unkeyed legacy row (downgrade)',
      tamper: (rows) => ({
        rows: rows.map((row) => {
          if (row.seq !== 4) return row;
          const downgraded = { ...row, actor: 'forger', chainVersion: 1, mac: null };
          return { ...downgraded, hash: rowHash(downgraded) };
        }),
      }),
      want: [
        { kind: 'changed', seq: 4, message: /claims the unkeyed chain version 1 after sealed row 1/ },
      ],
    },
    {
      name: 'fail/a legacy row edited',
      tamper: () => ({ rows: legacyChain(3).map((row) => (row.seq === 2 ? { ...row, action: 'other' } : row)) }),
      want: [{ kind: 'changed', seq: 2, message: /content does not match/ }],
    },
  ];
  it.each(fail)('$name', ({ tamper, want }) => {
    const { rows, checkpoints = [] } = tamper(chain(5));
    const result = verifyAuditLog({ rows, checkpoints, key: KEY });
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(want.length);
    want.forEach((expected, index) => {
      expect(result.problems[index]).toMatchObject({ kind: expected.kind, seq: expected.seq });
      expect(result.problems[index]!.message).toMatch(expected.message);
    });
  });

  it('fail/the audit key is at least 32 bytes', () => {
    expect(() => AuditKey.fromSecret(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
