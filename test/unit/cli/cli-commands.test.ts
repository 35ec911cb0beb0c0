/**
 * The CLI's certificate commands, tables and exit codes without a server: argument parsing
 * (table-driven ok/… and fail/… cases), table and field formatting, the status → exit code map,
 * and that a command with bad arguments sends nothing and ends with exit 2.
 */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CERTIFICATE_COLUMNS, listQuery, namesOf, requestBody, showCommand, type CertificateView } from '../../../cmd/certificates-cli.js';
import { CliUsageError, resolveConnection, type CliIo } from '../../../cmd/cli-command.js';
import { configPath, writeStoredLogin } from '../../../cmd/cli-config.js';
import { EXIT_AUTH, EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, exitCodeForProblem } from '../../../cmd/cli-exit.js';
import { formatFields, formatTable, shortTime } from '../../../cmd/cli-table.js';
import { tokensCommand } from '../../../cmd/tokens-cli.js';

const files: Record<string, string> = {
  '/csr.pem': '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
  '/destinations.json': JSON.stringify([{ type: 'file', directory: '/srv/tls/api' }]),
  '/not-json': 'nope',
  '/object.json': '{"type":"file"}',
};
const readText = async (path: string) => {
  if (files[path] === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
  return files[path]!;
};

describe('requestBody', () => {
  const ok: Array<[string, string[], Record<string, unknown>]> = [
    ['ok/names and team; validity left to the team policy', ['a.example.test', 'b.example.test', '--team', 'payments'], { team: 'payments', dnsNames: ['a.example.test', 'b.example.test'] }],
    [
      'ok/every option',
      ['a.example.test', '--team', 'payments', '--common-name', 'a', '--ip', '10.0.0.1', '--uri', 'spiffe://x/y', '--profile', 'mtls', '--key-algorithm', 'Ed25519', '--validity', 'P30D', '--renew-before', '86400', '--csr', '/csr.pem', '--destinations', '/destinations.json'],
      {
        team: 'payments',
        dnsNames: ['a.example.test'],
        commonName: 'a',
        ipAddresses: ['10.0.0.1'],
        uris: ['spiffe://x/y'],
        profile: 'mtls',
        keyAlgorithm: 'Ed25519',
        validity: 'P30D',
        renewBefore: 86400,
        csr: files['/csr.pem'],
        destinations: [{ type: 'file', directory: '/srv/tls/api' }],
      },
    ],
    ['ok/an IP address only', ['--ip', '10.0.0.1', '--team', 't'], { team: 't', dnsNames: [], ipAddresses: ['10.0.0.1'] }],
  ];
  it.each(ok)('%s', async (_name, args, body) => {
    expect((await requestBody(args, readText)).body).toEqual(body);
  });

  const fail: Array<[string, string[], RegExp]> = [
    ['fail/no team', ['a.example.test'], /--team/],
    ['fail/no name', ['--team', 't'], /at least one name/],
    ['fail/unknown profile', ['a', '--team', 't', '--profile', 'server'], /--profile must be one of/],
    ['fail/unknown key algorithm', ['a', '--team', 't', '--key-algorithm', 'DSA'], /--key-algorithm must be one of/],
    ['fail/validity not a duration', ['a', '--team', 't', '--validity', '30 days'], /ISO-8601 duration/],
    ['fail/validity P alone', ['a', '--team', 't', '--validity', 'P'], /ISO-8601 duration/],
    ['fail/csr file missing', ['a', '--team', 't', '--csr', '/missing.pem'], /--csr \/missing\.pem: ENOENT/],
    ['fail/csr not a CSR', ['a', '--team', 't', '--csr', '/not-json'], /not a PEM certificate request/],
    ['fail/destinations not JSON', ['a', '--team', 't', '--destinations', '/not-json'], /not JSON/],
    ['fail/destinations not an array', ['a', '--team', 't', '--destinations', '/object.json'], /JSON array/],
    ['fail/unknown option', ['a', '--team', 't', '--valdity', 'P1D'], /Unknown option '--valdity'/],
  ];
  it.each(fail)('%s', async (_name, args, message) => {
    const failure = requestBody(args, readText);
    await expect(failure).rejects.toBeInstanceOf(CliUsageError);
    await expect(failure).rejects.toThrow(message);
  });
});

describe('listQuery', () => {
  const ok: Array<[string, string[], string, boolean]> = [
    ['ok/no filter', [], '', false],
    ['ok/filters', ['--team', 'payments', '--state', 'active', '--expiring-before', '2027-01-31T00:00:00Z', '--limit', '10'], 'team=payments&state=active&expiringBefore=2027-01-31T00%3A00%3A00Z&limit=10', false],
    ['ok/stuck and all', ['--stuck', '--all'], 'stuck=true', true],
  ];
  it.each(ok)('%s', (_name, args, query, all) => {
    const parsed = listQuery(args);
    expect(parsed.query.toString()).toBe(query);
    expect(parsed.all).toBe(all);
  });

  const fail: Array<[string, string[], RegExp]> = [
    ['fail/unknown state', ['--state', 'happy'], /--state must be one of/],
    ['fail/limit 0', ['--limit', '0'], /--limit/],
    ['fail/limit above 200', ['--limit', '201'], /--limit/],
    ['fail/expiring-before a date only', ['--expiring-before', '2027-01-31'], /--expiring-before/],
    ['fail/all with a cursor', ['--all', '--cursor', 'abc'], /leave out --cursor/],
    ['fail/positional', ['crt_abc'], /options only/],
  ];
  it.each(fail)('%s', (_name, args, message) => {
    expect(() => listQuery(args)).toThrow(message);
  });
});

describe('formatTable and formatFields', () => {
  it('aligns columns two spaces apart, right-aligns numbers, prints - for empty cells, no trailing spaces', () => {
    const table = formatTable(
      [
        { header: 'ID', value: (row: { id: string; n: number | null; note: string }) => row.id },
        { header: 'N', value: (row) => row.n, align: 'right' },
        { header: 'NOTE', value: (row) => row.note },
      ],
      [
        { id: 'crt_a', n: 7, note: 'two\nlines' },
        { id: 'crt_bbbbbb', n: null, note: '' },
      ],
    );
    expect(table).toBe(['ID          N  NOTE', 'crt_a       7  two lines', 'crt_bbbbbb  -  -'].join('\n'));
  });

  it('prints only the header for no rows', () => {
    expect(formatTable([{ header: 'ID', value: (row: { id: string }) => row.id }], [])).toBe('ID');
  });

  it('aligns labels and leaves out empty fields', () => {
    expect(formatFields([['id', 'crt_a'], ['last error', null], ['not after', '2027-01-01']])).toBe('id         crt_a\nnot after  2027-01-01');
  });

  it('certificate rows: names, the short UTC expiry, - before the first version', () => {
    const base = { id: 'crt_a', teamId: 'team_a', workflowId: 'certificate/crt_a', state: 'issuing', commonName: 'a', dnsNames: [], ipAddresses: ['10.0.0.1'], uris: [], profile: 'tls-server', keyAlgorithm: 'ECDSA-P256', destinations: [], currentVersion: null, createdAt: '2027-01-01T00:00:00.000Z' } as CertificateView;
    const issued = { ...base, id: 'crt_b', state: 'active', dnsNames: ['b.example.test'], ipAddresses: [], currentVersion: { id: 'ver_b', serial: '0A1B', issuerId: 'iss_x', notBefore: '2027-01-01T00:00:00.000Z', notAfter: '2027-01-31T12:34:56.000Z', fingerprintSha256: 'ff', status: 'active' } } as CertificateView;
    expect(formatTable(CERTIFICATE_COLUMNS, [base, issued]).split('\n')).toEqual([
      'ID     STATE    NAMES           PROFILE     NOT AFTER          SERIAL',
      'crt_a  issuing  10.0.0.1        tls-server  -                  -',
      'crt_b  active   b.example.test  tls-server  2027-01-31 12:34Z  0A1B',
    ]);
    expect(namesOf({ ...base, ipAddresses: [] })).toBe('a');
    expect(shortTime(null)).toBeNull();
  });
});

describe('exitCodeForProblem', () => {
  const cases: Array<[string, number, Record<string, unknown>, number]> = [
    ['400 invalid arguments', 400, { type: '/problems/validation-failed' }, EXIT_USAGE],
    ['401 token refused', 401, {}, EXIT_AUTH],
    ['403 role', 403, { type: '/problems/forbidden' }, EXIT_AUTH],
    ['403 team policy', 403, { type: '/problems/policy-violation' }, EXIT_REFUSED],
    ['404', 404, {}, EXIT_NOT_FOUND],
    ['409', 409, {}, EXIT_REFUSED],
    ['429', 429, {}, EXIT_FAILURE],
    ['503', 503, {}, EXIT_FAILURE],
  ];
  it.each(cases)('%s', (_name, status, problem, code) => {
    expect(exitCodeForProblem(status, problem)).toBe(code);
  });
});

function recordingIo(env: Record<string, string | undefined> = {}): CliIo & { stdout: string[]; stderr: string[]; requests: string[] } {
  const io = {
    stdout: [] as string[],
    stderr: [] as string[],
    requests: [] as string[],
    out: (text: string) => io.stdout.push(text),
    err: (text: string) => io.stderr.push(text),
    env,
    fetch: (async (url: string) => {
      io.requests.push(url);
      return new Response(JSON.stringify({ type: '/problems/not-found', title: 'Not found', status: 404, detail: 'no certificate "crt_x" is visible to this token' }), { status: 404 });
    }) as unknown as typeof fetch,
  };
  return io;
}

describe('commands', () => {
  it('bad arguments: exit 2, nothing sent, usage on stderr (problem JSON with --json)', async () => {
    const io = recordingIo({ CERTFLOW_TOKEN: 't', CERTFLOW_API_URL: 'http://127.0.0.1:9' });
    expect(await showCommand.run(['nope'], io)).toBe(EXIT_USAGE);
    expect(io.stderr[0]).toMatch(/^error: "nope" is not a certificate id[\s\S]*usage: certflow show/);
    expect(await tokensCommand.run(['create', '--team', 'team_a', '--role', 'root', '--json'], io)).toBe(EXIT_USAGE);
    expect(JSON.parse(io.stderr[1]!)).toMatchObject({ title: 'Bad arguments', exitCode: EXIT_USAGE });
    expect(io.requests).toEqual([]);
  });

  it('an API problem: its exit code, and the problem as sent with --json', async () => {
    const io = recordingIo({ CERTFLOW_TOKEN: 't', CERTFLOW_API_URL: 'http://127.0.0.1:9/' });
    expect(await showCommand.run(['crt_x', '--json'], io)).toBe(EXIT_NOT_FOUND);
    expect(io.requests).toEqual(['http://127.0.0.1:9/v1/certificates/crt_x']);
    expect(io.stdout).toEqual([]);
    expect(JSON.parse(io.stderr[0]!)).toEqual({ type: '/problems/not-found', title: 'Not found', status: 404, detail: 'no certificate "crt_x" is visible to this token', exitCode: EXIT_NOT_FOUND });
  });

  it('--help prints the usage and exits 0 without a token', async () => {
    const io = recordingIo();
    expect(await showCommand.run(['--help'], io)).toBe(EXIT_OK);
    expect(io.stdout[0]).toMatch(/^usage: certflow show/);
  });
});

describe('the stored login', () => {
  it('is written 0600 under $XDG_CONFIG_HOME/certflow and used when flags and environment say nothing', async () => {
    const home = await mkdtemp(join(tmpdir(), 'certflow-config-'));
    const env = { XDG_CONFIG_HOME: home };
    await expect(resolveConnection({}, env)).rejects.toThrow(/not logged in/);
    await writeStoredLogin(configPath(env), { apiUrl: 'https://certflow.example.test', token: 'cft_stored' });
    expect((await stat(join(home, 'certflow', 'config.json'))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(home, 'certflow', 'config.json'), 'utf8'))).toEqual({ apiUrl: 'https://certflow.example.test', token: 'cft_stored' });
    expect(await resolveConnection({}, env)).toEqual({ apiUrl: 'https://certflow.example.test', token: 'cft_stored' });
    expect(await resolveConnection({ token: 'cft_flag' }, { ...env, CERTFLOW_API_URL: 'http://127.0.0.1:8080/' })).toEqual({ apiUrl: 'http://127.0.0.1:8080', token: 'cft_flag' });
  });

  it('is sent only to the API it was stored for, not to another one named by a flag or CERTFLOW_API_URL', async () => {
    const home = await mkdtemp(join(tmpdir(), 'certflow-config-'));
    const env = { XDG_CONFIG_HOME: home };
    await writeStoredLogin(configPath(env), { apiUrl: 'https://certflow.example.test', token: 'cft_stored' });
    await expect(resolveConnection({ 'api-url': 'https://elsewhere.example.test' }, env)).rejects.toThrow(/stored for https:\/\/certflow\.example\.test/);
    await expect(resolveConnection({}, { ...env, CERTFLOW_API_URL: 'https://elsewhere.example.test' })).rejects.toThrow(/stored for/);
    expect(await resolveConnection({ 'api-url': 'https://certflow.example.test/' }, env)).toEqual({ apiUrl: 'https://certflow.example.test', token: 'cft_stored' });
  });
});
