/**
 * History per renewal cycle: the run before a workflow's current one is a whole cycle (started, its task(s),
 * the wait, the signal, continueAsNew). Its length and size as the server counts them (DescribeWorkflowExecution).
 */
import type { Client } from '@temporalio/client';

export interface CycleHistory {
  events: number;
  bytes: number;
}

export async function closedCycleHistory(client: Client, workflowId: string): Promise<CycleHistory> {
  const current = await client.workflow.getHandle(workflowId).fetchHistory();
  const previousRunId = current.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  if (!previousRunId) throw new Error(`${workflowId}: its current run did not continue another`);
  const previous = await client.workflow.getHandle(workflowId, previousRunId).describe();
  return { events: previous.historyLength, bytes: previous.historySize ?? 0 };
}

/** Mean over several workflows (their runs differ a little: retries, verification polls). */
export async function meanCycleHistory(client: Client, workflowIds: string[]): Promise<CycleHistory> {
  const all = await Promise.all(workflowIds.map((id) => closedCycleHistory(client, id)));
  return { events: all.reduce((a, b) => a + b.events, 0) / all.length, bytes: all.reduce((a, b) => a + b.bytes, 0) / all.length };
}
