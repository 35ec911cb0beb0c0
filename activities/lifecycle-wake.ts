/**
 * The worker's side of a lazily started lifecycle (core/lazy-lifecycle.ts): a message for an issued
 * ACME certificate that has no run yet starts one, in its watch, with the message.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { lazyStartOptions, startsLazily } from '../core/lazy-lifecycle.js';
import { findCertificate } from '../db/certificates.js';
import { findTeam } from '../db/teams.js';
import { findVersion } from '../db/versions.js';
import type { certificateLifecycle } from '../workflows/certificate-lifecycle.js';
import type { ActivityDeps } from './deps.js';

/**
 * Signals the certificate's lifecycle, starting it when the certificate starts lazily and is
 * issued. False when it has no lifecycle to signal: not a lazy one, not issued, or its run closed.
 */
export async function startLazily<Args extends unknown[]>(deps: ActivityDeps, target: { certificateId: string; workflowId: string }, signal: SignalDefinition<Args>, args: Args): Promise<boolean> {
  const certificate = await findCertificate(deps.db, target.certificateId);
  if (!certificate || !startsLazily(certificate) || !certificate.currentVersionId) return false;
  const version = await findVersion(deps.db, certificate.currentVersionId);
  if (!version) return false;
  const team = await findTeam(deps.db, certificate.teamId);
  try {
    await deps.temporal.workflow.signalWithStart<typeof certificateLifecycle, unknown[]>('certificateLifecycle', {
      ...lazyStartOptions({ ...certificate, teamName: team?.name ?? certificate.teamId }, version.generation, target.workflowId, Context.current().info.taskQueue),
      // The generic signal's arguments, checked at the call: the SDK's options type cannot carry them through.
      signal: signal as SignalDefinition<unknown[]>,
      signalArgs: args,
    });
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw error;
  }
}
