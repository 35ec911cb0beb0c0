/**
 * Gauges of the platform's Temporal Schedules (CRL publication, audit checkpoints), from the schedules'
 * descriptions when Prometheus scrapes (cached like the inventory): when each last fired, how late that was
 * against its scheduled time, and its interval — what "the schedule is lagging" is judged by.
 */
import type { Client } from '@temporalio/client';
import { Gauge, type Registry } from 'prom-client';
import { describeError, scrapeCache } from './scrape-cache.js';

export interface ScheduleMetricsOptions {
  temporal: Client;
  scheduleIds: string[];
  cacheSeconds: number;
  log?: (message: string) => void;
}

interface ScheduleFigures {
  schedule: string;
  lastActionAt: Date | null;
  lastActionDelaySeconds: number | null;
  intervalSeconds: number | null;
}

export function registerScheduleMetrics(registry: Registry, options: ScheduleMetricsOptions): void {
  const figures = scrapeCache(
    options.cacheSeconds,
    async () => (await Promise.all(options.scheduleIds.map((id) => describe(options, id)))).flatMap((f) => (f ? [f] : [])),
    () => undefined, // describe() logs and skips each failure itself
  );
  const gauge = (name: string, help: string, value: (figures: ScheduleFigures) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['schedule'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const schedule of (await figures()) ?? []) {
          const v = value(schedule);
          if (v !== null) this.set({ schedule: schedule.schedule }, v);
        }
      },
    });
  gauge('certflow_schedule_last_action_timestamp_seconds', 'When the Temporal Schedule last started its workflow (Unix seconds).', (f) => (f.lastActionAt ? f.lastActionAt.getTime() / 1000 : null));
  gauge('certflow_schedule_last_action_delay_seconds', 'How long after its scheduled time the last action was taken.', (f) => f.lastActionDelaySeconds);
  gauge('certflow_schedule_interval_seconds', 'The Temporal Schedule\'s interval.', (f) => f.intervalSeconds);
}

/** Null when the schedule does not exist (yet) or Temporal does not answer: its gauges are then absent. */
async function describe(options: ScheduleMetricsOptions, scheduleId: string): Promise<ScheduleFigures | null> {
  try {
    const description = await options.temporal.schedule.getHandle(scheduleId).describe();
    const recent = description.info.recentActions.at(-1);
    const every = description.spec.intervals?.[0]?.every;
    return {
      schedule: scheduleId,
      lastActionAt: recent?.takenAt ?? null,
      lastActionDelaySeconds: recent ? Math.max(0, (recent.takenAt.getTime() - recent.scheduledAt.getTime()) / 1000) : null,
      intervalSeconds: every ? every / 1000 : null,
    };
  } catch (error) {
    options.log?.(`metrics: describing schedule ${scheduleId} failed: ${describeError(error)}`);
    return null;
  }
}
