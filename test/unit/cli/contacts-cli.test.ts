import { describe, expect, it } from 'vitest';
import { runContactsCli } from '../../../cmd/contacts-cli.js';

function harness(answer: { status: number; body: unknown }) {
  const calls: { url: string; method: string; body: unknown }[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, method: init.method ?? 'GET', body: init.body ? JSON.parse(init.body as string) : undefined });
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'Content-Type': 'application/json' } });
  }) as unknown as typeof fetch;
  const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env: { CERTFLOW_API_URL: 'http://api.test', CERTFLOW_TOKEN: 'cft_x' }, fetch: fetchImpl };
  return { calls, out, err, io };
}

const webhook = { id: 'ctc_1', channel: 'webhook', url: 'https://hooks.example/x', format: 'slack', kinds: null, secret: 'generated-secret' };

describe('certflow contacts', () => {
  it('ok/add a webhook: POSTs the body and shows the generated secret once', async () => {
    const h = harness({ status: 201, body: webhook });
    expect(await runContactsCli(['add', '--team', 'team_a', '--webhook', 'https://hooks.example/x', '--format', 'slack'], h.io)).toBe(0);
    expect(h.calls).toEqual([{ url: 'http://api.test/v1/teams/team_a/contacts', method: 'POST', body: { channel: 'webhook', url: 'https://hooks.example/x', format: 'slack' } }]);
    expect(h.out.join('\n')).toContain('generated-secret');
  });
  it('ok/add an email with kinds', async () => {
    const h = harness({ status: 201, body: { id: 'ctc_2', channel: 'email', address: 'a@example.com', kinds: ['renewal_failing'] } });
    expect(await runContactsCli(['add', '--team', 'team_a', '--email', 'a@example.com', '--kind', 'renewal_failing'], h.io)).toBe(0);
    expect(h.calls[0]!.body).toEqual({ channel: 'email', address: 'a@example.com', kinds: ['renewal_failing'] });
  });
  it('ok/list --json', async () => {
    const h = harness({ status: 200, body: { items: [{ ...webhook, secret: undefined }] } });
    expect(await runContactsCli(['list', '--team', 'team_a', '--json'], h.io)).toBe(0);
    expect(JSON.parse(h.out.join('\n'))).toHaveLength(1);
  });
  it('ok/remove', async () => {
    const h = harness({ status: 200, body: { ...webhook, secret: undefined } });
    expect(await runContactsCli(['remove', 'ctc_1', '--team', 'team_a'], h.io)).toBe(0);
    expect(h.calls[0]).toMatchObject({ url: 'http://api.test/v1/teams/team_a/contacts/ctc_1', method: 'DELETE' });
  });
  it.each([
    { name: 'fail/no action', args: ['--team', 'team_a'] },
    { name: 'fail/no team', args: ['list'] },
    { name: 'fail/both webhook and email', args: ['add', '--team', 't', '--webhook', 'https://x', '--email', 'a@b.c'] },
    { name: 'fail/unknown option', args: ['list', '--team', 't', '--nope'] },
  ])('$name', async ({ args }) => {
    const h = harness({ status: 200, body: {} });
    expect(await runContactsCli(args, h.io)).toBe(1);
    expect(h.calls).toHaveLength(0);
  });
  it('fail/the API refuses: its problem is shown, exit 1', async () => {
    const h = harness({ status: 400, body: { type: '/problems/validation-failed', title: 'The request is not valid', status: 400, detail: 'not allowed', errors: [{ field: 'url', message: 'host not allowed' }] } });
    expect(await runContactsCli(['add', '--team', 't', '--webhook', 'https://x.example'], h.io)).toBe(1);
    expect(h.err.join('\n')).toContain('url: host not allowed');
  });
});
