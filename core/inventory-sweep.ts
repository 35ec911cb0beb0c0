/**
 * The inventory sweep's decisions (pure): what to do about one certificate, from its row, its
 * current version and what Temporal says about its lifecycle workflow. The sweep (activities/
 * inventory-sweep.ts) gathers the facts and carries the decision out.
 */
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
}

export function decideSweep(facts: SweepFacts, now: Date): SweepDecision {
  const finished = FINISHED_STATES.includes(facts.state);
  const notRunning = facts.workflow.kind === 'closed' || facts.workflow.kind === 'not_found';
  let action: SweepAction = { kind: 'none' };
  if (facts.managed && !finished && notRunning) action = restartOrAlert(facts);
  const threshold = facts.version && !finished ? expiryThreshold(facts.version.notAfter, now) : null;
  const expiryNotice = threshold !== null && !renewalWorks(facts, now) ? threshold : null;
  return { action, expiryNotice };
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
