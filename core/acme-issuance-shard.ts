/**
 * ACME issuance shards: new ACME certificates that need no approval are signed by a few long-lived
 * workflows (`acme-issuance/<task queue>/<shard>`, workflows/acme-issuance-shard.ts) instead of a lifecycle
 * workflow each. Finalize signals `issue(certificateId)` with start to the certificate's shard; the
 * shard collects ids and signs them in batches through one activity. Pure decisions, shared by the
 * API (which shard), the workflow (what to do next) and reconcile (where a version was signed).
 */
import type { VersionSummary } from './types.js';

export const ACME_ISSUANCE_WORKFLOW_TYPE = 'acmeIssuanceShard';
export const ACME_ISSUE_SIGNAL = 'issue';
/** The generation of a certificate finalize has just created. */
export const ACME_FIRST_GENERATION = 1;

export interface AcmeShardInput {
  shard: number;
  batchSize: number;
  /** Ids signalled to an earlier run and not yet signed (carried over by continue-as-new). */
  pending: string[];
  /** Batches per run before it continues as new; absent: ACME_SHARD_MAX_BATCHES (tests set fewer). */
  maxBatches?: number;
}

/** FNV-1a of the id, mod `shards`: the same certificate always goes to the same shard. */
export function acmeShardOf(certificateId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < certificateId.length; index++) {
    hash ^= certificateId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, shards);
}

/**
 * `acme-issuance/<task queue>/<shard>`: the task queue is in the id because workflow ids are per
 * namespace, and a shard started on one task queue is only ever served by that queue's workers
 * (two deployments, or the integration tests' files, sharing a namespace must not share shards).
 */
export function acmeShardWorkflowId(taskQueue: string, shard: number): string {
  return `acme-issuance/${taskQueue}/${shard}`;
}

/** Adds ids not pending yet, keeping arrival order. */
export function addPending(pending: readonly string[], ids: readonly string[]): string[] {
  const next = [...pending];
  const seen = new Set(pending);
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    next.push(id);
  }
  return next;
}

/** The oldest `batchSize` pending ids, and the rest. */
export function takeBatch(pending: readonly string[], batchSize: number): { batch: string[]; rest: string[] } {
  const size = Math.max(1, batchSize);
  return { batch: pending.slice(0, size), rest: pending.slice(size) };
}

/**
 * One certificate's outcome in a batch (the activity's result, kept in the shard's history):
 * `issued` carries the signed PEM, which `certflow reconcile` reads back after a database restore.
 */
export type AcmeIssuanceOutcome =
  | { certificateId: string; kind: 'issued'; version: VersionSummary & { certificatePem: string } }
  /** Revoked before it was signed, or gone: nothing to sign. */
  | { certificateId: string; kind: 'skipped'; reason: 'revoked' | 'not_found' }
  /** Refused by the pipeline, or failed every attempt: its lifecycle workflow takes it over. */
  | { certificateId: string; kind: 'failed'; refused: boolean; error: string };

/** The ids whose lifecycle workflow must take them over. */
export function toHandOver(outcomes: readonly AcmeIssuanceOutcome[]): string[] {
  return outcomes.filter((outcome) => outcome.kind === 'failed').map((outcome) => outcome.certificateId);
}

/**
 * Whether the run should continue as new before its next batch: when Temporal suggests it (history
 * size or length), or after `maxBatches` batches, so the history replayed on a cache miss stays short.
 */
export function shouldContinueAsNew(run: { suggested: boolean; batches: number; maxBatches: number }): boolean {
  return run.suggested || run.batches >= run.maxBatches;
}

/** Batches of one run before it continues as new. */
export const ACME_SHARD_MAX_BATCHES = 200;
