/**
 * Issuer compromise drill (DESIGN.md §4 issuerRotation / massRevocation): the workflow's input,
 * phases and report, and the pure naming rules shared by the workflow, its activities, the API and
 * the CLI.
 */
import type { BulkCounts } from './bulk.js';
import type { StepFailure } from './until-done.js';

export interface IssuerCompromiseInput {
  /** The intermediate whose key is compromised. */
  issuerId: string;
  /** Why, for people (1–500 characters); goes into the bulk reason and the audit log. */
  reason: string;
  /** Token id of whoever started the drill. */
  requestedBy: string;
  maxConcurrent: number;
  maxPerSecond: number;
}

export const COMPROMISE_PHASES = ['marking', 'creating_successor', 'reissuing', 'revoking', 'reporting', 'done'] as const;
export type CompromisePhase = (typeof COMPROMISE_PHASES)[number];

/** What the workflow's `drillStatus` query answers while it runs. */
export interface CompromiseStatus {
  issuerId: string;
  phase: CompromisePhase;
  successorId: string | null;
  bulkId: string | null;
  /** The failure of a step being retried now (e.g. Postgres unavailable), or null. */
  lastError: StepFailure | null;
}

export interface ReplacedCertificate {
  certificateId: string;
  oldSerial: string | null;
  newSerial: string | null;
  /** The issuer of the new version: the successor (or another active intermediate). */
  newIssuerId: string | null;
  /** The bulk outcome: reissued, rolled_out or verified. */
  outcome: string;
  /** The superseded version (signed by the compromised intermediate) has been revoked. */
  oldRevoked: boolean;
}

export interface FailedCertificate {
  certificateId: string;
  reason: string;
}

export interface CompromiseTimings {
  startedAt: string;
  markedAt: string;
  successorAt: string;
  reissueStartedAt: string;
  reissueFinishedAt: string;
  /** Null when the intermediate was left unrevoked (the reissue did not finish). */
  revokedAt: string | null;
  finishedAt: string;
  totalSeconds: number;
}

export interface CompromiseReport {
  issuerId: string;
  successorId: string;
  bulkId: string;
  reason: string;
  /**
   * `completed`: the reissue ran to its end and the intermediate is revoked. `incomplete`: the bulk
   * operation was cancelled, so the intermediate is compromised but not revoked; run the drill again.
   */
  outcome: 'completed' | 'incomplete';
  counts: BulkCounts & { replaced: number; failedOrRemaining: number };
  replaced: ReplacedCertificate[];
  failed: FailedCertificate[];
  /**
   * The workflow's copy lists at most REPORT_LIST_LIMIT replaced and failed certificates each (to
   * keep the history small); the stored report (GET /v1/issuers/:id/compromise) lists all of them.
   */
  truncated: boolean;
  /** CRLs published at the end: issuer id → CRL number. */
  crls: { issuerId: string; crlNumber: string }[];
  timings: CompromiseTimings;
}

/** Most entries of `replaced` and of `failed` in the report the workflow returns. */
export const REPORT_LIST_LIMIT = 1_000;

export function issuerCompromiseWorkflowId(issuerId: string): string {
  return `issuer-compromise/${issuerId}`;
}

/** The bulk reason the lifecycles record as their renewal reason. */
export function compromiseBulkReason(issuerId: string, reason: string): string {
  return `issuer ${issuerId} compromised: ${reason}`;
}

/** X.520 upper bound of a commonName. */
export const MAX_COMMON_NAME_LENGTH = 64;

/**
 * The successor's commonName: a trailing generation number is raised ("Issuing CA 2026 1" →
 * "Issuing CA 2026 2"); without one, " 2" is added. Distinct subjects keep path building simple
 * for relying parties that hold both intermediates.
 */
export function successorCommonName(commonName: string): string {
  const match = /^(.*\S)\s+(\d{1,6})$/.exec(commonName);
  const next = match ? `${match[1]} ${Number(match[2]) + 1}` : `${commonName} 2`;
  if (next.length <= MAX_COMMON_NAME_LENGTH) return next;
  const suffix = next.slice(next.lastIndexOf(' '));
  return `${next.slice(0, MAX_COMMON_NAME_LENGTH - suffix.length).trimEnd()}${suffix}`;
}

export function secondsBetween(from: string, to: string): number {
  return Math.round((new Date(to).getTime() - new Date(from).getTime()) / 10) / 100;
}
