/**
 * Queries and updates from the API run on a worker, so each gets a deadline: a request answers
 * (null, or a 503) instead of hanging when no worker is up. Shared by every workflow client.
 */
import type { Client } from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';

const QUERY_DEADLINE_MS = 2_000;
const UPDATE_DEADLINE_MS = 30_000;

/** The query's answer, or null when it cannot be had within the deadline (no worker, workflow gone). */
export async function queryOrNull<Result>(client: Client, workflowId: string, query: QueryDefinition<Result, []>): Promise<Result | null> {
  try {
    return await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => client.workflow.getHandle(workflowId).query(query));
  } catch {
    return null;
  }
}

/** Runs a validated update (our updates take one argument) and waits for its result, within the update deadline. */
export async function executeUpdateWithin<Result, Arg>(client: Client, workflowId: string, update: UpdateDefinition<Result, [Arg]>, arg: Arg): Promise<Result> {
  return client.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () => client.workflow.getHandle(workflowId).executeUpdate(update, { args: [arg] }));
}
