/** The lifecycle workflow's input and the status it reports (shared by the workflow and the API). */
import type { ApprovalReason, ApproverIdentity } from './approval.js';
import type { CertState, DestinationType, KeySource, RevocationReason, VersionSummary } from './types.js';

/** What the workflow needs to know of a destination (no URLs, paths or secrets: those stay in Postgres). */
export interface DestinationPlan {
  type: DestinationType;
  /** The destination names TLS endpoints to probe after delivery. */
  verify: boolean;
  /** For agents: how long to wait for the deployment report. */
  reportTimeoutSeconds?: number;
  /** For verification: how long the endpoints may take to serve the new version. */
  verifyTimeoutSeconds?: number;
}

/** An approval the first generation waits for. */
export interface ApprovalPlan {
  approvalId: string;
  teamId: string;
  /** Token id of the requester, who may not decide. */
  requestedBy: string;
  /** Principal of the requester: no token of it may decide (absent in plans made before principals). */
  requestedByPrincipal?: string | null;
  reasons: ApprovalReason[];
  deadlineSeconds: number;
  escalateAfterSeconds: number;
}

export interface LifecycleInput {
  certificateId: string;
  /** The generation this run issues; 1 for the first certificate, +1 for each renewal. */
  generation: number;
  /** The version the previous run issued, carried across continueAsNew. */
  currentVersion?: VersionSummary | null;
  renewalReason?: string | null;
  /** Overrides the default renewal at 2/3 of the lifetime. */
  renewBeforeSeconds?: number | null;
  /** One per destination of the certificate, in order; fixed when the certificate is created. */
  destinations: DestinationPlan[];
  keySource?: KeySource;
  /** Present when policy says the first issuance needs a human. */
  approval?: ApprovalPlan | null;
  /** How long a failed rollout waits before it is retried by itself (default 15 min). */
  rolloutRetrySeconds?: number;
  /** The bulk operations that asked for this run's renewal; the run records its outcome for each. */
  bulkOperationIds?: string[];
  /**
   * A run started only to revoke (the certificate's previous run had closed, e.g. failed or was
   * terminated): it revokes every version and ends.
   */
  revokeOnStart?: RevokeRequest | null;
}

export interface ApprovalDecisionRequest {
  approver: ApproverIdentity;
  reason: string;
}

export interface ApprovalDecisionResult {
  approvalId: string;
  state: 'approved' | 'rejected';
  decidedBy: string;
  decidedAt: string;
}

export interface RolloutFailure {
  destinationIndex: number;
  reason: string;
  at: string;
}

export type LifecycleStep =
  | 'await-approval'
  | 'await-csr'
  | 'issue'
  | 'deliver'
  | 'verify'
  | 'rollback'
  /** Recording the outcome for the bulk operation that asked for this renewal. */
  | 'report'
  | 'wait-for-rollout-retry'
  | 'wait-for-renewal'
  | 'retry-backoff'
  | 'wait-for-operator'
  | 'revoke'
  | 'none';

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
  /** When `state` last changed. */
  stateSince?: string;
  approval?: { approvalId: string; state: 'pending' | 'approved' | 'rejected' | 'expired'; deadlineAt: string; escalated: boolean } | null;
  /** Destinations whose last rollout failed (and were rolled back). */
  rolloutFailures?: RolloutFailure[];
}

export interface RenewNowRequest {
  reason: string;
  /** The bulk operation asking; the run that serves the request records its outcome for it. */
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

export const DEFAULT_ROLLOUT_RETRY_SECONDS = 15 * 60;
