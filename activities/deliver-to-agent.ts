/**
 * Delivery to a `certflow agent`: the dispatcher (deliver-version.ts) has opened the rollout row as
 * `pending`; the agent pulls it, deploys it and reports. This waits, heartbeating, for that report.
 * The report deadline counts from when the row went pending and survives activity retries: it is
 * carried in the heartbeat details, so a retry does not start the clock again.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES, ROLLOUT_ERROR_TYPES } from '../core/errors.js';
import type { AgentDestination } from '../core/types.js';
import { reopenAgentDelivery } from '../db/agents.js';
import { findRollout, updateRollout, type DeliveryRow } from '../db/deliveries.js';
import type { DeliveryContext, DeliveryReport } from './delivery-context.js';
import type { ActivityDeps } from './deps.js';

const POLL_INTERVAL_MS = 750;

/** What the heartbeats carry from one attempt to the next. */
interface WaitProgress {
  pendingSinceMs: number;
  /** The agent's last failure report, for the timeout's message. */
  lastFailure?: string;
}

export type ReportAssessment =
  | { kind: 'deployed'; deployedSerial: string }
  | { kind: 'waiting' }
  | { kind: 'failed'; message: string }
  | { kind: 'timed_out'; message: string }
  | { kind: 'superseded'; message: string };

/**
 * Reads the rollout row as the workflow must see it. Pure, so every outcome is testable. Once the
 * deadline has passed, a failure report ends the wait too, and the timeout names the agent's last error.
 */
export function assessAgentReport(
  row: Pick<DeliveryRow, 'rolloutKey' | 'state' | 'deployedSerial' | 'lastError'> | null,
  expected: { rolloutKey: string; serial: string; agentId: string; deadlineMs: number; reportTimeoutSeconds: number; lastFailure?: string | undefined },
  nowMs: number,
): ReportAssessment {
  if (!row || row.rolloutKey !== expected.rolloutKey) {
    return { kind: 'superseded', message: `rollout ${expected.rolloutKey} was replaced by another request before agent ${expected.agentId} reported` };
  }
  let failure: string | null = null;
  if (row.lastError !== null) {
    failure = `agent ${expected.agentId} could not deploy serial ${expected.serial}: ${row.lastError}`;
  } else if (row.deployedSerial !== null) {
    if (row.deployedSerial.toLowerCase() === expected.serial.toLowerCase()) return { kind: 'deployed', deployedSerial: row.deployedSerial };
    failure = `agent ${expected.agentId} reported serial ${row.deployedSerial} deployed, but the version to deploy has serial ${expected.serial}`;
  }
  if (nowMs >= expected.deadlineMs) {
    const last = failure ?? expected.lastFailure;
    const message = `agent ${expected.agentId} did not report deploying serial ${expected.serial} within ${expected.reportTimeoutSeconds} s`;
    return { kind: 'timed_out', message: last ? `${message}; last report: ${last}` : message };
  }
  return failure ? { kind: 'failed', message: failure } : { kind: 'waiting' };
}

export async function deliverToAgent(deps: ActivityDeps, context: DeliveryContext, destination: AgentDestination): Promise<DeliveryReport> {
  if (context.certificate.keySource === 'server') {
    // Server-made keys never travel to hosts: the API refuses such destinations; older rows end here.
    throw ApplicationFailure.nonRetryable(
      `certificate ${context.certificate.id} has a server-generated key, which is never sent to agents; use a CSR or let the agent make the key`,
      BUSINESS_ERROR_TYPES.destinationRejected,
    );
  }
  const activity = Context.current();
  const key = { versionId: context.version.id, destinationIndex: context.destinationIndex, rolloutKey: context.rolloutKey };
  const progress = await startProgress(deps, key, activity.info);
  const expected = {
    rolloutKey: context.rolloutKey,
    serial: context.version.serial,
    agentId: destination.agentId,
    deadlineMs: progress.pendingSinceMs + destination.reportTimeoutSeconds * 1000,
    reportTimeoutSeconds: destination.reportTimeoutSeconds,
  };

  for (;;) {
    activity.heartbeat(progress);
    const row = await findRollout(deps.db, key.versionId, key.destinationIndex);
    const outcome = assessAgentReport(row, { ...expected, lastFailure: progress.lastFailure }, deps.now().getTime());
    switch (outcome.kind) {
      case 'deployed':
        return { deployedSerial: outcome.deployedSerial };
      case 'failed':
        // Hand the rollout back to the agent; the retry of this activity waits for its next report.
        progress.lastFailure = outcome.message;
        activity.heartbeat(progress);
        await reopenAgentDelivery(deps.db, key);
        throw ApplicationFailure.retryable(outcome.message, 'AgentDeploymentFailed');
      case 'timed_out':
        // Withdraw the assignment so the agent does not deploy it after the workflow has moved on.
        await updateRollout(deps.db, key, { state: 'failed', lastError: outcome.message });
        throw ApplicationFailure.nonRetryable(outcome.message, ROLLOUT_ERROR_TYPES.deliveryTimeout);
      case 'superseded':
        throw ApplicationFailure.nonRetryable(outcome.message, ROLLOUT_ERROR_TYPES.rolloutSuperseded);
      case 'waiting':
        await activity.sleep(POLL_INTERVAL_MS);
    }
  }
}

/**
 * When the row went pending: from the previous attempt's heartbeat if there was one; on the first
 * attempt, the row's updated_at; on a retry that never heartbeated, the first scheduling of the activity.
 */
async function startProgress(
  deps: ActivityDeps,
  key: { versionId: string; destinationIndex: number },
  info: { attempt: number; heartbeatDetails: unknown; scheduledTimestampMs: number },
): Promise<WaitProgress> {
  const previous = info.heartbeatDetails as Partial<WaitProgress> | undefined;
  if (typeof previous?.pendingSinceMs === 'number') {
    return typeof previous.lastFailure === 'string' ? { pendingSinceMs: previous.pendingSinceMs, lastFailure: previous.lastFailure } : { pendingSinceMs: previous.pendingSinceMs };
  }
  if (info.attempt > 1) return { pendingSinceMs: info.scheduledTimestampMs };
  const row = await findRollout(deps.db, key.versionId, key.destinationIndex);
  return { pendingSinceMs: row?.updatedAt.getTime() ?? deps.now().getTime() };
}
