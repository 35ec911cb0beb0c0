/**
 * What the API and the worker share about the audit log at start-up: the checkpoint copy outside the
 * database, and the `platform.started` event with the configuration they run with (nothing secret).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditCheckpoint } from '../db/audit-chain.js';
import { appendAuditEvent } from '../db/audit.js';
import type { Database } from '../db/database.js';
import type { Config } from './config.js';

/** What a process is configured with: the API's configuration has no KEK settings (cmd/start-api.ts apiConfig). */
type ProcessConfig = Omit<Config, 'kek' | 'kekPrevious'> & { kek?: string | undefined };

/** The configuration a process starts with, without secrets or connection strings (which may hold passwords). */
export function configSummary(config: ProcessConfig): Record<string, unknown> {
  return {
    publicUrl: config.publicUrl,
    temporalAddress: config.temporalAddress ?? null,
    temporalNamespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    permittedDnsZones: config.permittedDnsZones,
    permittedUriDomains: config.permittedUriDomains,
    permittedIpRanges: config.permittedIpRanges,
    minValiditySeconds: config.minValiditySeconds,
    fileDestinationRoot: config.fileDestinationRoot,
    allowPrivateDestinations: config.allowPrivateDestinations ?? null,
    deniedDestinations: config.deniedDestinations,
    signer: config.signer.backend,
    rateLimit: config.rateLimit,
    oidcIssuer: config.oidc?.issuer ?? null,
    auditCheckpointFile: config.auditCheckpointFile,
    dbAppRole: config.dbAppRole ?? null,
    production: config.production,
    kekFrom: !('kek' in config) ? 'not held (API)' : config.kek ? 'CERTFLOW_KEK' : 'data dir (dev)',
    auditKeyFrom: config.auditKey ? 'CERTFLOW_AUDIT_KEY' : 'data dir (dev)',
  };
}

export async function recordStart(db: Database, process: 'api' | 'worker', config: ProcessConfig): Promise<void> {
  await appendAuditEvent(db, { at: new Date(), actor: 'system', action: 'platform.started', details: { process, pid: globalThis.process.pid, config: configSummary(config) } });
}

/** Appends each checkpoint as a JSON line to `path` (an auditor's copy outside Postgres) and logs it. */
export function checkpointCopyTo(path: string, log: (message: string) => void): (checkpoint: AuditCheckpoint) => Promise<void> {
  return async (checkpoint) => {
    const line = JSON.stringify({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at.toISOString(), mac: checkpoint.mac });
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, `${line}\n`, { mode: 0o600 });
    log(`audit checkpoint ${line}`);
  };
}
