/**
 * `certflow login --oidc` takes the identity provider to log in at from the API's answer (GET /v1/auth/oidc):
 * over plain http anyone on the path could name their own IdP, and the user would confirm a code (and type
 * a password) at the attacker's page. So the API URL must be https (http only on loopback, for development).
 */
import { describe, expect, it } from 'vitest';
import { EXIT_USAGE } from '../../../cmd/cli-exit.js';
import { loginCommand } from '../../../cmd/login-cli.js';

function recordingIo(env: Record<string, string | undefined>) {
  const asked: string[] = [];
  const err: string[] = [];
  const io = {
    out: () => undefined,
    err: (line: string) => err.push(line),
    env,
    fetch: (async (url: string) => {
      asked.push(String(url));
      return new Response(JSON.stringify({ issuer: 'https://evil.example.test', audience: 'certflow', clientId: 'cli' }), { status: 200 });
    }) as typeof fetch,
    sleep: async () => undefined,
  };
  return { io, asked, err };
}

describe('certflow login --oidc', () => {
  it('refuses an http API URL that is not loopback before asking it anything', async () => {
    const { io, asked, err } = recordingIo({ HOME: '/nonexistent' });
    expect(await loginCommand.run(['--oidc', '--api-url', 'http://certflow.example.test'], io)).toBe(EXIT_USAGE);
    expect(asked).toEqual([]);
    expect(err.join('\n')).toMatch(/https/);
  });

  it('asks an https or loopback API for its OIDC settings', async () => {
    for (const apiUrl of ['https://certflow.example.test', 'http://127.0.0.1:8080']) {
      const { io, asked } = recordingIo({ HOME: '/nonexistent' });
      await loginCommand.run(['--oidc', '--api-url', apiUrl], io);
      expect(asked[0]).toBe(`${apiUrl}/v1/auth/oidc`);
    }
  });
});
