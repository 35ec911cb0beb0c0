/**
 * Bulk reissue (incident response): the selector, the workflow's input and progress, the outcome
 * of each certificate, and the pure rules: pacing (sliding window + rate limit) and the safety net
 * that finds renewals which will never report (when to check them, what makes them `skipped`).
 * Shared by the bulkReissue workflow, its activities and the API.
 */
import type { StepFailure } from './until-done.js';
import type { KeyAlgorithm, Profile } from './types.js';

/** Every field narrows the selection (AND); a certificate must match all that are given. */
export interface BulkSelector {
  issuerIds?: string[];
  /** Team ids. */
  teamIds?: string[];
  /** Glob on canonical DNS names: `*` matches within one label, `**` across labels; a certificate matches when any of its names does. */
  sanPattern?: string;
  certificateIds?: string[];
  /** Canonical lower-case hex serials of current versions. */
  serials?: string[];
  keyAlgorithms?: KeyAlgorithm[];
  profiles?: Profile[];
  /** Current version's notAfter ≥ this (ISO-8601). */
  expiresAfter?: string;
  /** Current version's notAfter < this (ISO-8601). */
  expiresBefore?: string;
}

export const BULK_OUTCOMES = ['reissued', 'rolled_out', 'verified', 'failed', 'skipped'] as const;
export type BulkOutcome = (typeof BULK_OUTCOMES)[number];

/** How one certificate's part in a bulk operation ended: recorded once in its bulk_items row (the first record wins). */
export interface BulkOutcomeReport {
  certificateId: string;
  outcome: BulkOutcome;
  /** For `failed` and `skipped`: why, for people. */
  reason?: string | null;
  oldVersionId: string | null;
  newVersionId: string | null;
}

/** `failed`: the workflow itself failed (a business error; infrastructure failures are retried until done). */
export const BULK_STATES = ['running', 'paused', 'cancelling', 'cancelled', 'completed', 'failed'] as const;
export type BulkState = (typeof BULK_STATES)[number];

export interface BulkOptions {
  reason: string;
  /** Certificates whose renewal is under way at once (the sliding window). */
  maxConcurrent: number;
  /** Renewals started per second at most. */
  maxPerSecond: number;
  /** Revoke each superseded version (reason `superseded`) once its replacement is out (verified where endpoints are named). */
  revokeSuperseded: boolean;
}

export interface BulkCounts {
  selected: number;
  sent: number;
  reissued: number;
  rolled_out: number;
  verified: number;
  failed: number;
  skipped: number;
  revoked: number;
}

export const EMPTY_COUNTS: BulkCounts = { selected: 0, sent: 0, reissued: 0, rolled_out: 0, verified: 0, failed: 0, skipped: 0, revoked: 0 };

/**
 * The counts of some of an operation's items (one team's share of a platform admin's operation):
 * each item was selected and sent; its outcome and whether its superseded version was revoked.
 */
export function countsOfItems(items: ReadonlyArray<{ outcome: BulkOutcome | null; revoked: boolean }>): BulkCounts {
  const counts = { ...EMPTY_COUNTS, selected: items.length, sent: items.length };
  for (const item of items) {
    if (item.outcome) counts[item.outcome] += 1;
    if (item.revoked) counts.revoked += 1;
  }
  return counts;
}

/** A certificate the bulk operation has signalled and whose outcome it waits for. */
export interface InFlight {
  certificateId: string;
  oldVersionId: string | null;
  sentAt: string;
  /** Safety-net checks of its lifecycle so far (livenessCheckDueAt). */
  checks?: number;
  checkedAt?: string | null;
}

export interface BulkReissueInput {
  bulkId: string;
  selector: BulkSelector;
  options: BulkOptions;
  /** Carried across continueAsNew. */
  state?: BulkCarry;
}

export interface BulkCarry {
  /** Keyset cursor: the last certificate id selected. */
  after: string | null;
  exhausted: boolean;
  counts: BulkCounts;
  inFlight: InFlight[];
  paused: boolean;
  cancelRequested: boolean;
  startedAt: string;
}

export interface BulkProgress {
  bulkId: string;
  state: BulkState;
  counts: BulkCounts;
  inFlight: number;
  startedAt: string;
  /** Certificates finished (any outcome) per second since the start. */
  ratePerSecond: number;
  /** Estimated completion, or null when unknown. */
  etaAt: string | null;
  /** The failure of a step being retried now (Postgres or Temporal unavailable), or null. */
  lastError: StepFailure | null;
}

/** Outcomes that end a certificate's part in the operation (everything but in-flight). */
export function finishedCount(counts: BulkCounts): number {
  return counts.reissued + counts.rolled_out + counts.verified + counts.failed + counts.skipped;
}

/** Outcomes after which the superseded version may be revoked: the replacement is out where it must be. */
export function mayRevokeSuperseded(outcome: BulkOutcome): boolean {
  return outcome === 'reissued' || outcome === 'rolled_out' || outcome === 'verified';
}

/**
 * How many renewals may start now: free slots of the window, and what the rate limit allows given
 * when the last `sentInLastSecond` were sent. Pure, so the workflow stays deterministic.
 */
export function sendBudget(input: { maxConcurrent: number; inFlight: number; maxPerSecond: number; sentInLastSecond: number }): number {
  return Math.max(0, Math.min(input.maxConcurrent - input.inFlight, input.maxPerSecond - input.sentInLastSecond));
}

export function progressOf(bulkId: string, state: BulkState, carry: BulkCarry, now: number, lastError: StepFailure | null = null): BulkProgress {
  const elapsedSeconds = Math.max(0.001, (now - new Date(carry.startedAt).getTime()) / 1000);
  const finished = finishedCount(carry.counts);
  const ratePerSecond = finished / elapsedSeconds;
  const remaining = carry.counts.selected - finished;
  const etaAt = ratePerSecond > 0 && carry.exhausted && remaining >= 0 ? new Date(now + (remaining / ratePerSecond) * 1000).toISOString() : null;
  return { bulkId, state, counts: carry.counts, inFlight: carry.inFlight.length, startedAt: carry.startedAt, ratePerSecond, etaAt, lastError };
}

/**
 * `selected` once the whole selection has been read: every certificate taken is either finished or in
 * flight. The count at the start is an estimate (certificates are issued and revoked meanwhile); from
 * here on, a completed operation has exactly `selected` outcomes.
 */
export function selectedOnceExhausted(counts: BulkCounts, inFlight: number): number {
  return finishedCount(counts) + inFlight;
}

/**
 * The safety net: a renewal in flight without an outcome is checked LIVENESS_CHECK.firstAfterMs after
 * it was sent, then at intervals doubling up to maxIntervalMs, at most `batch` certificates at a time.
 */
export const LIVENESS_CHECK = { firstAfterMs: 30_000, firstIntervalMs: 30_000, maxIntervalMs: 120_000, batch: 50 } as const;

export function livenessCheckDueAt(item: InFlight): number {
  const checks = item.checks ?? 0;
  if (checks === 0 || !item.checkedAt) return new Date(item.sentAt).getTime() + LIVENESS_CHECK.firstAfterMs;
  const interval = Math.min(LIVENESS_CHECK.firstIntervalMs * 2 ** (checks - 1), LIVENESS_CHECK.maxIntervalMs);
  return new Date(item.checkedAt).getTime() + interval;
}

/** Certificates whose check is due at `now`, the longest overdue first, at most `limit`. */
export function dueForLivenessCheck(inFlight: InFlight[], now: number, limit: number = LIVENESS_CHECK.batch): string[] {
  return inFlight
    .map((item) => ({ certificateId: item.certificateId, dueAt: livenessCheckDueAt(item) }))
    .filter((item) => item.dueAt <= now)
    .sort((a, b) => a.dueAt - b.dueAt || a.certificateId.localeCompare(b.certificateId))
    .slice(0, limit)
    .map((item) => item.certificateId);
}

/** When the next check of any renewal in flight is due (epoch ms), or null when none is in flight. */
export function nextLivenessCheckAt(inFlight: InFlight[]): number | null {
  return inFlight.reduce<number | null>((earliest, item) => Math.min(earliest ?? Infinity, livenessCheckDueAt(item)), null);
}

/** Temporal's execution statuses of a closed workflow: it will report nothing any more. */
const CLOSED_WORKFLOW_STATUSES = ['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'];
/** Certificate states after which no renewal of it can end well. */
const ENDED_CERTIFICATE_STATES = ['revoked', 'decommissioned'];

/** What the safety net knows of a certificate in flight: its row's state and its lifecycle workflow's status. */
export interface LivenessFacts {
  /** null: the certificate row does not exist. */
  certificateState: string | null;
  /** Temporal's status name of `certificate/<id>` (its latest run), or `NOT_FOUND`; null when not looked up. */
  workflowStatus: string | null;
}

/**
 * Why a renewal in flight will never report an outcome (it is then `skipped` with this reason), or
 * null while it still may: its certificate is gone, revoked or decommissioned, or its lifecycle
 * workflow is closed or missing. A lifecycle that still runs reports by itself.
 */
export function stalledSkipReason(facts: LivenessFacts): string | null {
  if (facts.certificateState === null) return 'the certificate no longer exists';
  if (ENDED_CERTIFICATE_STATES.includes(facts.certificateState)) return `the certificate was ${facts.certificateState} before its renewal for this operation ended`;
  if (facts.workflowStatus === 'NOT_FOUND') return 'its lifecycle workflow does not exist';
  if (facts.workflowStatus !== null && CLOSED_WORKFLOW_STATUSES.includes(facts.workflowStatus)) {
    return `its lifecycle workflow ended (${facts.workflowStatus.toLowerCase().replace('_', ' ')}) without reporting an outcome`;
  }
  return null;
}

/** `*` matches within one DNS label, `**` across labels; everything else literally. As an anchored RegExp source. */
export function sanPatternToRegex(pattern: string): string {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index]!;
    if (char === '*' && pattern[index + 1] === '*') {
      source += '.*';
      index++;
    } else if (char === '*') {
      source += '[^.]*';
    } else {
      source += /[a-z0-9-]/.test(char) ? char : `\\${char}`;
    }
  }
  return `^${source}$`;
}
