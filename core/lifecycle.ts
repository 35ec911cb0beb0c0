/** The lifecycle workflow's input and the status it reports (shared by the workflow and the API). */
import type { CertState, RevocationReason, VersionSummary } from './types.js';

export interface LifecycleInput {
  certificateId: string;
  /** The generation this run issues; 1 for the first certificate, +1 for each renewal. */
  generation: number;
  /** The version the previous run issued, carried across continueAsNew. */
  currentVersion?: VersionSummary | null;
  renewalReason?: string | null;
  /** Number of entries in the certificate's destinations; fixed when the certificate is created. */
  destinationCount: number;
  /** Overrides the default renewal at 2/3 of the lifetime. */
  renewBeforeSeconds?: number | null;
}

export type LifecycleStep = 'issue' | 'deliver' | 'wait-for-renewal' | 'retry-backoff' | 'wait-for-operator' | 'revoke' | 'none';

export interface LifecycleError {
  type: string;
  message: string;
  at: string;
  attempt: number;
}

export interface LifecycleStatus {
  certificateId: string;
  state: CertState;
  generation: number;
  pendingStep: LifecycleStep;
  currentVersion: VersionSummary | null;
  nextRenewalAt: string | null;
  nextRetryAt: string | null;
  /** Failed attempts of the current issuance or delivery (0 when all is well). */
  attempt: number;
  lastError: LifecycleError | null;
  revokedAt: string | null;
}

export interface RenewNowRequest {
  reason: string;
  bulkOperationId?: string | null;
}

export interface RevokeRequest {
  reason: RevocationReason;
}

export interface RevokeResult {
  revokedAt: string;
  serials: string[];
}

/** Backoff between workflow-level retries after an activity exhausted its own retries. */
export function retryBackoffMs(attempt: number): number {
  const base = 30_000 * 2 ** Math.max(0, attempt - 1);
  return Math.min(base, 15 * 60_000);
}
