import { describe, expect, it } from 'vitest';
import { formatVerification, runAuditCli, EXIT_AUDIT_ERROR, EXIT_AUDIT_OK } from '../../../cmd/audit-cli.js';
import type { AuditVerification } from '../../../db/audit-chain.js';

const base: AuditVerification = { ok: true, rows: 12, legacyRows: 0, checkpoints: 3, headSeq: 12, checkpointSeq: 10, problems: [], restores: [] };

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAuditCli(args, { out: (line) => out.push(line), err: (line) => err.push(line), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('audit verify: report', () => {
  const cases: { name: string; verification: AuditVerification; external: { path: string | null; checkpoints: unknown[] }; want: string[] }[] = [
    {
      name: 'ok/counts',
      verification: base,
      external: { path: null, checkpoints: [] },
      want: ['audit log OK: 12 rows, head row 12, 3 checkpoints (newest names row 10), no checkpoint file'],
    },
    {
      name: 'ok/legacy rows and a checkpoint file',
      verification: { ...base, legacyRows: 4 },
      external: { path: '/var/audit.jsonl', checkpoints: [{}, {}] },
      want: ['audit log OK: 12 rows (4 written before keyed sealing), head row 12, 3 checkpoints (newest names row 10), 2 of them from /var/audit.jsonl'],
    },
    {
      name: 'fail/one line per problem, by seq',
      verification: {
        ...base,
        ok: false,
        problems: [
          { kind: 'changed', seq: 3, message: 'row 3 was changed: its content does not match its hash' },
          { kind: 'truncated', seq: 14, message: 'the newest rows were removed: …' },
        ],
      },
      external: { path: null, checkpoints: [] },
      want: [
        'audit log FAILED: 2 problems; 12 rows, head row 12, 3 checkpoints (newest names row 10), no checkpoint file',
        '  changed row 3: row 3 was changed: its content does not match its hash',
        '  truncated row 14: the newest rows were removed: …',
      ],
    },
  ];
  it.each(cases)('$name', ({ verification, external, want }) => {
    expect(formatVerification(verification, external)).toEqual(want);
  });
});

describe('audit verify: arguments', () => {
  it('ok/--help prints the usage', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(EXIT_AUDIT_OK);
    expect(result.out).toMatch(/usage: certflow audit verify/);
  });
  const fail: { name: string; args: string[]; env?: Record<string, string>; message: RegExp }[] = [
    { name: 'fail/no command', args: [], message: /unknown audit command/ },
    { name: 'fail/unknown command', args: ['rewrite'], message: /unknown audit command "rewrite"/ },
    { name: 'fail/unknown option', args: ['verify', '--force'], message: /Unknown option '--force'/ },
    { name: 'fail/no DATABASE_URL', args: ['verify'], message: /DATABASE_URL is required/ },
  ];
  it.each(fail)('$name', async ({ args, env, message }) => {
    const result = await run(args, env);
    expect(result.code).toBe(EXIT_AUDIT_ERROR);
    expect(result.err).toMatch(message);
  });
});
