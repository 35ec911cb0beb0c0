/**
 * The Temporal Schedule `audit-checkpoint`: the `auditCheckpoint` workflow every minute, so at most a
 * minute of the newest audit rows can go missing unnoticed. Like the CRL schedule, every worker start
 * creates it or brings it up to date; overlapping runs are skipped.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export const AUDIT_CHECKPOINT_SCHEDULE_ID = 'audit-checkpoint';
export const AUDIT_CHECKPOINT_INTERVAL = '1 minute';

export async function ensureAuditCheckpointSchedule(client: Client, options: { taskQueue: string; scheduleId?: string; interval?: string }): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? AUDIT_CHECKPOINT_SCHEDULE_ID;
  const spec = { intervals: [{ every: options.interval ?? AUDIT_CHECKPOINT_INTERVAL }] };
  const action = { type: 'startWorkflow' as const, workflowType: 'auditCheckpoint', args: [], taskQueue: options.taskQueue, workflowId: scheduleId, workflowExecutionTimeout: '5 minutes' };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute', pauseOnFailure: false };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies, state: { note: 'managed by the Certflow worker (cmd/audit-schedule.ts)' } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies }));
  return 'updated';
}
