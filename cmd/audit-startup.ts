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

/** The configuration a process starts with, without secrets or connection strings (which may hold passwords). */
export function configSummary(config: Config): Record<string, unknown> {
  return {
    publicUrl: config.publicUrl,
    temporalAddress: config.temporalAddress ?? null,
    temporalNamespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    permittedDnsZones: config.permittedDnsZones,
    fileDestinationRoot: config.fileDestinationRoot,
    auditCheckpointFile: config.auditCheckpointFile,
    dbAppRole: config.dbAppRole ?? null,
    production: config.production,
    kekFrom: config.kek ? 'CERTFLOW_KEK' : 'data dir (dev)',
    auditKeyFrom: config.auditKey ? 'CERTFLOW_AUDIT_KEY' : 'data dir (dev)',
  };
}

export async function recordStart(db: Database, process: 'api' | 'worker', config: Config): Promise<void> {
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
