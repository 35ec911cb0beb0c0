import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { workerSealingKey } from '../../../ca/destination-secrets.js';
import { decodeSealingPublicKey, encodeSealingPublicKey } from '../../../ca/sealed-box.js';
import { apiConfig } from '../../../cmd/start-api.js';
import { loadConfig } from '../../../cmd/config.js';
import { runKekCommand } from '../../../cmd/kek-cli.js';

async function run(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKekCommand(args, { out: (line) => out.push(line), err: (line) => err.push(line), env });
  return { code, out, err };
}

describe('certflow kek', () => {
  const kek = randomBytes(32);

  it('ok/public-key prints the sealing public key derived from CERTFLOW_KEK, in the form the API reads', async () => {
    const result = await run(['public-key'], { CERTFLOW_KEK: kek.toString('hex'), NODE_ENV: 'production' });
    expect(result.code).toBe(0);
    expect(result.out).toEqual([encodeSealingPublicKey(workerSealingKey(kek).publicKey)]);
    expect(decodeSealingPublicKey(result.out[0]!).id).toBe(workerSealingKey(kek).publicKey.id);
    expect(result.out.join('')).not.toContain(kek.toString('hex'));
  });

  it.each([
    { name: 'fail/public-key without CERTFLOW_KEK in production', args: ['public-key'], env: { NODE_ENV: 'production' }, message: /CERTFLOW_KEK is required/ },
    { name: 'fail/a KEK of the wrong size', args: ['public-key'], env: { CERTFLOW_KEK: 'ab'.repeat(16) }, message: /CERTFLOW_KEK must be 32 bytes/ },
    { name: 'fail/rotate without DATABASE_URL', args: ['rotate'], env: { CERTFLOW_KEK: kek.toString('hex') }, message: /DATABASE_URL is required/ },
    { name: 'fail/rotate with a bad previous KEK', args: ['rotate'], env: { CERTFLOW_KEK: kek.toString('hex'), CERTFLOW_KEK_PREVIOUS: 'nope', DATABASE_URL: 'postgres://127.0.0.1:1/x' }, message: /CERTFLOW_KEK_PREVIOUS must be 32 bytes/ },
    { name: 'fail/--limit 0', args: ['rotate', '--limit', '0'], env: {}, message: /--limit must be a positive integer/ },
    { name: 'fail/--batch-size not a number', args: ['rotate', '--batch-size', 'many'], env: {}, message: /--batch-size must be a positive integer/ },
    { name: 'fail/unknown option', args: ['rotate', '--all'], env: {}, message: /Unknown option '--all'/ },
    { name: 'fail/unknown command', args: ['destroy'], env: {}, message: /unknown kek command "destroy"/ },
  ])('$name', async ({ args, env, message }) => {
    const result = await run(args, env);
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(message);
  });
});

describe('apiConfig', () => {
  it('ok/drops the KEK settings: the API is never handed a KEK, even when the environment has one', () => {
    const config = loadConfig({ CERTFLOW_KEK: 'ab'.repeat(32), CERTFLOW_KEK_PREVIOUS: 'cd'.repeat(32), CERTFLOW_SEALING_PUBLIC_KEY: 'x25519:' + 'A'.repeat(43) });
    const given = apiConfig(config);
    expect(Object.keys(given).filter((key) => /kek/i.test(key))).toEqual([]);
    expect(JSON.stringify(given)).not.toContain('ab'.repeat(32));
    expect(JSON.stringify(given)).not.toContain('cd'.repeat(32));
    expect(given.sealingPublicKey).toBe('x25519:' + 'A'.repeat(43));
  });
});
