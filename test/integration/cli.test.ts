/**
 * The `certflow` CLI end to end: each command is the real CLI (`tsx cmd/cli.ts`) as a child process
 * with its own config directory, against the real API over HTTP, a real worker, Temporal and
 * Postgres. Human tables and `--json` (parsed), exit codes for usage, auth, not found and refusal,
 * and a bulk reissue followed to its end with its progress lines and final counts.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAY = 86_400;

const suite = useIntegrationSuite('cli', {
  worker: true,
  http: true,
  team: {
    policy: {
      allowedDomains: ['example.test'],
      maxValidity: 'P30D',
      defaultValidity: 'P7D',
      keyAlgorithms: ['ECDSA-P256'],
      approval: { validityAbove: 'P10D' },
    },
  },
});

let configHome: string;
let approver: string;
/** A local HTTP server that counts requests: commands with bad arguments must send it nothing. */
let tripwire: { server: Server; url: string; requests: number };

beforeAll(async () => {
  configHome = await mkdtemp(join(tmpdir(), 'certflow-cli-'));
  approver = (await createToken(suite.harness, suite.team.teamId, 'approver')).token;
  tripwire = { server: createServer(), url: '', requests: 0 };
  tripwire.server.on('request', (_request, response) => {
    tripwire.requests += 1;
    response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => tripwire.server.listen(0, '127.0.0.1', resolve));
  tripwire.url = `http://127.0.0.1:${(tripwire.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => tripwire?.server.close(resolve));
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `certflow <args>` with the test's config directory and no CERTFLOW_* connection variables. */
function certflow(args: string[], options: { env?: Record<string, string>; configHome?: string } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, XDG_CONFIG_HOME: options.configHome ?? configHome, ...options.env };
  if (!options.env?.['CERTFLOW_TOKEN']) delete env['CERTFLOW_TOKEN'];
  if (!options.env?.['CERTFLOW_API_URL']) delete env['CERTFLOW_API_URL'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/cli.ts', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function json<T = Record<string, unknown>>(run: Run): T {
  expect(run.code, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
}

interface CertificateJson {
  id: string;
  state: string;
  validitySeconds: number;
  currentVersion: { generation: number; serial: string; status: string } | null;
}

async function requestActive(name: string): Promise<string> {
  const { id } = json<{ id: string }>(await certflow(['request', name, '--team', suite.team.teamName, '--json']));
  await suite.certificates.waitFor(id, (view) => view.state === 'active', { timeoutMs: 30_000, what: `${id} active` });
  return id;
}

describe('certflow login', () => {
  it('refuses a token the API refuses (exit 3, nothing stored), then stores a good one in a 0600 file', async () => {
    const refused = await certflow(['login', '--api-url', suite.baseUrl, '--token', 'cft_not-a-token']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^error: /);
    await expect(stat(join(configHome, 'certflow', 'config.json'))).rejects.toThrow(/ENOENT/);

    const notLoggedIn = await certflow(['list', '--json']);
    expect(notLoggedIn.code).toBe(3);
    expect(JSON.parse(notLoggedIn.stderr)).toMatchObject({ title: 'Not logged in', exitCode: 3 });

    const login = await certflow(['login', '--api-url', suite.baseUrl, '--token', suite.team.requester]);
    expect(login.code, login.stderr).toBe(0);
    const file = join(configHome, 'certflow', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(configHome, 'certflow'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ apiUrl: suite.baseUrl, token: suite.team.requester });
  });
});

describe('certificates through the CLI', () => {
  let first: string;
  let second: string;

  it('requests with the team policy default validity, and shows it as a table and as JSON', async () => {
    first = await requestActive('one.example.test');
    const shown = await certflow(['show', first]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id\\s+${first}$`, 'm'));
    expect(shown.stdout).toMatch(/^state\s+active$/m);
    expect(shown.stdout).toMatch(/^dns names\s+one\.example\.test$/m);
    const view = json<CertificateJson>(await certflow(['show', first, '--json']));
    expect(view).toMatchObject({ id: first, state: 'active', validitySeconds: 7 * DAY });
    expect(view.currentVersion?.generation).toBe(1);
  });

  it('lists as a table and as JSON, one page at a time or all pages', async () => {
    second = await requestActive('two.example.test');
    const table = await certflow(['list']);
    expect(table.code, table.stderr).toBe(0);
    const [header, ...rows] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+STATE\s+NAMES\s+PROFILE\s+NOT AFTER\s+SERIAL$/);
    expect(rows.find((row) => row.startsWith(first))).toMatch(/\sactive\s+one\.example\.test\s+tls-server\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z\s+[0-9A-F:]+$/i);

    const page1 = json<{ items: CertificateJson[]; nextCursor: string | null }>(await certflow(['list', '--limit', '1', '--json']));
    expect(page1.items.map((item) => item.id)).toEqual([second]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = json<{ items: CertificateJson[] }>(await certflow(['list', '--limit', '1', '--cursor', page1.nextCursor!, '--json']));
    expect(page2.items.map((item) => item.id)).toEqual([first]);
    const all = json<{ items: CertificateJson[]; nextCursor: string | null }>(await certflow(['list', '--limit', '1', '--all', '--state', 'active', '--json']));
    expect(all.items.map((item) => item.id)).toEqual([second, first]);
    expect(all.nextCursor).toBeNull();
  });

  it('renews: a new generation follows', async () => {
    const renewed = await certflow(['renew', first, '--reason', 'cli test']);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stdout.trim()).toBe(`${first}: renewal requested`);
    await suite.certificates.waitFor<CertificateJson>(first, (view) => view.state === 'active' && view.currentVersion?.generation === 2, { timeoutMs: 30_000, what: 'generation 2' });
  });

  it('revokes with a reason code; revoking again is refused (exit 5)', async () => {
    const revoked = await certflow(['revoke', second, '--reason', 'keyCompromise', '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    JSON.parse(revoked.stdout);
    await suite.certificates.waitFor(second, (view) => view.state === 'revoked', { timeoutMs: 30_000, what: 'revoked' });
    const again = await certflow(['revoke', second, '--json']);
    expect(again.code).toBe(5);
    expect(JSON.parse(again.stderr)).toMatchObject({ status: 409, exitCode: 5 });
  });

  it('approves and rejects requests that need approval; a decided request is refused, a requester may not decide', async () => {
    const pending = async (name: string) => {
      const { id, state } = json<{ id: string; state: string }>(await certflow(['request', name, '--team', suite.team.teamName, '--validity', 'P20D', '--json']));
      expect(state).not.toBe('active');
      await suite.certificates.waitFor(id, (view) => view.state === 'awaiting_approval', { timeoutMs: 30_000, what: `${id} awaiting approval` });
      return id;
    };
    const toApprove = await pending('approve.example.test');
    const toReject = await pending('reject.example.test');

    const byRequester = await certflow(['approve', toApprove, '--reason', 'self-approval']);
    expect(byRequester.code).toBe(3);

    const approved = await certflow(['approve', toApprove, '--reason', 'change 42', '--token', approver, '--json']);
    expect(json(approved)).toMatchObject({ id: toApprove, state: 'approved' });
    await suite.certificates.waitFor(toApprove, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'approved certificate active' });

    const rejected = await certflow(['reject', toReject, '--reason', 'not needed', '--token', approver]);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout.trim()).toBe(`${toReject}: rejected`);
    const again = await certflow(['approve', toReject, '--reason', 'changed my mind', '--token', approver]);
    expect(again.code).toBe(5);
  });

  it('exit codes: not found is 4 (problem JSON with --json), a refused token 3, bad arguments 2 with nothing sent', async () => {
    const missing = await certflow(['show', 'crt_doesnotexist', '--json']);
    expect(missing.code).toBe(4);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toMatchObject({ status: 404, type: '/problems/not-found', exitCode: 4 });
    expect((await certflow(['show', 'crt_doesnotexist'])).stderr).toMatch(/^error: no certificate "crt_doesnotexist"/);

    const badToken = await certflow(['list', '--token', 'cft_revoked-or-wrong']);
    expect(badToken.code).toBe(3);

    const bad: string[][] = [
      ['request', 'x.example.test'],
      ['request', 'x.example.test', '--team', suite.team.teamName, '--validity', 'a week'],
      ['request', 'x.example.test', '--team', suite.team.teamName, '--destinations', '/nonexistent.json'],
      ['revoke', first, '--reason', 'because'],
      ['show', 'not-an-id'],
      ['list', '--limit', '500'],
      ['list', '--frobnicate'],
      ['approve', first],
      ['tokens', 'create', '--team', suite.team.teamId, '--role', 'overlord'],
      ['bulk-reissue', '--all'],
      ['no-such-command'],
    ];
    for (const args of bad) {
      const run = await certflow([...args, '--json'], { env: { CERTFLOW_API_URL: tripwire.url, CERTFLOW_TOKEN: 'cft_anything' } });
      expect(run.code, args.join(' ')).toBe(2);
      expect(JSON.parse(run.stderr), args.join(' ')).toMatchObject({ title: 'Bad arguments', exitCode: 2 });
    }
    expect(tripwire.requests).toBe(0);
  });
});

describe('issuers and tokens', () => {
  it('lists the issuers as a table and as JSON', async () => {
    const table = await certflow(['issuers']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+KIND\s+STATUS\s+COMMON NAME\s+KEY\s+NOT AFTER\s+PARENT$/);
    const { items } = json<{ items: Array<{ id: string; kind: string; status: string; certificatePem: string }> }>(await certflow(['issuers', '--json']));
    expect(items.some((issuer) => issuer.kind === 'root')).toBe(true);
    expect(items.some((issuer) => issuer.kind === 'intermediate' && issuer.status === 'active')).toBe(true);
    for (const issuer of items) expect(table.stdout).toContain(issuer.id);
  });

  it('creates, lists and revokes a token; the revoked token is refused (exit 3)', async () => {
    const admin = ['--token', suite.team.admin];
    const created = json<{ id: string; token: string; role: string }>(await certflow(['tokens', 'create', '--team', suite.team.teamId, '--role', 'requester', '--json', ...admin]));
    expect(created.role).toBe('requester');
    expect((await certflow(['list', '--token', created.token])).code).toBe(0);

    const listed = json<{ items: Array<{ id: string; revokedAt: string | null }> }>(await certflow(['tokens', 'list', '--team', suite.team.teamId, '--json', ...admin]));
    expect(listed.items.find((token) => token.id === created.id)).toMatchObject({ revokedAt: null });
    const table = await certflow(['tokens', 'list', '--team', suite.team.teamId, ...admin]);
    expect(table.stdout).toMatch(new RegExp(`^${created.id}\\s+requester\\s`, 'm'));
    expect(table.stdout).not.toContain(created.token);

    const revoked = await certflow(['tokens', 'revoke', created.id, ...admin]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await certflow(['list', '--token', created.token])).code).toBe(3);
    // A requester token may not manage tokens.
    expect((await certflow(['tokens', 'list', '--team', suite.team.teamId])).code).toBe(3);
  });
});

describe('certflow bulk-reissue', () => {
  it('follows the operation to its end with progress lines, then reports the final counts', async () => {
    const active = json<{ items: CertificateJson[] }>(await certflow(['list', '--state', 'active', '--json'])).items;
    expect(active.length).toBeGreaterThanOrEqual(2);
    const before = new Map(active.map((item) => [item.id, item.currentVersion!.serial]));

    const run = await certflow(['bulk-reissue', '--team', suite.team.teamName, '--reason', 'cli end-to-end test', '--max-per-second', '1', '--yes', '--token', TEST_BOOTSTRAP_TOKEN]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${active.length} certificate${active.length === 1 ? '' : 's'} selected`);
    const started = lines.find((line) => line.startsWith('started bulk operation '));
    const bulkId = /started bulk operation (blk_[a-z2-7]+)/.exec(started ?? '')?.[1];
    expect(bulkId).toBeDefined();
    const progress = lines.filter((line) => /^\[[#-]+\] \d+\/\d+ /.test(line));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    // Not a TTY: plain lines, no carriage returns or escape sequences.
    expect(run.stdout).not.toMatch(/\r|\x1b/);
    const last = progress[progress.length - 1]!;
    expect(last).toMatch(new RegExp(`^\\[#+\\] ${active.length}/${active.length} completed`));
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^completed: ${active.length}/${active.length} finished \\((reissued|rolled_out|verified) ${active.length}, failed 0\\)$`));

    const status = json<{ id: string; state: string; counts: { selected: number; failed: number } }>(await certflow(['bulk-status', bulkId!, '--json', '--token', TEST_BOOTSTRAP_TOKEN]));
    expect(status).toMatchObject({ id: bulkId, state: 'completed', counts: { selected: active.length, failed: 0 } });
    for (const [id, serial] of before) {
      const view = json<CertificateJson>(await certflow(['show', id, '--json']));
      expect(view.currentVersion?.serial).not.toBe(serial);
    }
  });

  it('on a terminal (a pty from util-linux script) redraws one progress line in place', async () => {
    const count = json<{ items: CertificateJson[] }>(await certflow(['list', '--state', 'active', '--json'])).items.length;
    const command = [process.execPath, '--import', 'tsx', 'cmd/cli.ts', 'bulk-reissue', '--team', suite.team.teamName, '--reason', 'cli tty test', '--yes', '--token', TEST_BOOTSTRAP_TOKEN]
      .map((word) => `'${word.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const run = await new Promise<Run>((resolve, reject) => {
      const env: Record<string, string | undefined> = { ...process.env, XDG_CONFIG_HOME: configHome, NO_COLOR: '1' };
      const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(run.code, run.stdout).toBe(0);
    // Each redraw starts at the line's beginning and clears its rest; the last one shows the end.
    const redraws = run.stdout.split('\r').filter((part) => /^\[[#-]+\] \d+\/\d+ /.test(part));
    expect(redraws.length).toBeGreaterThanOrEqual(1);
    expect(run.stdout).toContain('\x1b[K');
    expect(redraws[redraws.length - 1]).toMatch(new RegExp(`^\\[#+\\] ${count}/${count} completed`));
    expect(run.stdout).toMatch(new RegExp(`completed: ${count}/${count} finished \\((reissued|rolled_out|verified) ${count}, failed 0\\)`));
  });
});
