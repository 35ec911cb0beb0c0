/** `certflow` argument parsing: table-driven `ok/…` and `fail/…` cases over parseCli. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_API_URL, parseCli, type CliCommand } from '../../../cmd/cli-args.js';

const ENV = { CERTFLOW_TOKEN: 'cft_env_token' };
const connection = { apiUrl: DEFAULT_API_URL, token: 'cft_env_token' };
const ID = 'blk_abcdefghijklmnopqrst';

describe('parseCli', () => {
  const ok: Array<[string, string[], Record<string, string | undefined>, CliCommand]> = [
    ['ok/no command is help', [], ENV, { command: 'help' }],
    ['ok/--help', ['--help'], ENV, { command: 'help' }],
    ['ok/help of a command', ['bulk-reissue', '--help'], ENV, { command: 'help' }],
    [
      'ok/every selector flag, repeated and comma-separated',
      [
        'bulk-reissue',
        '--issuer', 'iss_a',
        '--team', 'payments,search',
        '--team', 'team_x',
        '--san', '*.api.example.com',
        '--certificate', 'crt_1',
        '--serial', '5F:3A',
        '--key-algorithm', 'RSA-2048',
        '--profile', 'tls-server',
        '--expires-after', '2027-01-01T00:00:00Z',
        '--expires-before', '2027-02-01T00:00:00Z',
        '--reason', 'issuer compromise',
        '--revoke-superseded',
        '--max-concurrent', '10',
        '--max-per-second', '5',
        '--yes',
      ],
      ENV,
      {
        command: 'bulk-reissue',
        connection,
        yes: true,
        request: {
          selector: {
            issuers: ['iss_a'],
            teams: ['payments', 'search', 'team_x'],
            sanPattern: '*.api.example.com',
            certificateIds: ['crt_1'],
            serials: ['5F:3A'],
            keyAlgorithms: ['RSA-2048'],
            profiles: ['tls-server'],
            expiresAfter: '2027-01-01T00:00:00Z',
            expiresBefore: '2027-02-01T00:00:00Z',
          },
          reason: 'issuer compromise',
          revokeSuperseded: true,
          maxConcurrent: 10,
          maxPerSecond: 5,
        },
      },
    ],
    [
      'ok/--all with defaults left to the API',
      ['bulk-reissue', '--all', '--reason', 'rotate everything'],
      ENV,
      { command: 'bulk-reissue', connection, yes: false, request: { selector: { all: true }, reason: 'rotate everything', revokeSuperseded: false } },
    ],
    [
      'ok/no selector is left for the API to refuse',
      ['bulk-reissue', '--reason', 'r'],
      ENV,
      { command: 'bulk-reissue', connection, yes: false, request: { selector: {}, reason: 'r', revokeSuperseded: false } },
    ],
    [
      'ok/connection flags win over the environment',
      ['bulk-status', ID, '--api-url', 'https://certflow.internal/', '--token', 'cft_flag'],
      { CERTFLOW_API_URL: 'http://elsewhere:8080', CERTFLOW_TOKEN: 'cft_env' },
      { command: 'bulk-status', id: ID, connection: { apiUrl: 'https://certflow.internal', token: 'cft_flag' } },
    ],
    [
      'ok/connection from the environment',
      ['bulk-cancel', ID],
      { CERTFLOW_API_URL: 'http://certflow:9000', CERTFLOW_TOKEN: 'cft_env' },
      { command: 'bulk-cancel', id: ID, connection: { apiUrl: 'http://certflow:9000', token: 'cft_env' } },
    ],
    ['ok/pause', ['bulk-pause', ID], ENV, { command: 'bulk-pause', id: ID, connection }],
    ['ok/resume', ['bulk-resume', ID], ENV, { command: 'bulk-resume', id: ID, connection }],
  ];

  it.each(ok)('%s', (_name, argv, env, expected) => {
    expect(parseCli(argv, env)).toEqual({ ok: true, value: expected });
  });

  const fail: Array<[string, string[], Record<string, string | undefined>, RegExp]> = [
    ['fail/unknown command', ['bulk-delete'], ENV, /unknown command "bulk-delete"/],
    ['fail/no reason', ['bulk-reissue', '--all'], ENV, /--reason/],
    ['fail/blank reason', ['bulk-reissue', '--all', '--reason', '  '], ENV, /--reason/],
    ['fail/unknown flag', ['bulk-reissue', '--all', '--reason', 'r', '--force'], ENV, /--force/],
    ['fail/flag without value', ['bulk-reissue', '--reason'], ENV, /--reason/],
    ['fail/stray argument', ['bulk-reissue', '--all', '--reason', 'r', 'extra'], ENV, /extra/],
    ['fail/max-concurrent not a number', ['bulk-reissue', '--all', '--reason', 'r', '--max-concurrent', 'ten'], ENV, /--max-concurrent must be a positive whole number/],
    ['fail/max-per-second zero', ['bulk-reissue', '--all', '--reason', 'r', '--max-per-second', '0'], ENV, /--max-per-second/],
    ['fail/no token', ['bulk-status', ID], {}, /CERTFLOW_TOKEN/],
    ['fail/api url not a URL', ['bulk-status', ID, '--api-url', 'certflow:8080x'], ENV, /http:\/\/ or https:\/\//],
    ['fail/api url garbage', ['bulk-status', ID, '--api-url', 'not a url'], ENV, /not a URL/],
    ['fail/missing id', ['bulk-status'], ENV, /usage: certflow bulk-status <bulk operation id>/],
    ['fail/two ids', ['bulk-pause', ID, ID], ENV, /usage/],
    ['fail/not a bulk id', ['bulk-cancel', 'crt_abc'], ENV, /not a bulk operation id/],
    ['fail/selector flag on status', ['bulk-status', ID, '--all'], ENV, /--all/],
  ];

  it.each(fail)('%s', (_name, argv, env, message) => {
    const parsed = parseCli(argv, env);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });
});
