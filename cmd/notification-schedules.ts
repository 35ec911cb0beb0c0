/**
 * The Temporal Schedules of notifications and the safety net: `notification-delivery` (the outbox,
 * every few seconds) and `inventory-sweep` (hourly). Like the CRL and audit schedules, every worker
 * start creates them or brings them up to date; overlapping runs are skipped.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export const NOTIFICATION_DELIVERY_SCHEDULE_ID = 'notification-delivery';
export const INVENTORY_SWEEP_SCHEDULE_ID = 'inventory-sweep';

interface ScheduleOptions {
  taskQueue: string;
  intervalSeconds: number;
  scheduleId?: string;
}

export function ensureNotificationDeliverySchedule(client: Client, options: ScheduleOptions): Promise<'created' | 'updated'> {
  return ensureSchedule(client, options.scheduleId ?? NOTIFICATION_DELIVERY_SCHEDULE_ID, 'notificationDelivery', [], options, '10 minutes');
}

/** `teamId` sweeps one team only (tests and targeted runs); absent: everything. */
export function ensureInventorySweepSchedule(client: Client, options: ScheduleOptions & { teamId?: string }): Promise<'created' | 'updated'> {
  return ensureSchedule(client, options.scheduleId ?? INVENTORY_SWEEP_SCHEDULE_ID, 'inventorySweep', [options.teamId ? { teamId: options.teamId } : {}], options, '1 hour');
}

async function ensureSchedule(client: Client, scheduleId: string, workflowType: string, args: unknown[], options: ScheduleOptions, timeout: string): Promise<'created' | 'updated'> {
  const spec = { intervals: [{ every: `${options.intervalSeconds} seconds` }] };
  const action = { type: 'startWorkflow' as const, workflowType, args, taskQueue: options.taskQueue, workflowId: scheduleId, workflowExecutionTimeout: timeout };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute', pauseOnFailure: false };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies, state: { note: 'managed by the Certflow worker (cmd/notification-schedules.ts)' } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies }));
  return 'updated';
}
