/**
 * The key-encryption key that seals every private key at rest. `CERTFLOW_KEK` (32 bytes as 64 hex
 * characters or base64) in production; in dev mode a generated key file under the data directory.
 * During a rotation `CERTFLOW_KEK_PREVIOUS` holds the old KEK(s), still accepted for opening.
 * Only the worker and the `certflow kek` command load it; the API never does (cmd/start-api.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { kekRing, type KekRing } from '../ca/key-encryption.js';
import { ConfigError, type Config } from './config.js';

export async function loadKek(config: Config, log: (message: string) => void): Promise<Buffer> {
  if (config.kek) return decodeKek(config.kek);
  if (config.production) throw new ConfigError('CERTFLOW_KEK is required when NODE_ENV=production (32 bytes, hex or base64)');
  const path = join(config.dataDir, 'kek');
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? null : Promise.reject(error)));
  if (existing !== null) return decodeKek(existing.trim());
  await mkdir(dirname(path), { recursive: true });
  const kek = randomBytes(32);
  await writeFile(path, `${kek.toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  log(`WARNING: dev mode — generated a key-encryption key at ${path} (mode 0600). Set CERTFLOW_KEK in production.`);
  return decodeKek((await readFile(path, 'utf8')).trim());
}

/** The current KEK and, while a rotation runs, the previous ones (`CERTFLOW_KEK_PREVIOUS`). */
export async function loadKekRing(config: Config, log: (message: string) => void): Promise<KekRing> {
  return kekRing(await loadKek(config, log), config.kekPrevious.map((value) => decodeKek(value, 'CERTFLOW_KEK_PREVIOUS')));
}

export function decodeKek(value: string, variable = 'CERTFLOW_KEK'): Buffer {
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (bytes.length !== 32) throw new ConfigError(`${variable} must be 32 bytes, given as 64 hex characters or base64`);
  return bytes;
}
