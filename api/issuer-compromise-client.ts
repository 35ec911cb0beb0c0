/**
 * The API's narrow view of the issuerCompromise workflow: start it, and say where it is (running
 * with its phase, completed, failed). The query gets a deadline: a GET never hangs without a worker.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { issuerCompromiseWorkflowId, type CompromiseReport, type CompromiseStatus, type IssuerCompromiseInput } from '../core/issuer-compromise.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import type { issuerCompromise } from '../workflows/issuer-compromise.js';
import { drillStatusQuery } from '../contracts/issuer-compromise-messages.js';
import { queryOrNull } from './workflow-calls.js';

/** Starts the drill; throws WorkflowExecutionAlreadyStartedError while one runs for the issuer. */
export async function startIssuerCompromise(client: Client, taskQueue: string, input: IssuerCompromiseInput): Promise<string> {
  const workflowId = issuerCompromiseWorkflowId(input.issuerId);
  await client.workflow.start<typeof issuerCompromise>('issuerCompromise', {
    workflowId,
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [{ key: SEARCH_ATTRIBUTE_KEYS.issuerId, value: input.issuerId }],
  });
  return workflowId;
}

export type DrillRun =
  | { state: 'running'; status: CompromiseStatus | null }
  | { state: 'completed'; report: CompromiseReport }
  | { state: 'failed'; error: string };

/** The latest run of the issuer's drill, or null when none was ever started (or it is no longer retained). */
export async function describeIssuerCompromise(client: Client, issuerId: string): Promise<DrillRun | null> {
  const handle = client.workflow.getHandle<typeof issuerCompromise>(issuerCompromiseWorkflowId(issuerId));
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') {
    return { state: 'running', status: await queryOrNull(client, handle.workflowId, drillStatusQuery) };
  }
  if (status === 'COMPLETED') return { state: 'completed', report: await handle.result() };
  const error = await handle.result().then(
    () => status,
    (failure: unknown) => describeFailure(failure, status),
  );
  return { state: 'failed', error };
}

function describeFailure(failure: unknown, status: string): string {
  let cause: unknown = failure;
  const messages: string[] = [];
  while (cause instanceof Error && messages.length < 4) {
    messages.push(cause.message);
    cause = (cause as { cause?: unknown }).cause;
  }
  return `${status.toLowerCase()}: ${messages.filter(Boolean).join(': ') || 'no detail'}`;
}
