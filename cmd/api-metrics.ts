/**
 * The API process's metrics (metrics/): its registry, what its routes record, the inventory gauges read from
 * Postgres and the schedule gauges read from Temporal at scrape time. Inventory gauges live on the API only
 * (not the worker), so one kind of process answers for them; with several API replicas every replica reports
 * the same figures, and the shipped alerts aggregate with max/min across instances.
 */
import type { Client } from '@temporalio/client';
import type { ApiDeps } from '../api/deps.js';
import type { Database } from '../db/database.js';
import { createApiMetrics } from '../metrics/api-metrics.js';
import { registerInventoryMetrics } from '../metrics/inventory.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { registerScheduleMetrics } from '../metrics/schedules.js';
import { registerLifecycleMetrics } from '../metrics/lifecycles.js';
import type { MetricsSettings } from './config.js';
import { AUDIT_CHECKPOINT_SCHEDULE_ID, CRL_PUBLICATION_SCHEDULE_ID } from './schedule-ids.js';

export function apiMetrics(options: {
  db: Database;
  temporal: Client;
  now: () => Date;
  settings: Pick<MetricsSettings, 'token' | 'maxTeams' | 'cacheSeconds'>;
  production: boolean;
  log: (message: string) => void;
}): NonNullable<ApiDeps['metrics']> {
  const registry = createMetricsRegistry();
  const { settings } = options;
  registerInventoryMetrics(registry, { db: options.db, now: options.now, maxTeams: settings.maxTeams, cacheSeconds: settings.cacheSeconds, log: options.log });
  registerScheduleMetrics(registry, {
    temporal: options.temporal,
    scheduleIds: [CRL_PUBLICATION_SCHEDULE_ID, AUDIT_CHECKPOINT_SCHEDULE_ID],
    cacheSeconds: settings.cacheSeconds,
    log: options.log,
  });
  registerLifecycleMetrics(registry, { temporal: options.temporal, cacheSeconds: settings.cacheSeconds, log: options.log });
  return { registry, api: createApiMetrics(registry), access: { token: settings.token, refuseWithoutToken: options.production } };
}
