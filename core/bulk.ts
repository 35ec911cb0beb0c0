/**
 * Bulk reissue (incident response): the selector, the workflow's input and progress, the outcome
 * of each certificate, and the pure pacing rules (sliding window + rate limit). Shared by the
 * bulkReissue workflow, its activities and the API.
 */
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

/** What a lifecycle run started by a bulk operation reports back when its rollout ended. */
export interface BulkOutcomeReport {
  certificateId: string;
  outcome: BulkOutcome;
  /** For `failed` and `skipped`: why, for people. */
  reason?: string | null;
  oldVersionId: string | null;
  newVersionId: string | null;
}

export const BULK_STATES = ['running', 'paused', 'cancelling', 'cancelled', 'completed'] as const;
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

/** A certificate the bulk operation has signalled and whose outcome it waits for. */
export interface InFlight {
  certificateId: string;
  oldVersionId: string | null;
  sentAt: string;
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
  /** Outcomes received, not yet written to Postgres. */
  unrecorded: BulkOutcomeReport[];
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

export function progressOf(bulkId: string, state: BulkState, carry: BulkCarry, now: number): BulkProgress {
  const elapsedSeconds = Math.max(0.001, (now - new Date(carry.startedAt).getTime()) / 1000);
  const finished = finishedCount(carry.counts);
  const ratePerSecond = finished / elapsedSeconds;
  const remaining = carry.counts.selected - finished;
  const etaAt = ratePerSecond > 0 && carry.exhausted && remaining >= 0 ? new Date(now + (remaining / ratePerSecond) * 1000).toISOString() : null;
  return { bulkId, state, counts: carry.counts, inFlight: carry.inFlight.length, startedAt: carry.startedAt, ratePerSecond, etaAt };
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
