/**
 * What a lifecycle workflow's history holds that a database restore may have lost: the versions it
 * signed (the issuing activity's result carries the signed PEM, activities/issue-certificate.ts) and
 * the reason of a revocation it received. Walks the run chain backwards (continue-as-new) as far
 * as needed.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { RevocationReason, VersionSummary } from '../core/types.js';
import { REVOCATION_REASONS } from '../core/types.js';

export type IssuedInHistory = VersionSummary & { certificatePem: string };

export interface LifecycleHistoryFacts {
  /** Versions signed, by generation (only those whose PEM the history carries). */
  versions: Map<number, IssuedInHistory>;
  revocationReason: RevocationReason | null;
}

/** Reads runs from the newest back until every generation from `fromGeneration` on is found, or the chain ends. */
export async function readLifecycleHistory(client: Client, workflowId: string, fromGeneration: number, maxRuns = 20): Promise<LifecycleHistoryFacts> {
  const facts: LifecycleHistoryFacts = { versions: new Map(), revocationReason: null };
  let runId: string | undefined = undefined;
  for (let runs = 0; runs < maxRuns; runs++) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    let previousRunId: string | undefined;
    for (const event of history.events ?? []) {
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) {
        previousRunId = started.continuedExecutionRunId || undefined;
        const input = decodeAll(started.input?.payloads)[0] as { revokeOnStart?: { reason?: string } } | undefined;
        facts.revocationReason ??= revocationReason(input?.revokeOnStart?.reason);
      }
      const signal = event.workflowExecutionSignaledEventAttributes;
      if (signal?.signalName === 'revoke') facts.revocationReason ??= revocationReason((decodeAll(signal.input?.payloads)[0] as { reason?: string } | undefined)?.reason);
      const marker = event.markerRecordedEventAttributes;
      if (marker?.details) {
        for (const payloads of Object.values(marker.details)) {
          for (const value of decodeAll(payloads?.payloads)) {
            const issued = issuedVersion(value);
            if (issued && issued.generation >= fromGeneration && !facts.versions.has(issued.generation)) facts.versions.set(issued.generation, issued);
          }
        }
      }
      const completed = event.activityTaskCompletedEventAttributes;
      for (const value of decodeAll(completed?.result?.payloads)) {
        const issued = issuedVersion(value);
        if (issued && issued.generation >= fromGeneration && !facts.versions.has(issued.generation)) facts.versions.set(issued.generation, issued);
      }
    }
    const oldest = Math.min(...facts.versions.keys());
    if (!previousRunId || oldest <= fromGeneration) break;
    runId = previousRunId;
  }
  return facts;
}

function decodeAll(payloads: readonly Payload[] | null | undefined): unknown[] {
  const values: unknown[] = [];
  for (const payload of payloads ?? []) {
    try {
      values.push(defaultPayloadConverter.fromPayload(payload));
    } catch {
      // Not a JSON payload (e.g. the local activity marker's own bookkeeping): nothing of ours.
    }
  }
  return values;
}

function issuedVersion(value: unknown): IssuedInHistory | null {
  if (typeof value !== 'object' || value === null) return null;
  const candidate = value as Partial<IssuedInHistory>;
  if (typeof candidate.certificatePem !== 'string' || typeof candidate.generation !== 'number' || typeof candidate.serial !== 'string' || typeof candidate.versionId !== 'string') return null;
  return candidate as IssuedInHistory;
}

function revocationReason(reason: string | undefined): RevocationReason | null {
  return reason && (REVOCATION_REASONS as readonly string[]).includes(reason) ? (reason as RevocationReason) : null;
}
