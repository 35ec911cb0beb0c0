/**
 * The secret the ACME EAB MAC keys are derived from (CERTFLOW_ACME_EAB_SECRET, at least 32 bytes as
 * hex or base64). In dev mode a generated one under the data directory. Changing it invalidates
 * every EAB key not yet used; accounts already bound stay bound.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EabSecret } from '../api/acme/eab.js';
import { ConfigError, type Config } from './config.js';

export async function loadAcmeEabSecret(config: Pick<Config, 'production' | 'dataDir'>, given: string | undefined, log: (message: string) => void): Promise<EabSecret> {
  if (given) return EabSecret.fromBytes(decode(given));
  if (config.production) throw new ConfigError('CERTFLOW_ACME_EAB_SECRET is required when NODE_ENV=production and ACME is on (32 bytes or more, hex or base64; CERTFLOW_ACME_PORT=0 turns ACME off)');
  const path = join(config.dataDir, 'acme-eab-secret');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).then(
    () => log(`WARNING: dev mode — generated the ACME EAB secret at ${path} (mode 0600). Set CERTFLOW_ACME_EAB_SECRET in production.`),
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    },
  );
  return EabSecret.fromBytes(decode((await readFile(path, 'utf8')).trim()));
}

function decode(value: string): Buffer {
  const bytes = /^(?:[0-9a-fA-F]{2}){32,}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (bytes.length < 32) throw new ConfigError('CERTFLOW_ACME_EAB_SECRET must be at least 32 bytes, given as hex or base64');
  return bytes;
}
