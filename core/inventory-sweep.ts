/**
 * The inventory sweep's decisions (pure): what to do about one certificate, from its row, its
 * current version and what Temporal says about its lifecycle workflow. The sweep (activities/
 * inventory-sweep.ts) gathers the facts and carries the decision out.
 */
import { suggestedWindow } from './ari.js';
import { expiryThreshold } from './notifications.js';
import { renewalTime } from './renewal.js';
import { renewedByClient, type CertState, type KeySource } from './types.js';

/** States whose lifecycle workflow has ended on purpose: nothing to run, nothing to renew. */
export const FINISHED_STATES: readonly CertState[] = ['revoked', 'rejected', 'approval_expired', 'adopted'];
/** States in which a running lifecycle renews by itself. */
const HEALTHY_STATES: readonly string[] = ['pending', 'issuing', 'active', 'renewing'];
/** A renewal this long past its time counts as not working. */
export const RENEWAL_GRACE_MS = 3600_000;
/** From this many failed attempts on, a renewal counts as not working. */
export const FAILING_ATTEMPTS = 3;

export interface SweepFacts {
  certificateId: string;
  state: CertState;
  /** Whether a lifecycle workflow is meant to own it (Certflow-managed); false for certificates only tracked. */
  managed: boolean;
  keySource: string;
  renewBeforeSeconds: number | null;
  /** The current version, when there is one. */
  version: { id: string; generation: number; issuedAt: Date; notAfter: Date } | null;
  /** What Temporal says: running (with its search attributes), closed, or unknown (Temporal did not answer). */
  workflow: { kind: 'running'; certState: string | null; attempt: number } | { kind: 'closed' | 'not_found' } | { kind: 'unknown' };
  /**
   * Its lifecycle starts lazily (core/lazy-lifecycle.ts: an ACME certificate from an ACME issuance shard):
   * with no run yet, the sweep watches it instead, and marks it renewal_overdue when its window passes.
   */
  lazy?: boolean;
}

export type SweepAction =
  /** Start the lifecycle again at its current generation (issuance is idempotent: the same version). */
  | { kind: 'restart' }
  /** Not running, and restarting is not safe (no version yet: the approval would be skipped; ACME: the client renews; revoking). */
  | { kind: 'alert'; reason: string }
  | { kind: 'none' };

export interface SweepDecision {
  action: SweepAction;
  /** The expiry threshold (days) to announce, when the certificate has no working renewal. */
  expiryNotice: number | null;
  /** A lazily started ACME certificate whose client let its renewal window pass: mark it renewal_overdue. */
  markOverdue: boolean;
}

export function decideSweep(facts: SweepFacts, now: Date): SweepDecision {
  if (facts.lazy && facts.workflow.kind === 'not_found') return watchLazily(facts, now);
  const finished = FINISHED_STATES.includes(facts.state);
  const notRunning = facts.workflow.kind === 'closed' || facts.workflow.kind === 'not_found';
  let action: SweepAction = { kind: 'none' };
  if (facts.managed && !finished && notRunning) action = restartOrAlert(facts);
  const threshold = facts.version && !finished ? expiryThreshold(facts.version.notAfter, now) : null;
  const expiryNotice = threshold !== null && !renewalWorks(facts, now) ? threshold : null;
  return { action, expiryNotice, markOverdue: false };
}

/**
 * A lazily started certificate with no run yet is not broken: its ACME issuance shard signs it (still
 * pending or issuing, no version: workflows/acme-issuance-shard.ts), or
 * it is issued and watched here as its run would watch it — renewal_overdue once the end of its ARI
 * window (core/ari.ts) has passed, expiry notices once its renewal time is past by the grace.
 */
function watchLazily(facts: SweepFacts, now: Date): SweepDecision {
  const finished = FINISHED_STATES.includes(facts.state);
  if (finished || (!facts.version && (facts.state === 'pending' || facts.state === 'issuing'))) return { action: { kind: 'none' }, expiryNotice: null, markOverdue: false };
  if (!facts.version) {
    return { action: { kind: 'alert', reason: `it has no issued version and is not being issued (state ${facts.state}); its ACME client must order it again` }, expiryNotice: null, markOverdue: false };
  }
  const renewAt = renewalTime({ ...facts.version, certificateId: facts.certificateId, renewBeforeSeconds: facts.renewBeforeSeconds });
  const overdue = now.getTime() >= suggestedWindow({ renewAt, notAfter: facts.version.notAfter }).end.getTime();
  const watched: SweepFacts = { ...facts, workflow: { kind: 'running', certState: facts.state, attempt: 0 } };
  const threshold = expiryThreshold(facts.version.notAfter, now);
  return {
    action: { kind: 'none' },
    expiryNotice: threshold !== null && !renewalWorks(watched, now) ? threshold : null,
    markOverdue: overdue && facts.state === 'active',
  };
}

function restartOrAlert(facts: SweepFacts): SweepAction {
  if (facts.state === 'revoking') return { kind: 'alert', reason: 'its revocation has no running workflow: revoke it again (POST /v1/certificates/:id/revoke)' };
  if (!facts.version) return { kind: 'alert', reason: `it has no issued version yet (state ${facts.state}); restarting would skip its approval` };
  if (renewedByClient(facts.keySource as KeySource)) {
    return { kind: 'alert', reason: `it is renewed by its ${facts.keySource === 'acme' ? 'ACME client' : 'cert-manager'}; the client must order its renewal` };
  }
  return { kind: 'restart' };
}

/** Whether a renewal will happen by itself: a healthy running lifecycle whose renewal is not overdue. */
function renewalWorks(facts: SweepFacts, now: Date): boolean {
  if (!facts.managed || facts.workflow.kind !== 'running' || !facts.version) return facts.workflow.kind === 'unknown';
  const state = facts.workflow.certState ?? facts.state;
  if (!HEALTHY_STATES.includes(state) || facts.workflow.attempt >= FAILING_ATTEMPTS) return false;
  if (state !== 'active') return true;
  const renewAt = renewalTime({
    issuedAt: facts.version.issuedAt,
    notAfter: facts.version.notAfter,
    certificateId: facts.certificateId,
    generation: facts.version.generation,
    renewBeforeSeconds: facts.renewBeforeSeconds,
  });
  return now.getTime() <= renewAt.getTime() + RENEWAL_GRACE_MS;
}
