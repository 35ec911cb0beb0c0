import { describe, expect, it } from 'vitest';
import { formatReport, runReconcileCli } from '../../../cmd/reconcile-cli.js';

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReconcileCli(args, { out: (line) => out.push(line), err: (line) => err.push(line), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('certflow reconcile', () => {
  it('prints its usage with --help, refuses an unknown option, and needs Postgres and Temporal', async () => {
    expect(await run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('usage: certflow reconcile') });
    expect(await run(['--everything'])).toMatchObject({ code: 1, err: expect.stringContaining("Unknown option '--everything'") });
    expect(await run([], { CERTFLOW_DATA_DIR: '/nonexistent' })).toMatchObject({ code: 1, err: 'error: DATABASE_URL and TEMPORAL_ADDRESS are required' });
  });

  it('reports each finding on a line, or that there is nothing to repair', () => {
    expect(formatReport({ checked: { certificates: 3, workflows: 4 }, findings: [] })).toEqual(['reconcile: nothing to repair; checked 3 certificates and 4 lifecycle workflows']);
    expect(
      formatReport({
        checked: { certificates: 1, workflows: 1 },
        findings: [
          { certificateId: 'crt_1', action: 'record_revocation', detail: 'revoked' },
          { certificateId: null, action: 'audit_restored', detail: 'restored' },
        ],
      }),
    ).toEqual(['reconcile: 2 findings; checked 1 certificates and 1 lifecycle workflows', '  record_revocation crt_1: revoked', '  audit_restored (platform): restored']);
  });
});
