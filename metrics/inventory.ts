/**
 * Gauges of the inventory (certificates, expiry, approvals, CRLs, bulk operations, ACME orders), computed from
 * Postgres when Prometheus scrapes, by a few aggregate queries (db/metrics-inventory.ts) whose result is kept
 * for `cacheSeconds`: concurrent or frequent scrapes (several Prometheus, several API replicas) cost one round of
 * queries per process and period, and the figures are always the database's, whichever process changed it.
 */
import { Gauge, type Registry } from 'prom-client';
import { teamLabels } from '../core/metrics-labels.js';
import { EXPIRY_BUCKETS_SECONDS, loadInventorySnapshot, type InventorySnapshot } from '../db/metrics-inventory.js';
import type { Database } from '../db/database.js';
import { describeError, scrapeCache } from './scrape-cache.js';

export interface InventoryMetricsOptions {
  db: Database;
  now: () => Date;
  /** Teams beyond this many (by name) share the team label `_other` (CERTFLOW_METRICS_MAX_TEAMS). */
  maxTeams: number;
  cacheSeconds: number;
  log?: (message: string) => void;
}

export function registerInventoryMetrics(registry: Registry, options: InventoryMetricsOptions): void {
  const snapshot = scrapeCache(options.cacheSeconds, () => loadInventorySnapshot(options.db, options.now()), (error) =>
    options.log?.(`metrics: reading the inventory failed: ${describeError(error)}`),
  );
  new Gauge({
    name: 'certflow_inventory_up',
    help: '1 when the inventory gauges could be read from Postgres at this scrape, 0 when the queries failed (the gauges are then absent).',
    registers: [registry],
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (gauge: Gauge<L>, inventory: InventorySnapshot, team: (name: string) => string) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const inventory = await snapshot();
        if (!inventory) return; // certflow_inventory_up says why the gauges are empty
        const labels = teamLabels(inventory.teamNames, options.maxTeams);
        fill(this, inventory, (team) => labels.get(team) ?? team);
      },
    });
  const add = <L extends string>(target: Gauge<L>, labels: Partial<Record<L, string>>, value: number) => target.inc(labels, value);
  /** Per team label, the least (or greatest) value: teams sharing `_other` show their extreme. */
  const extremes = (values: Array<[string, number]>, pick: (a: number, b: number) => number) => {
    const byLabel = new Map<string, number>();
    for (const [label, value] of values) byLabel.set(label, byLabel.has(label) ? pick(byLabel.get(label)!, value) : value);
    return byLabel;
  };

  gauge('certflow_teams', 'Teams (the team label is capped at CERTFLOW_METRICS_MAX_TEAMS; the rest share team="_other").', [], (g, inv) => g.set(inv.teamNames.length));
  gauge('certflow_certificates', 'Managed certificates by state, team and the issuer of their current version (issuer="none" before the first issuance).', ['team', 'state', 'issuer'], (g, inv, team) => {
    for (const row of inv.certificates) add(g, { team: team(row.team), state: row.state, issuer: row.issuer }, row.count);
  });
  gauge('certflow_certificate_expiry_soonest_timestamp_seconds', 'The soonest notAfter of a live certificate\'s current version, per team (Unix seconds).', ['team'], (g, inv, team) => {
    const soonest = extremes(inv.expiryByTeam.map((row) => [team(row.team), row.soonestNotAfter.getTime() / 1000]), Math.min);
    for (const [label, value] of soonest) g.set({ team: label }, value);
  });
  gauge(
    'certflow_certificates_expiring_unrenewed',
    'Live certificates whose current version expires within 7 days (or within a quarter of its lifetime when shorter): a renewal should have replaced it by then.',
    ['team'],
    (g, inv, team) => {
      for (const row of inv.expiryByTeam) add(g, { team: team(row.team) }, row.expiringUnrenewed);
    },
  );
  gauge('certflow_approvals_pending', 'Approvals waiting for a decision, per team.', ['team'], (g, inv, team) => {
    for (const row of inv.approvalsByTeam) add(g, { team: team(row.team) }, row.pending);
  });
  gauge('certflow_approval_oldest_pending_age_seconds', 'Age of the oldest approval waiting for a decision, per team.', ['team'], (g, inv, team) => {
    const now = options.now().getTime();
    const oldest = extremes(inv.approvalsByTeam.map((row) => [team(row.team), (now - row.oldestRequestedAt.getTime()) / 1000]), Math.max);
    for (const [label, age] of oldest) g.set({ team: label }, age);
  });
  gauge('certflow_approvals_past_half_deadline', 'Approvals still waiting past half of the time to their deadline, per team.', ['team'], (g, inv, team) => {
    for (const row of inv.approvalsByTeam) add(g, { team: team(row.team) }, row.pastHalfDeadline);
  });
  gauge('certflow_crl_this_update_timestamp_seconds', 'thisUpdate of the latest published CRL, per issuer that still publishes (not revoked, not expired; Unix seconds).', ['issuer'], (g, inv) => {
    for (const crl of inv.crls) g.set({ issuer: crl.issuer }, crl.thisUpdate.getTime() / 1000);
  });
  gauge('certflow_crl_next_update_timestamp_seconds', 'nextUpdate of the latest published CRL, per issuer (Unix seconds): relying parties treat the CRL as stale after it.', ['issuer'], (g, inv) => {
    for (const crl of inv.crls) g.set({ issuer: crl.issuer }, crl.nextUpdate.getTime() / 1000);
  });
  gauge('certflow_crl_age_seconds', 'Seconds since thisUpdate of the latest published CRL, per issuer.', ['issuer'], (g, inv) => {
    const now = options.now().getTime();
    for (const crl of inv.crls) g.set({ issuer: crl.issuer }, (now - crl.thisUpdate.getTime()) / 1000);
  });
  gauge('certflow_bulk_operations', 'Bulk reissue operations by state.', ['state'], (g, inv) => {
    for (const row of inv.bulkOperationsByState) add(g, { state: row.state }, row.count);
  });
  gauge(
    'certflow_bulk_operation_certificates',
    'Progress of unfinished bulk operations (running, paused, cancelling; at most 50): certificates per stage (selected, sent, reissued, rolled_out, verified, failed, skipped, revoked), as last recorded.',
    ['bulk_operation', 'stage'],
    (g, inv) => {
      for (const operation of inv.unfinishedBulkOperations) {
        for (const [stage, count] of Object.entries(operation.counts)) g.set({ bulk_operation: operation.id, stage }, Number(count) || 0);
      }
    },
  );
  gauge('certflow_acme_orders', 'ACME orders by status (pending, ready, processing, valid, invalid; expired: pending or ready past their expiry).', ['status'], (g, inv) => {
    for (const row of inv.acmeOrdersByStatus) add(g, { status: row.status }, row.count);
  });
  registry.registerMetric(expiryHistogram(snapshot));
}

/** The seconds-to-expiry histogram, its buckets counted by Postgres (prom-client's Histogram only observes). */
function expiryHistogram(snapshot: () => Promise<InventorySnapshot | null>) {
  const name = 'certflow_certificate_expiry_seconds';
  const metric = { name, help: 'Seconds until the current version of each live certificate expires (negative: expired).', type: 'histogram', aggregator: 'first' } as const;
  return {
    ...metric,
    async get() {
      const inventory = await snapshot();
      if (!inventory) return { ...metric, values: [] };
      const histogram = inventory.expiryHistogram;
      const bucket = (le: string, value: number) => ({ metricName: `${name}_bucket`, labels: { le }, value });
      return {
        ...metric,
        values: [
          ...histogram.buckets.map((b) => bucket(String(b.le), b.count)),
          bucket('+Inf', histogram.count),
          { metricName: `${name}_sum`, labels: {}, value: histogram.sumSeconds },
          { metricName: `${name}_count`, labels: {}, value: histogram.count },
        ],
      };
    },
    reset() {},
  } as unknown as Parameters<Registry['registerMetric']>[0];
}

export { EXPIRY_BUCKETS_SECONDS };
