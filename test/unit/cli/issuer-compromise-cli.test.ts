/** cmd/issuer-compromise-cli.ts against a scripted fake API: arguments, confirmation, polling, report, exit codes. */
import { describe, expect, it } from 'vitest';
import { EXIT_ERROR, EXIT_OK, EXIT_WITH_FAILURES, runIssuerCompromise, type IssuerCompromiseIo } from '../../../cmd/issuer-compromise-cli.js';
import type { CompromiseReport } from '../../../core/issuer-compromise.js';

const ISSUER = 'iss_aaaaaaaaaaaaaaaaaaaa';

function report(failed: CompromiseReport['failed'] = []): CompromiseReport {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    issuerId: ISSUER,
    successorId: 'iss_bbbbbbbbbbbbbbbbbbbb',
    bulkId: 'blk_cccccccccccccccccccc',
    reason: 'drill',
    outcome: 'completed',
    counts: { selected: 1, sent: 1, reissued: 0, rolled_out: 1, verified: 0, failed: 0, skipped: 0, revoked: 1, replaced: 1, failedOrRemaining: failed.length },
    replaced: [{ certificateId: 'crt_x', oldSerial: '01', newSerial: '02', newIssuerId: 'iss_bbbbbbbbbbbbbbbbbbbb', outcome: 'rolled_out', oldRevoked: true }],
    failed,
    truncated: false,
    crls: [{ issuerId: 'iss_root', crlNumber: '7' }],
    timings: { startedAt: at, markedAt: at, successorAt: at, reissueStartedAt: at, reissueFinishedAt: at, revokedAt: at, finishedAt: at, totalSeconds: 1.5 },
  };
}

function fakeApi(drillAnswers: unknown[]) {
  const calls: string[] = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    const path = new URL(url).pathname;
    calls.push(`${init?.method ?? 'GET'} ${path}`);
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    if (path === '/v1/issuers') return json([{ id: ISSUER, kind: 'intermediate', status: 'active', commonName: 'Issuing CA 1', parentId: 'iss_root' }]);
    if (path === '/v1/bulk-reissues') return json({ dryRun: true, count: 1 });
    if (init?.method === 'POST') return json({ workflowId: `issuer-compromise/${ISSUER}`, issuerId: ISSUER, state: 'running' }, 202);
    return json(drillAnswers.shift());
  }) as typeof fetch;
  return { calls, fetchImpl };
}

function io(fetchImpl: typeof fetch, answer: string | null = null) {
  const out: string[] = [];
  const err: string[] = [];
  const value: IssuerCompromiseIo = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env: { CERTFLOW_TOKEN: 'cft_admin' },
    ask: answer === null ? null : async () => answer,
    fetch: fetchImpl,
    sleep: async () => undefined,
  };
  return { out, err, value };
}

describe('runIssuerCompromise', () => {
  it('ok/starts with --yes, follows the phases and prints the report', async () => {
    const api = fakeApi([{ state: 'running', phase: 'reissuing', successorId: 'iss_b', bulkId: 'blk_c', report: null }, { state: 'completed', report: report() }]);
    const run = io(api.fetchImpl);
    expect(await runIssuerCompromise([ISSUER, '--reason', 'drill', '--yes'], run.value)).toBe(EXIT_OK);
    expect(api.calls).toContain(`POST /v1/issuers/${ISSUER}/compromise`);
    const text = run.out.join('\n');
    expect(text).toContain('reissuing (successor iss_b) (bulk blk_c)');
    expect(text).toContain('crt_x  01 → 02  rolled_out, old revoked');
    expect(text).toContain('total 1.5 s');
  });

  it('ok/exit code 2 when certificates failed', async () => {
    const api = fakeApi([{ state: 'completed', report: report([{ certificateId: 'crt_y', reason: 'failed: destination #0: disk full' }]) }]);
    const run = io(api.fetchImpl, 'y');
    expect(await runIssuerCompromise([ISSUER, '--reason', 'drill'], run.value)).toBe(EXIT_WITH_FAILURES);
    expect(run.out.join('\n')).toContain('crt_y  failed: destination #0: disk full');
  });

  it('fail/no terminal and no --yes: nothing is started', async () => {
    const api = fakeApi([]);
    const run = io(api.fetchImpl, null);
    expect(await runIssuerCompromise([ISSUER, '--reason', 'drill'], run.value)).toBe(EXIT_ERROR);
    expect(api.calls.some((call) => call.startsWith('POST /v1/issuers/'))).toBe(false);
  });

  it('fail/declined confirmation starts nothing', async () => {
    const api = fakeApi([]);
    const run = io(api.fetchImpl, 'n');
    expect(await runIssuerCompromise([ISSUER, '--reason', 'drill'], run.value)).toBe(EXIT_ERROR);
    expect(api.calls.some((call) => call.startsWith('POST /v1/issuers/'))).toBe(false);
  });

  const usage: { name: string; args: string[] }[] = [
    { name: 'fail/no reason', args: [ISSUER, '--yes'] },
    { name: 'fail/not an issuer id', args: ['crt_abc', '--reason', 'x'] },
    { name: 'fail/unknown flag', args: [ISSUER, '--reason', 'x', '--force'] },
    { name: 'fail/bad number', args: [ISSUER, '--reason', 'x', '--max-concurrent', '0'] },
  ];
  for (const { name, args } of usage) {
    it(name, async () => {
      const run = io(fakeApi([]).fetchImpl);
      expect(await runIssuerCompromise(args, run.value)).toBe(EXIT_ERROR);
      expect(run.err.join('\n')).toContain('usage: certflow issuer-compromise');
    });
  }
});
