/**
 * Error tracking: every activity's failure is counted into its error group (db/error-groups.ts) before
 * it reaches the workflow, keyed by the error's type and normalised reason (core/error-reason.ts), with
 * the certificate it concerned. Recording never changes the outcome: a failure to record is logged.
 */
import { CancelledFailure, Context, log } from '@temporalio/activity';
import { failureReason, failureType } from '../core/error-reason.js';
import { ROLLOUT_ERROR_TYPES } from '../core/errors.js';
import { redactText } from '../core/redaction.js';
import { findCertificate } from '../db/certificates.js';
import { recordFailure } from '../db/error-groups.js';
import type { ActivityDeps } from './deps.js';

/** Failures that are the workflow's bookkeeping, not something going wrong. */
const NOT_FAILURES = new Set<string>([ROLLOUT_ERROR_TYPES.rolloutSuperseded]);

/** Each activity of `activities`, recording its failures into error groups. */
export function trackFailures<T extends Record<string, (...args: never[]) => Promise<unknown>>>(deps: Pick<ActivityDeps, 'db' | 'now'>, activities: T): T {
  const tracked: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, activity] of Object.entries(activities)) {
    tracked[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        if (!(error instanceof CancelledFailure) && !NOT_FAILURES.has(failureType(error))) {
          await noteFailure(deps, { activity: name, input: args[0], type: failureType(error), message: error instanceof Error ? error.message : String(error) });
        }
        throw error;
      }
    };
  }
  return tracked as T;
}

export interface ActivityFailure {
  activity: string;
  /** The activity's input: its `certificateId` names the certificate, else the workflow id does. */
  input: unknown;
  type: string;
  message: string;
}

/** Counts one failure into its group; called by trackFailures and by activities that report a failure without throwing. */
export async function noteFailure(deps: Pick<ActivityDeps, 'db' | 'now' | 'knownSecrets'>, failure: ActivityFailure): Promise<void> {
  const certificateId = certificateIdOf(failure.input);
  const message = redactText(failure.message, deps.knownSecrets).slice(0, 2_000);
  try {
    const certificate = certificateId ? await findCertificate(deps.db, certificateId) : null;
    await recordFailure(deps.db, {
      teamId: certificate?.teamId ?? null,
      certificateId: certificate?.id ?? null,
      type: failure.type,
      reason: failureReason(message),
      message,
      activity: failure.activity,
      at: deps.now(),
    });
    logInActivity('warn', 'activity failed', { activity: failure.activity, errorType: failure.type, certificateId: certificate?.id, reason: message });
  } catch (error) {
    logInActivity('error', 'could not record the failure in its error group', { activity: failure.activity, errorType: failure.type, certificateId, error: (error as Error).message });
  }
}

function certificateIdOf(input: unknown): string | null {
  const fromInput = input && typeof input === 'object' ? (input as { certificateId?: unknown }).certificateId : undefined;
  if (typeof fromInput === 'string' && fromInput !== '') return fromInput;
  try {
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    return /^certificate\/(.+)$/.exec(workflowId)?.[1] ?? null;
  } catch {
    return null; // called outside an activity (a unit test)
  }
}

/** The activity's logger; nothing outside an activity (a direct call, as from a test), where it would throw. */
function logInActivity(level: 'warn' | 'error', message: string, attributes: Record<string, unknown>): void {
  try {
    Context.current();
  } catch {
    return;
  }
  log[level](message, attributes);
}
