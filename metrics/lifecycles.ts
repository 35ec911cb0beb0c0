/**
 * Gauges of the lifecycle workflows' live state, from Temporal visibility (the CertState and RenewalAttempt
 * search attributes) when Prometheus scrapes, cached. Postgres records only some states (pending, active,
 * rollout_failed, renewal_overdue, revoked, …: `certflow_certificates`); issuing, renewing and failed live in
 * the workflow, so they are counted here: one count query per state, no per-certificate label.
 */
import type { Client } from '@temporalio/client';
import { Gauge, type Registry } from 'prom-client';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { describeError, scrapeCache } from './scrape-cache.js';

export const COUNTED_LIFECYCLE_STATES = ['issuing', 'renewing', 'failed', 'rollout_failed', 'awaiting_approval'] as const;

export function registerLifecycleMetrics(registry: Registry, options: { temporal: Client; cacheSeconds: number; log?: (message: string) => void }): void {
  const running = 'WorkflowType = "certificateLifecycle" AND ExecutionStatus = "Running"';
  const counts = scrapeCache(
    options.cacheSeconds,
    async () => {
      const count = async (clause: string) => (await options.temporal.workflow.count(`${running} AND ${clause}`)).count;
      const states = await Promise.all(COUNTED_LIFECYCLE_STATES.map(async (state) => [state, await count(`${SEARCH_ATTRIBUTE_KEYS.certState.name} = "${state}"`)] as const));
      const retrying = await count(`${SEARCH_ATTRIBUTE_KEYS.renewalAttempt.name} >= 1`);
      return { states, retrying };
    },
    (error) => options.log?.(`metrics: counting lifecycle workflows failed: ${describeError(error)}`),
  );
  new Gauge({
    name: 'certflow_lifecycle_workflows',
    help: 'Running certificate lifecycle workflows in a state, from Temporal visibility (issuing, renewing, failed, rollout_failed, awaiting_approval).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, value] of (await counts())?.states ?? []) this.set({ state }, value);
    },
  });
  new Gauge({
    name: 'certflow_lifecycle_workflows_retrying',
    help: 'Running lifecycle workflows whose current step has failed at least once (RenewalAttempt >= 1), from Temporal visibility.',
    registers: [registry],
    async collect() {
      const value = await counts();
      if (value) this.set(value.retrying);
      else this.reset();
    },
  });
}
