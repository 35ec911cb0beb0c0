/** The audit log's periodic checkpoint (db/audit.ts), run by the `auditCheckpoint` workflow. */
import { checkpointAuditLog } from '../db/audit.js';
import type { ActivityDeps } from './deps.js';

export interface AuditCheckpointResult {
  seq: number;
  hash: string;
  at: string;
}

/** Seals the chain's head, copies it outside the database, and stores it; null when the head has not moved. */
export async function checkpointAudit(deps: ActivityDeps): Promise<AuditCheckpointResult | null> {
  const checkpoint = await checkpointAuditLog(deps.db, deps.now(), { copy: deps.auditCheckpointCopy });
  return checkpoint && { seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at.toISOString() };
}
