/**
 * Starting a new certificate's lifecycle workflow, and telling "it did not start" apart from "we do
 * not know": a start whose answer was lost (deadline exceeded, connection dropped) may have
 * happened, and deleting the certificate row then would leave a workflow owning nothing.
 *
 * - `started`: the start returned, or Temporal says the workflow exists.
 * - `not-started`: the request failed before reaching Temporal, or Temporal refused it outright.
 * - `undetermined`: neither could be established; the caller keeps the row.
 */
import { isGrpcServiceError, ServiceError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { startLifecycle, type StartLifecycle } from './lifecycle-client.js';

const START_DEADLINE_MS = 10_000;
const DESCRIBE_DEADLINE_MS = 3_000;

/**
 * gRPC status codes (fixed by the gRPC spec) with which the server refuses a request without
 * acting on it: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED,
 * FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED, UNAUTHENTICATED. Every other code (DEADLINE_EXCEEDED,
 * UNAVAILABLE, CANCELLED, UNKNOWN, INTERNAL, ...) leaves open whether the start happened.
 */
const REFUSALS: ReadonlySet<number> = new Set([3, 5, 7, 8, 9, 11, 12, 16]);

export type StartOutcome = { kind: 'started' } | { kind: 'not-started' | 'undetermined'; error: Error };

type Attempt = 'started' | 'refused' | 'ambiguous';

function classify(error: unknown): Attempt {
  if (error instanceof WorkflowExecutionAlreadyStartedError) return 'started';
  const grpc = isGrpcServiceError(error) ? error : error instanceof ServiceError && isGrpcServiceError(error.cause) ? error.cause : null;
  if (grpc) return REFUSALS.has(grpc.code) ? 'refused' : 'ambiguous';
  // A ServiceError without a gRPC status: the transport failed in a way that says nothing about the server.
  if (error instanceof ServiceError) return 'ambiguous';
  // Anything else is thrown while the request is being built (payload conversion), before any call.
  return 'refused';
}

async function attemptStart(client: Client, taskQueue: string, start: StartLifecycle): Promise<{ attempt: Attempt; error?: Error }> {
  try {
    await client.connection.withDeadline(Date.now() + START_DEADLINE_MS, () => startLifecycle(client, taskQueue, start));
    return { attempt: 'started' };
  } catch (error) {
    return { attempt: classify(error), error: error as Error };
  }
}

/** Whether the workflow exists: true, false, or null when Temporal cannot say. */
async function workflowExists(client: Client, workflowId: string): Promise<boolean | null> {
  try {
    await client.connection.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () => client.workflow.getHandle(workflowId).describe());
    return true;
  } catch (error) {
    return error instanceof WorkflowNotFoundError ? false : null;
  }
}

/**
 * Starts the lifecycle; after an ambiguous failure asks whether the workflow exists and, if
 * Temporal says it does not, starts it once more (a start of an existing id fails with
 * "already started", which is an answer too).
 */
export async function startAndConfirm(client: Client, taskQueue: string, workflowId: string, start: StartLifecycle): Promise<StartOutcome> {
  const first = await attemptStart(client, taskQueue, start);
  if (first.attempt === 'started') return { kind: 'started' };
  if (first.attempt === 'refused') return { kind: 'not-started', error: first.error! };
  const exists = await workflowExists(client, workflowId);
  if (exists) return { kind: 'started' };
  if (exists === null) return { kind: 'undetermined', error: first.error! };
  const second = await attemptStart(client, taskQueue, start);
  if (second.attempt === 'started') return { kind: 'started' };
  // A refusal now says nothing certain about the first attempt, which may still land.
  return { kind: 'undetermined', error: second.error! };
}
