/**
 * The audit key (CERTFLOW_AUDIT_KEY, 32 bytes as 64 hex characters or base64) that seals every audit
 * row and checkpoint. Separate from the KEK: the API appends audit events but holds no KEK. In dev
 * mode a generated key file under the data directory, like the KEK.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AuditKey } from '../db/audit-chain.js';
import { ConfigError, type Config } from './config.js';

export async function loadAuditKey(config: Pick<Config, 'auditKey' | 'production' | 'dataDir'>, log: (message: string) => void): Promise<AuditKey> {
  if (config.auditKey) return AuditKey.fromSecret(decodeAuditKey(config.auditKey));
  if (config.production) throw new ConfigError('CERTFLOW_AUDIT_KEY is required when NODE_ENV=production (32 bytes, hex or base64)');
  const path = join(config.dataDir, 'audit-key');
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? null : Promise.reject(error)));
  if (existing !== null) return AuditKey.fromSecret(decodeAuditKey(existing.trim()));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  log(`WARNING: dev mode — generated an audit key at ${path} (mode 0600). Set CERTFLOW_AUDIT_KEY in production.`);
  return AuditKey.fromSecret(decodeAuditKey((await readFile(path, 'utf8')).trim()));
}

function decodeAuditKey(value: string): Buffer {
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (bytes.length !== 32) throw new ConfigError('CERTFLOW_AUDIT_KEY must be 32 bytes, given as 64 hex characters or base64');
  return bytes;
}
