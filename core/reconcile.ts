/**
 * What `certflow reconcile` does about one certificate after Postgres came back from an older
 * backup while Temporal kept running (docs/operations.md §11), decided from the database's row and
 * versions and from what the lifecycle workflow says (its `status` query, which also answers for a
 * closed run). Pure: activities/reconcile.ts gathers the facts and carries the actions out.
 *
 * The rules, in the order they apply:
 * - A version the workflow has and the database lost is recovered as it was signed (its PEM is in
 *   the workflow's history): never signed again, so no serial and no generation is signed twice.
 * - A revocation the workflow recorded and the database lost is recorded again (a revocation wins).
 * - A workflow whose certificate row is gone (the certificate was requested after the backup): its
 *   versions are recovered and revoked, and the workflow is ended. The request (names policy was
 *   checked for, requester, approval, destinations, server-made key) was never in the backup, so the
 *   CA cannot keep vouching for the certificate; the team requests it again.
 * - A row whose workflow is gone or closed without a revocation: the lifecycle is restarted at the
 *   current generation (issuance is idempotent: it returns the recorded version).
 */
import type { CertState, VersionSummary } from './types.js';

export interface ReconcileDbFacts {
  state: CertState;
  /** Generations recorded in the database. */
  generations: number[];
  currentGeneration: number | null;
  revoked: boolean;
  /** Whether a lifecycle is meant to own it and may be restarted by the platform (server key or CSR, with a version). */
  restartable: boolean;
}

export interface ReconcileWorkflowFacts {
  running: boolean;
  state: CertState;
  revokedAt: string | null;
  currentVersion: VersionSummary | null;
}

export type ReconcileAction =
  | { kind: 'recover_versions'; fromGeneration: number; toGeneration: number }
  | { kind: 'record_revocation'; revokedAt: string | null }
  | { kind: 'recreate_revoked'; toGeneration: number }
  | { kind: 'end_workflow' }
  | { kind: 'restart' }
  | { kind: 'alert'; reason: string };

/** `db` null: no row; `workflow` null: no workflow (or it never issued and has nothing to say). */
export function decideReconcile(db: ReconcileDbFacts | null, workflow: ReconcileWorkflowFacts | null): ReconcileAction[] {
  if (!db) {
    if (!workflow) return [];
    const actions: ReconcileAction[] = [];
    if (workflow.currentVersion) actions.push({ kind: 'recreate_revoked', toGeneration: workflow.currentVersion.generation });
    if (workflow.running) actions.push({ kind: 'end_workflow' });
    return actions;
  }
  const actions: ReconcileAction[] = [];
  const newest = db.generations.length > 0 ? Math.max(...db.generations) : 0;
  const workflowGeneration = workflow?.currentVersion?.generation ?? 0;
  if (workflowGeneration > newest) actions.push({ kind: 'recover_versions', fromGeneration: newest + 1, toGeneration: workflowGeneration });
  const workflowRevoked = workflow !== null && (workflow.state === 'revoked' || workflow.revokedAt !== null);
  if (workflowRevoked && !db.revoked) actions.push({ kind: 'record_revocation', revokedAt: workflow.revokedAt });
  if (!workflowRevoked && !db.revoked && (workflow === null || !workflow.running) && !FINISHED.includes(db.state)) {
    actions.push(db.restartable ? { kind: 'restart' } : { kind: 'alert', reason: `its lifecycle is not running and cannot be restarted by the platform (state ${db.state})` });
  }
  return actions;
}

const FINISHED: readonly CertState[] = ['revoked', 'rejected', 'approval_expired', 'adopted'];

/** The summary the workflow keeps: the signed PEM stays in the issuing activity's result only (history), not in the workflow's state. */
export function withoutCertificatePem(version: VersionSummary & { certificatePem?: string }): VersionSummary {
  const { certificatePem: _pem, ...summary } = version;
  return summary;
}
