import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInventoryCli } from '../../../cmd/inventory-cli.js';

const BLOCK = (n: number) => `-----BEGIN CERTIFICATE-----\n${'A'.repeat(60)}${String(n).padStart(4, '0')}\n-----END CERTIFICATE-----\n`;

function fakeApi(answer: (path: string, body: Record<string, unknown>) => unknown) {
  const calls: Array<{ method: string; path: string; body: Record<string, unknown> }> = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    const path = new URL(url).pathname;
    const body = init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : {};
    calls.push({ method: init.method ?? 'GET', path, body });
    return new Response(JSON.stringify(answer(path, body)), { status: 200, headers: { 'Content-Type': 'application/json' } });
  }) as unknown as typeof fetch;
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env: { CERTFLOW_API_URL: 'http://api.test', CERTFLOW_TOKEN: 'cft_x' }, fetch: fetchImpl };
  return { calls, out, err, io };
}

describe('certflow import / scan', () => {
  it('import: a bundle bigger than one request goes in batches, split between PEM blocks; failures make exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inventory-cli-'));
    writeFileSync(join(dir, 'big.pem'), Array.from({ length: 900 }, (_, n) => BLOCK(n)).join('\n'));
    const api = fakeApi((_path, body) => {
      const files = body['files'] as unknown[];
      return { imported: files.length - 1, duplicate: 0, error: 1, flagged: 0, items: [{ index: 0, file: 'big.pem', status: 'error', error: 'bad' }] };
    });
    const code = await runInventoryCli(['import', join(dir, 'big.pem'), '--team', 'team_a'], api.io);
    expect(code).toBe(2);
    expect(api.calls.map((call) => (call.body['files'] as unknown[]).length)).toEqual([400, 400, 100]);
    expect(api.calls.every((call) => call.path === '/v1/teams/team_a/imports')).toBe(true);
    const sent = api.calls.flatMap((call) => (call.body['files'] as Array<{ pem: string }>).map((file) => file.pem));
    expect(sent.every((pem) => /^-----BEGIN CERTIFICATE-----\n[^]*-----END CERTIFICATE-----$/.test(pem))).toBe(true);
    expect(api.out.at(-1)).toContain('imported 897');
  });

  it('scan: targets from a file (comments and blank lines skipped), waited for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inventory-cli-'));
    writeFileSync(join(dir, 'targets.txt'), '# web\nweb.example.test:443\n\n10.0.0.0/30:443  # range\n');
    const api = fakeApi((path) =>
      path.endsWith('/scans')
        ? { id: 'scan_1', workflowId: 'scan/scan_1', endpoints: 5 }
        : { status: 'completed', results: [{ endpoint: 'web.example.test:443', outcome: 'discovered', certificateId: 'crt_1' }] },
    );
    const code = await runInventoryCli(['scan', '--team', 'team_a', '--targets-file', join(dir, 'targets.txt'), '--wait'], api.io);
    expect(code).toBe(0);
    expect(api.calls[0]!.body).toEqual({ targets: ['web.example.test:443', '10.0.0.0/30:443'] });
    expect(api.out.join('\n')).toContain('web.example.test:443  discovered  crt_1');
  });

  it('usage errors: no team, no files', async () => {
    const api = fakeApi(() => ({}));
    expect(await runInventoryCli(['import', 'x.pem'], api.io)).toBe(1);
    expect(await runInventoryCli(['import', '--team', 't'], api.io)).toBe(1);
    expect(await runInventoryCli(['scan', '--team', 't'], api.io)).toBe(1);
    expect(api.calls).toHaveLength(0);
  });
});
