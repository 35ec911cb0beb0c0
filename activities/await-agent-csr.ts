/**
 * For certificates whose key is made on an agent: opens the CSR request of a generation for the
 * certificate's agent and waits, heartbeating, until the agent has sent a CSR the API accepted
 * (api/routes/agents.ts checks it). Idempotent: a retry finds the request, or the CSR, already there.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { findAgent, findAgentCsr, openCsrRequest } from '../db/agents.js';
import { findCertificate } from '../db/certificates.js';
import type { ActivityDeps } from './deps.js';

const POLL_INTERVAL_MS = 750;

export interface AwaitAgentCsrInput {
  certificateId: string;
  generation: number;
}

export async function awaitAgentCsr(deps: ActivityDeps, input: AwaitAgentCsrInput): Promise<void> {
  const certificate = await findCertificate(deps.db, input.certificateId);
  if (!certificate) throw ApplicationFailure.nonRetryable(`certificate ${input.certificateId} does not exist`, BUSINESS_ERROR_TYPES.certificateNotFound);
  const destination = certificate.destinations.find((candidate) => candidate.type === 'agent');
  if (certificate.keySource !== 'agent' || destination?.type !== 'agent') {
    throw ApplicationFailure.nonRetryable(`the key of ${certificate.id} is not made on an agent (key source "${certificate.keySource}")`, BUSINESS_ERROR_TYPES.invalidRequest);
  }
  await openCsrRequest(deps.db, { certificateId: certificate.id, generation: input.generation, agentId: destination.agentId });

  const activity = Context.current();
  for (;;) {
    activity.heartbeat();
    const request = await findAgentCsr(deps.db, certificate.id, input.generation);
    if (request?.csrPem) return;
    // A revoked agent will never answer: waiting would hide the problem.
    if (!(await findAgent(deps.db, destination.agentId))) {
      throw ApplicationFailure.nonRetryable(`agent ${destination.agentId} of ${certificate.id} is revoked or gone; it cannot send the CSR`, BUSINESS_ERROR_TYPES.destinationRejected);
    }
    await activity.sleep(POLL_INTERVAL_MS);
  }
}
