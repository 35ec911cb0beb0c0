import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../../agent/config.js';

const TOKEN = `cfa_${'a'.repeat(20)}_${'B'.repeat(40)}`;
const BASE = '/etc/certflow-agent';
const noTokenFile = async (): Promise<string> => {
  throw new Error('ENOENT');
};

const minimal = { apiUrl: 'https://ca.example.test/', token: TOKEN, stateDirectory: '/var/lib/certflow-agent', targets: {} };

describe('parseAgentConfig', () => {
  const ok: Array<[string, Record<string, unknown>, (config: Awaited<ReturnType<typeof parseAgentConfig>>) => void]> = [
    [
      'ok/minimal: defaults and trailing slash removed',
      minimal,
      (config) => {
        expect(config.apiUrl).toBe('https://ca.example.test');
        expect(config.pollIntervalMs).toBe(10_000);
        expect(config.reloadTimeoutMs).toBe(60_000);
        expect(config.targets).toEqual({});
      },
    ],
    ['ok/fractional poll interval in seconds', { ...minimal, pollInterval: 0.25 }, (config) => expect(config.pollIntervalMs).toBe(250)],
    ['ok/ISO-8601 poll interval', { ...minimal, pollInterval: 'PT1M' }, (config) => expect(config.pollIntervalMs).toBe(60_000)],
    [
      'ok/relative paths are relative to the config file',
      { ...minimal, stateDirectory: 'state', targets: { web: { directory: 'tls/web', reload: ['systemctl', 'reload', 'nginx'], owner: { uid: 0, gid: 33 } } } },
      (config) => {
        expect(config.stateDirectory).toBe('/etc/certflow-agent/state');
        expect(config.targets['web']).toEqual({ directory: '/etc/certflow-agent/tls/web', reload: ['systemctl', 'reload', 'nginx'], owner: { uid: 0, gid: 33 } });
      },
    ],
    ['ok/target without reload', { ...minimal, targets: { db: { directory: '/srv/db' } } }, (config) => expect(config.targets['db']).toEqual({ directory: '/srv/db', reload: null, owner: null })],
  ];
  for (const [name, raw, check] of ok) {
    it(name, async () => check(await parseAgentConfig(raw, BASE, noTokenFile)));
  }

  it('ok/tokenFile is read (and trimmed) relative to the config file', async () => {
    const read: string[] = [];
    const { token: _token, ...rest } = minimal;
    const config = await parseAgentConfig({ ...rest, tokenFile: 'token' }, BASE, async (path) => {
      read.push(path);
      return `${TOKEN}\n`;
    });
    expect(read).toEqual(['/etc/certflow-agent/token']);
    expect(config.token).toBe(TOKEN);
  });

  const fail: Array<[string, unknown, RegExp]> = [
    ['fail/not an object', 'nope', /\(config\)/],
    ['fail/no token at all', { ...minimal, token: undefined }, /token: give exactly one of token and tokenFile/],
    ['fail/token and tokenFile', { ...minimal, tokenFile: 'token' }, /exactly one of token and tokenFile/],
    ['fail/an API token instead of an agent token', { ...minimal, token: 'cft_abc_def' }, /token: must be an agent token/],
    ['fail/ftp URL', { ...minimal, apiUrl: 'ftp://ca.example.test' }, /apiUrl/],
    ['fail/zero poll interval', { ...minimal, pollInterval: 0 }, /pollInterval/],
    ['fail/unknown key (a typo must not be ignored)', { ...minimal, pollIntervall: 5 }, /pollIntervall|Unrecognized/],
    ['fail/reload given as a shell string', { ...minimal, targets: { web: { directory: '/srv', reload: 'systemctl reload nginx' } } }, /targets\.web\.reload/],
    ['fail/empty reload argv', { ...minimal, targets: { web: { directory: '/srv', reload: [] } } }, /targets\.web\.reload/],
    ['fail/target name with a slash', { ...minimal, targets: { 'a/b': { directory: '/srv' } } }, /targets\.a\/b/],
    ['fail/target without directory', { ...minimal, targets: { web: {} } }, /targets\.web\.directory/],
  ];
  for (const [name, raw, message] of fail) {
    it(name, async () => {
      await expect(parseAgentConfig(raw, BASE, noTokenFile)).rejects.toThrow(message);
    });
  }

  it('fail/unreadable tokenFile names the file', async () => {
    const { token: _token, ...rest } = minimal;
    await expect(parseAgentConfig({ ...rest, tokenFile: '/nope/token' }, BASE, noTokenFile)).rejects.toThrow(/cannot read tokenFile \/nope\/token/);
  });

  it('fail/tokenFile without an agent token', async () => {
    const { token: _token, ...rest } = minimal;
    await expect(parseAgentConfig({ ...rest, tokenFile: 'token' }, BASE, async () => 'hello')).rejects.toThrow(/does not hold an agent token/);
  });
});
